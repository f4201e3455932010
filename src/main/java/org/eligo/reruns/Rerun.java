package org.eligo.reruns;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A rerun: one row of {@code rerun} (V5__reruns.sql), owned by {@link Reruns} with its items
 * ({@link RerunItem}). The API shows it, with its progress, as a {@link RerunView}.
 */
@Entity
@Table(name = "rerun")
public class Rerun {

    @Id
    public String id;

    @Convert(converter = RerunScope.Column.class)
    public RerunScope scope;

    public String period;

    @Column(name = "ruleset_id")
    public String rulesetId;

    public String reason;

    @Column(name = "requested_by")
    public String requestedBy;

    @Enumerated(EnumType.STRING)
    public RerunStatus status;

    /** How many items the run has: set once they are all inserted. */
    public int total;

    /** The database's clock when the run was stored. */
    @Column(name = "created_at", insertable = false, updatable = false)
    public Instant createdAt;

    @Column(name = "started_at")
    public Instant startedAt;

    @Column(name = "finished_at")
    public Instant finishedAt;
}
