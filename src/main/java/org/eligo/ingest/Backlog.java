package org.eligo.ingest;

import java.sql.PreparedStatement;
import java.sql.ResultSet;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Db;
import org.eligo.support.problem.ProblemException;

/**
 * Guards ingest against an unbounded backlog. Counting the backlog costs O(backlog), so the count
 * stops at the limit and is reused for {@code eligo.ingest.backlog-cache-ttl}; the limit can thus be
 * overshot by what other requests add in that window, which is the price of not counting per request.
 */
@ApplicationScoped
public class Backlog {

    /**
     * Counts unprocessed messages this instance can process up to a bound (a walk of the partial
     * index of the backlog). Messages of a type it does not declare are left for instances that do
     * (a rolling deploy adding a type) and do not count against this instance's limit. Binds text[] types, limit.
     */
    static final String COUNT_UP_TO = "SELECT count(*) FROM (SELECT 1 FROM message WHERE status = 'RECEIVED' AND type = ANY(?::text[]) LIMIT ?) AS backlog";

    private final Db db;
    private final IngestConfig config;
    private long measured;
    private long measuredAtNanos;
    private boolean everMeasured;

    private final java.util.List<String> typeNames;

    public Backlog(Db db, IngestConfig config, org.eligo.facts.FactTypes types) {
        this.typeNames = types.all().stream().map(org.eligo.facts.FactType::name).toList();
        this.db = db;
        this.config = config;
    }

    /** True when {@code incoming} more messages would take the backlog past its limit. */
    public boolean isFull(int incoming) {
        return size() + incoming > config.maxBacklog();
    }

    public ProblemException full() {
        return ProblemException.unavailable("The backlog of unprocessed messages is at its limit of " + config.maxBacklog()
                + "; retry later.", config.retryAfter());
    }

    private synchronized long size() {
        long now = System.nanoTime();
        if (!everMeasured || now - measuredAtNanos > config.backlogCacheTtl().toNanos()) {
            measured = db.read(connection -> {
                try (PreparedStatement statement = connection.prepareStatement(COUNT_UP_TO)) {
                    statement.setArray(1, connection.createArrayOf("text", typeNames.toArray()));
                    statement.setLong(2, config.maxBacklog() + 1);
                    try (ResultSet rs = statement.executeQuery()) {
                        rs.next();
                        return rs.getLong(1);
                    }
                }
            });
            measuredAtNanos = now;
            everMeasured = true;
        }
        return measured;
    }
}
