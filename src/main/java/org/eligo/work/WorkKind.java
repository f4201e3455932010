package org.eligo.work;

import java.util.List;
import java.util.Optional;

/**
 * A kind of work the {@link WorkEngine} claims, does and settles: messages, automatic
 * determinations, rerun items. A kind says only what differs between them: which rows this
 * instance may claim, what doing them means, how a failure is written down, and its
 * {@link FailurePolicy}. The loop, the transactions, the batch-then-one-by-one isolation, the
 * rule that a transient database error is never the work's fault and the arithmetic of attempts
 * and backoff live once, in the engine. The SQL stays with the owner of the kind's table
 * ({@code Messages}, {@code DeterminationQueue}, {@code Reruns}); a kind calls its owner, which joins
 * the engine's transaction.
 *
 * @param <T> a claimed item, as the kind's claim reads it
 */
public interface WorkKind<T> {

    /** In logs: "messages", "determinations", "reruns". */
    String name();

    /**
     * Where the kind comes in each worker's round, lowest first: messages before the
     * determinations their facts call for, reruns last.
     */
    int order();

    FailurePolicy policy();

    /** Where the engine counts this kind's failed attempts and dead ends. */
    FailureCounters counters();

    /**
     * Claims a batch of due items, row-locked ({@code FOR UPDATE SKIP LOCKED}) in the engine's
     * transaction. Only work this instance can do is claimed: what it cannot do (a fact type it
     * does not declare, a ruleset it has not loaded) stays where it is, for an instance that can.
     * That filter in the claim is the one rule for such work; {@link LeaveForOthers} is the
     * backstop should anything slip through.
     */
    List<T> claim();

    /** Claims {@code item} alone again, if it is still due and free: the engine's one-by-one retry of a failed batch. */
    Optional<T> claimAgain(T item);

    /**
     * Does the claimed items and settles them, in the claim's transaction, so that an item's
     * result and its settlement commit together or not at all. An item that fails by itself (data
     * that cannot be read) goes to {@code failures}, which writes its failure in this same
     * transaction without holding up the others. Anything thrown rolls the whole batch back.
     */
    void process(List<T> items, Failures<T> failures);

    /** Writes down a failure of a claimed item: its attempts, its error, when it is due again or that it reached its dead end. */
    void recordFailure(T item, Failure failure);

    /** Attempts already spent on the item (0 for a kind whose rows keep no count). */
    int attempts(T item);

    /** The item in a log line: its key, never its content (which may be personal data). */
    String describe(T item);

    /**
     * After each batch (also an empty one), in a transaction of its own: bookkeeping that must not
     * share the batch's locks (a rerun whose last items were just done is marked DONE).
     */
    default void afterBatch() {
    }

    /** Whether worker thread {@code index} (from 0) takes this kind: lets a kind have only a share of the threads. */
    default boolean servesWorker(int index) {
        return true;
    }

    /** Where a kind hands an item that failed by itself inside a batch. */
    @FunctionalInterface
    interface Failures<T> {
        void fail(T item, Throwable error);
    }
}
