package org.eligo.queue;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The work engine's threads, and messages as a kind of work ({@code eligo.queue.*}; the names are
 * older than the engine, which serves automatic determinations and reruns on the same threads).
 */
@ConfigMapping(prefix = "eligo.queue")
public interface QueueConfig {

    /** Worker threads, for every kind of work (messages, automatic determinations, reruns); 0 turns processing off in this instance. */
    @WithDefault("2")
    int workers();

    /**
     * The kinds of work this instance's workers do, by name ({@code imports}, {@code messages},
     * {@code determinations}, {@code reruns}); unset: all of them. Lets an operator run instances that
     * only store imports, for instance (the others still do everything else).
     */
    Optional<Set<String>> kinds();

    /** Messages claimed per transaction. */
    @WithDefault("200")
    int batchSize();

    /**
     * How often an idle worker looks for work when no notification arrives (the fallback to
     * LISTEN/NOTIFY); also the first backoff after a worker's batch fails as a whole (doubled per
     * failure in a row, at most 30 s).
     */
    @WithDefault("1s")
    Duration pollInterval();

    /** LISTEN for new-message notifications, so idle workers wake at once. */
    @WithDefault("true")
    boolean listen();

    /** Attempts before a message is given up as FAILED. */
    @WithDefault("5")
    int maxAttempts();

    /** Wait before the first retry of a failed message; doubled for each further attempt. */
    @WithDefault("1s")
    Duration retryInitialBackoff();

    /** Longest wait between retries. */
    @WithDefault("5m")
    Duration retryMaxBackoff();

    /** On shutdown, how long in-flight batches may take to finish. */
    @WithDefault("30s")
    Duration shutdownGrace();
}
