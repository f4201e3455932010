package org.eligo.work;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;

import org.eligo.queue.QueueConfig;
import org.jboss.logging.Logger;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * The one engine that claims, does and settles every kind of queued work ({@link WorkKind}:
 * messages, automatic determinations, rerun items).
 *
 * <p>{@code eligo.queue.workers} threads each loop over the kinds they serve, doing one batch of
 * each; when none had work, a thread waits for a wake-up ({@link WorkSignal}: new messages here, a
 * NOTIFY from any instance, a rerun or a redrive) or the poll interval. A batch is one transaction:
 * the kind claims due rows with {@code FOR UPDATE SKIP LOCKED} (so workers, here or in other
 * instances, never wait for or share an item), does them and settles them; a worker that dies
 * releases its locks with its connection, and the items are claimed again.
 *
 * <p>Failures, the same for every kind, by whose fault they are ({@link FailureClass}):
 * <ul>
 * <li>Of the moment (the database away, a lost race, a lock not granted in time): the batch rolls
 * back, no attempt is counted, and the kind backs off (the poll interval doubled per failure in a
 * row, at most 30 s), so a database hiccup never spends anyone's attempts.</li>
 * <li>Of the installation (the schema not this release's, a missing grant, a read-only database, a
 * full disk): the same, but logged as an error and counted ({@code eligo_work_held_total}): the
 * kind is held until an operator fixes it, and no item is charged for it.</li>
 * <li>If the batch fails as a whole for anything else, it rolls back and each of its items is tried
 * alone in its own transaction, so one bad item fails by itself and the others go through. An item
 * that fails alone (its data, or a statement time-out or out of memory it alone reaches) is settled
 * by its kind's {@link FailurePolicy}: retried after a backoff, then its dead end, visible and
 * redrivable (in bulk for messages).</li>
 * <li>An item that fails by itself inside a batch has its failure written in the batch's own
 * transaction and holds up nothing else.</li>
 * <li>Each kind backs off on its own: a worker goes on with its other kinds meanwhile.</li>
 * <li>Work this instance cannot do is never claimed, and if some is met anyway
 * ({@link LeaveForOthers}) the batch rolls back untouched: it is left for an instance that can.</li>
 * </ul>
 * On shutdown, threads finish the batch in hand (up to {@code eligo.queue.shutdown-grace}) and stop.
 */
@ApplicationScoped
public class WorkEngine {

    private static final Logger LOG = Logger.getLogger(WorkEngine.class);
    private static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(30);

    private final List<WorkKind<?>> kinds;
    private final WorkSignal signal;
    private final QueueConfig config;
    private final AtomicInteger alive = new AtomicInteger();
    private volatile boolean running;
    private ExecutorService executor;
    private final io.micrometer.core.instrument.MeterRegistry meters;

    public WorkEngine(@Any Instance<WorkKind<?>> kinds, WorkSignal signal, QueueConfig config, io.micrometer.core.instrument.MeterRegistry meters) {
        this.meters = meters;
        List<WorkKind<?>> all = kinds.stream().<WorkKind<?>>map(kind -> kind).sorted(Comparator.comparingInt(WorkKind::order)).toList();
        java.util.Set<String> known = all.stream().map(WorkKind::name).collect(java.util.stream.Collectors.toSet());
        config.kinds().ifPresent(wanted -> wanted.stream().filter(name -> !known.contains(name)).findFirst().ifPresent(name -> {
            throw new IllegalStateException("eligo.queue.kinds names '" + name + "', which is not a kind of work; the kinds are " + known);
        }));
        this.kinds = all.stream().filter(kind -> config.kinds().map(wanted -> wanted.contains(kind.name())).orElse(true)).toList();
        this.signal = signal;
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        if (config.workers() <= 0) {
            LOG.info("Work processing is off in this instance (eligo.queue.workers=0)");
            return;
        }
        running = true;
        AtomicInteger number = new AtomicInteger();
        executor = Executors.newFixedThreadPool(config.workers(), task -> {
            Thread thread = new Thread(task, "eligo-worker-" + number.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        for (int i = 0; i < config.workers(); i++) {
            int index = i;
            executor.submit(() -> work(index));
        }
        LOG.infof("%d workers started for %s (poll %s)", config.workers(), kinds.stream().map(WorkKind::name).toList(), config.pollInterval());
    }

    void onStop(@Observes ShutdownEvent event) {
        if (executor == null) {
            return;
        }
        running = false;
        signal.wake();
        executor.shutdown();
        try {
            if (!executor.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Workers did not finish within the shutdown grace period; their open batches roll back");
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }

    public boolean isRunning() {
        return running;
    }

    /** Worker loops currently running (readiness compares it with the configured number). */
    public int alive() {
        return alive.get();
    }

    private void work(int index) {
        alive.incrementAndGet();
        try {
            loop(index);
        } finally {
            alive.decrementAndGet();
        }
    }

    /**
     * One worker's loop over its kinds. Each kind fails and backs off on its own: a kind whose
     * batches fail (the database refusing its statements, a kind held for a defect) waits out its
     * backoff while the thread goes on doing the other kinds, so one broken kind never starves the
     * rest (issue 20: a message batch failing for ever kept its worker from determinations and reruns).
     */
    private void loop(int index) {
        List<WorkKind<?>> mine = kinds.stream().filter(kind -> kind.servesWorker(index)).toList();
        int[] failuresInRow = new int[mine.size()];
        long[] notBefore = new long[mine.size()];
        while (running) {
            long seen = signal.generation();
            int claimed = 0;
            long now = System.nanoTime();
            long nextDue = Long.MAX_VALUE;
            for (int k = 0; k < mine.size(); k++) {
                if (failuresInRow[k] > 0 && now - notBefore[k] < 0) {
                    nextDue = Math.min(nextDue, notBefore[k] - now);
                    continue;
                }
                WorkKind<?> kind = mine.get(k);
                try {
                    claimed += runBatch(kind);
                    if (failuresInRow[k] > 0) {
                        LOG.infof("%s: work goes on after %d failed batches", kind.name(), failuresInRow[k]);
                    }
                    failuresInRow[k] = 0;
                } catch (RuntimeException | Error e) {
                    // Errors too (an OutOfMemoryError in one batch): the batch rolled back; this thread
                    // must go on working rather than end silently inside the executor.
                    failuresInRow[k]++;
                    Duration backoff = errorBackoff(failuresInRow[k]);
                    notBefore[k] = System.nanoTime() + backoff.toNanos();
                    nextDue = Math.min(nextDue, backoff.toNanos());
                    report(kind, e, failuresInRow[k], backoff);
                }
            }
            if (claimed == 0) {
                Duration wait = nextDue == Long.MAX_VALUE ? config.pollInterval()
                        : Duration.ofNanos(Math.max(1, Math.min(nextDue, config.pollInterval().toNanos())));
                signal.awaitAfter(seen, wait);
            }
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    /** Says why a kind's batch failed, as loudly as the cause deserves, and counts holds. */
    private void report(WorkKind<?> kind, Throwable e, int inRow, Duration backoff) {
        switch (FailureClass.of(e)) {
            case TRANSIENT -> LOG.warnf("%s: database busy or unavailable (%s); retrying in %s", kind.name(), e.getMessage(), backoff);
            case ENVIRONMENT -> {
                meters.counter("eligo.work.held", "kind", kind.name(), "reason", "environment").increment();
                // The schema, a grant, the disk: an operator's to fix, and every item would fail alike.
                if (inRow == 1) {
                    LOG.errorf(e, "%s held: the database or the build refuses this work (%s); no item is charged an attempt. "
                            + "Retrying in %s until the cause is fixed", kind.name(), e.getMessage(), backoff);
                } else {
                    LOG.errorf("%s still held (%d failed batches in a row): %s; retrying in %s", kind.name(), inRow, e.getMessage(), backoff);
                }
            }
            default -> LOG.errorf(e, "%s: a batch failed; retrying in %s", kind.name(), backoff);
        }
    }

    private Duration errorBackoff(int failuresInRow) {
        Duration backoff = config.pollInterval().multipliedBy(1L << Math.min(failuresInRow, 10));
        return backoff.compareTo(MAX_ERROR_BACKOFF) > 0 ? MAX_ERROR_BACKOFF : backoff;
    }

    /**
     * Claims, does and settles one batch of {@code kind}; returns how many items it claimed (0: none
     * due). A transient failure is rethrown (the caller backs off) with nothing counted.
     */
    public <T> int runBatch(WorkKind<T> kind) {
        List<T> claimed = new ArrayList<>();
        try {
            batch(kind, claimed);
        } catch (LeaveForOthers e) {
            LOG.warnf("%s: %s cannot be done by this instance; left for an instance that can", kind.name(), e.getMessage());
            return 0;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            // A stack overflow or out of memory is one item's doing (a deeply nested document, a huge
            // one), not the thread's; so is a statement time-out that recurs. Of the moment or of the
            // installation, it is no item's: rethrown, nothing charged.
            if (claimed.isEmpty() || FailureClass.of(e) != FailureClass.ITEM) {
                throw e;
            }
            LOG.warnf(e, "A batch of %d %s failed; doing them one by one", claimed.size(), kind.name());
            alonePass(kind, claimed);
        }
        kind.afterBatch();
        return claimed.size();
    }

    /**
     * The items of a failed batch, each in a transaction of its own; an item that fails alone is
     * charged an attempt. (Not held back when every item fails alike: the engine cannot tell a
     * defect of the code from items whose data fail alike, and holding the kind would hold every
     * item behind them, good ones too. A defect is loud instead, and its items go back to the
     * queue in one call once it is fixed: POST /v1/messages/retry by error text.)
     */
    private <T> void alonePass(WorkKind<T> kind, List<T> claimed) {
        for (T item : claimed) {
            Throwable failure = runAlone(kind, item);
            if (failure != null) {
                settleAlone(kind, item, failure);
            }
        }
    }

    /**
     * One batch in a transaction of its own, which the kind's owners join: claimed, done and
     * settled, committed together or rolled back together. {@code claimed} receives the claim even
     * when the batch then fails, so the caller can try its items one by one. (Called on this bean:
     * Quarkus intercepts a bean's calls to itself, so each call is a new transaction.)
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    <T> void batch(WorkKind<T> kind, List<T> claimed) {
        claimed.addAll(kind.claim());
        if (!claimed.isEmpty()) {
            kind.process(claimed, (item, error) -> fail(kind, item, error));
        }
    }

    /** One item of a failed batch, in a transaction of its own; its failure if it failed by itself, else null (done, or not its to do). */
    private <T> Throwable runAlone(WorkKind<T> kind, T item) {
        try {
            alone(kind, item);
            return null;
        } catch (LeaveForOthers e) {
            LOG.warnf("%s: %s cannot be done by this instance; left for an instance that can", kind.name(), e.getMessage());
            return null;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            if (FailureClass.of(e) != FailureClass.ITEM) {
                throw e;
            }
            return e;
        }
    }

    /** The item claimed again (if still due and free) and done, in a transaction of its own. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    <T> void alone(WorkKind<T> kind, T item) {
        Optional<T> again = kind.claimAgain(item);
        if (again.isPresent()) {
            kind.process(List.of(again.get()), (failed, error) -> fail(kind, failed, error));
        }
    }

    /** The failure of an item that failed alone too, written in a transaction of its own. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    <T> void settleAlone(WorkKind<T> kind, T item, Throwable error) {
        Optional<T> again = kind.claimAgain(item);
        if (again.isPresent()) {
            fail(kind, again.get(), error);
        }
    }

    private <T> void fail(WorkKind<T> kind, T item, Throwable error) {
        FailurePolicy policy = kind.policy();
        Failure failure = policy.failure(kind.attempts(item), error);
        if (failure.deadEnd()) {
            // The trace once, at the dead end: it is what a fix starts from.
            LOG.errorf(error, "%s %s failed (attempt %d of %d), giving up: %s. It is kept with its error: %s",
                    kind.name(), kind.describe(item), failure.attempt(), policy.maxAttempts(), failure.error(), policy.deadEnd());
        } else {
            LOG.warnf("%s %s failed (attempt %d of %d), retrying in %s: %s",
                    kind.name(), kind.describe(item), failure.attempt(), policy.maxAttempts(), failure.retryIn(), failure.error());
        }
        kind.recordFailure(item, failure);
        // Counted before commit: a rolled-back batch over-counts a little; rates are what this is for.
        kind.counters().failedAttempts().increment();
        if (failure.deadEnd()) {
            kind.counters().deadEnds().increment();
        }
    }
}
