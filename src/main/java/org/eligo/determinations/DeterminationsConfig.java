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

    /**
     * Attempts before a queued determination that fails by itself (not a database outage, which
     * costs no attempt) reaches its dead end: it is no longer tried, stays queued with its
     * {@code last_error}, is counted in {@code GET /v1/stats} ({@code determinations.failed}) and
     * waits for {@code POST /v1/determinations/queue/redrive} (or the next change to the
     * beneficiary's facts).
     */
    @WithDefault("10")
    int maxAttempts();

    /** Wait before the first retry of a failed queued determination; doubled for each further attempt. */
    @WithDefault("5s")
    Duration retryInitialBackoff();

    /** Longest wait between retries of a failed queued determination. */
    @WithDefault("5m")
    Duration retryMaxBackoff();
}
