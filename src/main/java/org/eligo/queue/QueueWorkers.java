package org.eligo.queue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eligo.determinations.DeterminationProcessor;
import org.eligo.reruns.RerunProcessor;
import org.eligo.support.Db;
import org.jboss.logging.Logger;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * The worker threads. Each loops over the work sources (messages, then queued determinations),
 * doing a batch of each; when none had work, it waits for a wake-up ({@link WorkSignal}: new messages here, or a NOTIFY from any instance) or the poll interval.
 * On shutdown, workers finish the batch in hand (up to the grace period) and stop.
 */
@ApplicationScoped
public class QueueWorkers {

    private static final Logger LOG = Logger.getLogger(QueueWorkers.class);
    private static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(30);

    private final List<WorkSource> sources;
    private final WorkSignal signal;
    private final MessageNotificationListener listener;
    private final QueueConfig config;
    private volatile boolean running;
    private final AtomicInteger alive = new AtomicInteger();
    private ExecutorService executor;

    public QueueWorkers(MessageProcessor messages, DeterminationProcessor determinations, RerunProcessor reruns, WorkSignal signal,
                        MessageNotificationListener listener, QueueConfig config) {
        // Messages first: a determination follows the facts its messages produce; reruns last, and
        // only on the threads they are allowed (eligo.reruns.workers).
        this.sources = List.of(messages, determinations, reruns);
        this.signal = signal;
        this.listener = listener;
        this.config = config;
    }

    void onStart(@Observes StartupEvent event) {
        if (config.workers() <= 0) {
            LOG.info("Message processing is off in this instance (eligo.queue.workers=0)");
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
        if (config.listen()) {
            listener.start();
        }
        LOG.infof("%d message workers started (batch %d, poll %s)", config.workers(), config.batchSize(), config.pollInterval());
    }

    void onStop(@Observes ShutdownEvent event) {
        if (executor == null) {
            return;
        }
        running = false;
        listener.stop();
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

    private void loop(int index) {
        List<WorkSource> mine = sources.stream().filter(source -> source.servesWorker(index)).toList();
        int failuresInRow = 0;
        while (running) {
            long seen = signal.generation();
            try {
                int claimed = 0;
                for (WorkSource source : mine) {
                    claimed += source.processBatch();
                }
                failuresInRow = 0;
                if (claimed == 0) {
                    signal.awaitAfter(seen, config.pollInterval());
                }
            } catch (RuntimeException | Error e) {
                // Errors too (an OutOfMemoryError in one batch): the batch rolled back; this thread
                // must go on working rather than end silently inside the executor.
                failuresInRow++;
                Duration backoff = errorBackoff(failuresInRow);
                if (Db.isTransient(e)) {
                    LOG.warnf("Database busy or unavailable (%s); workers retry in %s", e.getMessage(), backoff);
                } else {
                    LOG.errorf(e, "Worker failed; retrying in %s", backoff);
                }
                signal.awaitAfter(signal.generation(), backoff);
            }
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    private Duration errorBackoff(int failuresInRow) {
        Duration backoff = config.pollInterval().multipliedBy(1L << Math.min(failuresInRow, 10));
        return backoff.compareTo(MAX_ERROR_BACKOFF) > 0 ? MAX_ERROR_BACKOFF : backoff;
    }
}
