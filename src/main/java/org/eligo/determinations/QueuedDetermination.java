package org.eligo.determinations;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

/**
 * A determination waiting to be made: one row of {@code determination_queue} per beneficiary,
 * period and ruleset, however many changes arrive (V4__rulesets_and_determinations.sql). Its owner
 * is {@link DeterminationQueue}, whose statements are set-wise or read the database's clock; a
 * claimed row travels through the work engine as a {@link DeterminationQueue.Pending}.
 */
@Entity
@Table(name = "determination_queue")
@IdClass(QueuedDetermination.Key.class)
public class QueuedDetermination {

    /** The primary key: what is to be determined. */
    public static class Key implements Serializable {
        public String beneficiaryId;
        public String period;
        public String rulesetId;

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && Objects.equals(beneficiaryId, key.beneficiaryId) && Objects.equals(period, key.period)
                    && Objects.equals(rulesetId, key.rulesetId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(beneficiaryId, period, rulesetId);
        }
    }

    @Id
    @Column(name = "beneficiary_id")
    public String beneficiaryId;

    @Id
    public String period;

    @Id
    @Column(name = "ruleset_id")
    public String rulesetId;

    /** When the first change not yet determined arrived: the settle time is bounded from it. */
    @Column(name = "requested_at")
    public Instant requestedAt;

    /** When it is due; 'infinity' at its dead end (see {@link DeterminationQueue}). */
    @Column(name = "next_attempt_at")
    public Instant nextAttemptAt;

    public int attempts;

    @Column(name = "last_error")
    public String lastError;
}
