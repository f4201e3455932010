package org.eligo.determinations;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Automatic determinations ({@code eligo.determinations.*}). */
@ConfigMapping(prefix = "eligo.determinations")
public interface DeterminationsConfig {

    /** Queued determinations made per transaction. */
    @WithDefault("100")
    int batchSize();

    /**
     * How long a queued determination waits for more changes to the same beneficiary; each change
     * restarts the wait, so a burst of messages yields one determination.
     */
    @WithDefault("100ms")
    Duration settle();

    /** The longest a queued determination is held back by further changes. */
    @WithDefault("2s")
    Duration maxSettle();

    /**
     * The longest a queued determination waits while its beneficiary still has received messages not
     * yet processed (a backlog), so that one burst yields one determination that sees all of it.
     */
    @WithDefault("30s")
    Duration maxBacklogWait();
}
