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
    private long measured;
    private long measuredAtNanos;
    private boolean everMeasured;

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

    private synchronized long size() {
        long now = System.nanoTime();
        long ttl = config.backlogCacheTtl().toNanos();
        // A TTL of 0 counts every time (exact, for tests); otherwise at least REUSE_FACTOR times the count's own duration.
        if (!everMeasured || now - measuredAtNanos > (ttl == 0 ? 0 : Math.max(ttl, REUSE_FACTOR * countNanos))) {
            // Only messages this instance can process count: those of a type it does not declare are
            // left for instances that do (a rolling deploy adding a type), not against this one's limit.
            measured = messages.countBacklogUpTo(typeNames, config.maxBacklog() + 1);
            measuredAtNanos = System.nanoTime();
            countNanos = measuredAtNanos - now;
            everMeasured = true;
        }
        return measured;
    }

    /**
     * A count is reused for at least this many times as long as it took. Counting walks the backlog
     * up to the limit: with millions waiting it takes a good part of a second (0.42 s for 2 million
     * here), and counting again every second would spend that share of a database core on counting
     * alone (39 % of a 2-million-line import's database time before this). The limit can be overshot
     * by what arrives meanwhile, as with the TTL.
     */
    private static final long REUSE_FACTOR = 10;
    private long countNanos;
}
