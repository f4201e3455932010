package org.eligo.ingest;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.problem.ProblemException;

/**
 * Guards ingest against an unbounded backlog. Counting the backlog costs O(backlog), so the count
 * stops at the limit and is reused for {@code eligo.ingest.backlog-cache-ttl}; the limit can thus be
 * overshot by what other requests add in that window, which is the price of not counting per request.
 */
@ApplicationScoped
public class Backlog {

    private final Messages messages;
    private final IngestConfig config;

    private final java.util.List<String> typeNames;

    public Backlog(Messages messages, IngestConfig config, org.eligo.facts.FactTypes types) {
        this.typeNames = types.all().stream().map(org.eligo.facts.FactType::name).toList();
        this.messages = messages;
        this.config = config;
    }

    /** True when {@code incoming} more messages would take the backlog past its limit. */
    public boolean isFull(int incoming) {
        return size() + incoming > config.maxBacklog();
    }

    /** How many more messages the backlog takes before it is at its limit (0: full); what a bulk import stores next at most. */
    public long room() {
        return Math.max(0, config.maxBacklog() - size());
    }

    public ProblemException full() {
        return ProblemException.unavailable("The backlog of unprocessed messages is at its limit of " + config.maxBacklog()
                + "; retry later.", config.retryAfter());
    }

    /** A count of the backlog: its value, when it was taken and how long it took (System.nanoTime()). */
    private record Measurement(long size, long atNanos, long tookNanos) {
    }

    private final java.util.concurrent.atomic.AtomicReference<Measurement> last = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicBoolean counting = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * The backlog's size, counted again when the last count is stale. Not synchronized, on purpose:
     * a count stuck on a database that hangs would then hold every ingest thread behind it, each
     * waiting its turn for the same stuck query instead of answering 503 within the database
     * time-outs. One thread counts at a time; while it does, the others take the last count (it is
     * an estimate of a moving number anyway) or, before the first count, count themselves.
     */
    private long size() {
        long now = System.nanoTime();
        Measurement known = last.get();
        long ttl = config.backlogCacheTtl().toNanos();
        // A TTL of 0 counts every time (exact, for tests); otherwise at least REUSE_FACTOR times the count's own duration.
        if (known != null && now - known.atNanos() <= (ttl == 0 ? -1 : Math.max(ttl, REUSE_FACTOR * known.tookNanos()))) {
            return known.size();
        }
        boolean mine = counting.compareAndSet(false, true);
        if (!mine && known != null && ttl != 0) {
            return known.size();
        }
        try {
            // Only messages this instance can process count: those of a type it does not declare are
            // left for instances that do (a rolling deploy adding a type), not against this one's limit.
            long size = messages.countBacklogUpTo(typeNames, config.maxBacklog() + 1);
            long done = System.nanoTime();
            last.set(new Measurement(size, done, done - now));
            return size;
        } finally {
            if (mine) {
                counting.set(false);
            }
        }
    }

    /**
     * A count is reused for at least this many times as long as it took. Counting walks the backlog
     * up to the limit: with millions waiting it takes a good part of a second (0.42 s for 2 million
     * here), and counting again every second would spend that share of a database core on counting
     * alone (39 % of a 2-million-line import's database time before this). The limit can be overshot
     * by what arrives meanwhile, as with the TTL.
     */
    private static final long REUSE_FACTOR = 10;
}