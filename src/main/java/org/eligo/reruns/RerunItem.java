package org.eligo.reruns;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

/**
 * One beneficiary of a rerun: one row of {@code rerun_item} (V5__reruns.sql), owned by
 * {@link Reruns}. Once DONE it names the determination the run made and the one before it, and
 * whether the result changed.
 */
@Entity
@Table(name = "rerun_item")
@IdClass(RerunItem.Key.class)
public class RerunItem {

    /** The primary key: a run and one of its beneficiaries. */
    public static class Key implements Serializable {
        public String rerunId;
        public String beneficiaryId;

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && Objects.equals(rerunId, key.rerunId) && Objects.equals(beneficiaryId, key.beneficiaryId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(rerunId, beneficiaryId);
        }
    }

    @Id
    @Column(name = "rerun_id")
    public String rerunId;

    @Id
    @Column(name = "beneficiary_id")
    public String beneficiaryId;

    @Enumerated(EnumType.STRING)
    public RerunItemState state;

    @Column(name = "determination_id")
    public String determinationId;

    @Column(name = "previous_determination_id")
    public String previousDeterminationId;

    @Column(name = "previous_result")
    public String previousResult;

    public String result;

    /** A result that differs from an earlier determination's; a first determination is no change. */
    public Boolean changed;

    public String error;

    @Column(name = "finished_at")
    public Instant finishedAt;
}
