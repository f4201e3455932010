package org.eligo.ledger;

import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Turns stored rows into their ledger form on worker threads while the caller reads the next rows,
 * and hands the records to a {@link Ledger.Sink} in the order the rows came, on the caller's thread.
 *
 * <p>Why: a full verification reads every determination and writes its canonical form, which parses
 * its checks document (about 4 KB). Done on the reading thread, the database waited while the
 * service parsed and the service waited while the database read: one core busy of two
 * (bench/run.sh (g)). Here rows are read in batches of {@value #BATCH}; each batch is formed on a
 * worker (its canonical bytes written and kept: {@link Canonical#freeze()}), and at most one batch
 * per worker, plus the one being read, is in hand at a time, so memory stays bounded however many
 * records there are. The sink still sees one record at a time, in order, on the caller's thread (the
 * verifier's walk beside the ledger's leaves is sequential and reads the database on that thread's
 * transaction). When the sink stops (a bad record found), no further batch is formed.
 *
 * <p>Workers are threads of this stream only, started by it and stopped by {@link #close()}: a
 * verification is rare, and the pool must not outlive it (nor be created when the class is loaded,
 * which a native image forbids).
 *
 * @param <R> a row as read, cheap to read (strings, instants)
 */
public final class RecordedStream<R> implements AutoCloseable {

    static final int BATCH = 500;

    private final Function<R, Recorded> form;
    private final Ledger.Sink<Recorded> sink;
    private final int workers;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Formed>> inHand = new ArrayDeque<>();
    private List<R> batch = new ArrayList<>(BATCH);
    private boolean stopped;

    /** {@code form}: a row's record, its content frozen by this stream; {@code sink}: as the owner's forEachRecorded was given it. */
    public RecordedStream(Function<R, Recorded> form, Ledger.Sink<Recorded> sink) {
        this.form = form;
        this.sink = sink;
        this.workers = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        AtomicInteger number = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, task -> {
            Thread thread = new Thread(task, "eligo-verification-" + number.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Takes the next row; false once the sink has stopped (read no more). */
    public boolean add(R row) throws SQLException {
        if (stopped) {
            return false;
        }
        batch.add(row);
        if (batch.size() == BATCH) {
            submit();
            return deliver(workers);
        }
        return true;
    }

    /** After the last row: waits for every batch and hands it on; false if the sink stopped. */
    public boolean finish() throws SQLException {
        if (stopped) {
            return false;
        }
        submit();
        return deliver(0);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    private void submit() {
        if (batch.isEmpty()) {
            return;
        }
        List<R> rows = batch;
        batch = new ArrayList<>(BATCH);
        inHand.add(pool.submit(() -> {
            List<Recorded> formed = new ArrayList<>(rows.size());
            for (R row : rows) {
                try {
                    Recorded recorded = form.apply(row);
                    recorded.content().freeze();
                    formed.add(recorded);
                } catch (RuntimeException | Error e) {
                    return new Formed(formed, e);
                }
            }
            return new Formed(formed, null);
        }));
    }

    /**
     * A batch's records in order, up to the first row that could not be formed ({@code failure}):
     * the sink sees those before it, as it would have on one thread (a bad record among them is
     * still the one verification names), and then the failure is thrown.
     */
    private record Formed(List<Recorded> records, Throwable failure) {
    }

    /** Hands on the oldest batches until at most {@code keep} are in hand. */
    private boolean deliver(int keep) throws SQLException {
        while (inHand.size() > keep) {
            Formed formed = await(inHand.poll());
            for (Recorded recorded : formed.records()) {
                if (!sink.accept(recorded)) {
                    stopped = true;
                    return false;
                }
            }
            if (formed.failure() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (formed.failure() instanceof Error error) {
                throw error;
            }
        }
        return true;
    }

    private static Formed await(Future<Formed> formed) {
        try {
            return formed.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while forming records", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
