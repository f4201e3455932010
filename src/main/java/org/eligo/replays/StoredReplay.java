package org.eligo.replays;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import org.hibernate.annotations.ColumnTransformer;
import org.hibernate.annotations.Immutable;

/**
 * A replay as stored (table {@code replay}, owned by {@link Replays}): who asked for what, and a
 * summary of what it changed; the changes themselves are the facts that name it. Written once, when
 * the replay finishes, in its transaction; never changed. A dry run stores nothing.
 */
@Entity
@Table(name = "replay")
@Immutable
public class StoredReplay {

    @Id
    public String id;

    /** Stamped by the database's clock as the row is written. */
    @Column(name = "requested_at", insertable = false, updatable = false)
    public Instant requestedAt;

    /** jsonb: {"beneficiary_ids": [...], "types": [...]}, as asked. */
    @ColumnTransformer(write = "cast(? as jsonb)")
    public String scope;

    public String reason;

    @Column(name = "dry_run")
    public boolean dryRun;

    /** jsonb: how many messages were replayed, beneficiaries changed, changes and failures. */
    @ColumnTransformer(write = "cast(? as jsonb)")
    public String summary;
}
