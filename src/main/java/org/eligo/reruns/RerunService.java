package org.eligo.reruns;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.DeterminationService;
import org.eligo.support.Db;
import org.eligo.support.Ids;
import org.eligo.support.problem.ProblemException;

/** Creates reruns, reports their progress, cancels them, and lists what changed. */
@ApplicationScoped
public class RerunService {

    static final String INSERT_RUN = """
            INSERT INTO rerun (id, scope, period, ruleset_id, reason, requested_by, status, total)
            VALUES (?, ?, ?, ?, ?, ?, 'QUEUED', 0)
            """;

    /** Beneficiaries whose active facts changed after their latest determination for the period and ruleset, or who have none. */
    static final String ITEMS_CHANGED = """
            INSERT INTO rerun_item (rerun_id, beneficiary_id)
            SELECT ?, c.beneficiary_id FROM beneficiary_facts_changed c
              LEFT JOIN LATERAL (SELECT d.facts_as_of FROM determination d
                                  WHERE d.beneficiary_id = c.beneficiary_id AND d.period = ? AND d.ruleset_id = ?
                                  ORDER BY d.id DESC LIMIT 1) AS latest ON true
             WHERE latest.facts_as_of IS NULL OR c.changed_at > latest.facts_as_of
            """;

    static final String ITEMS_ALL = "INSERT INTO rerun_item (rerun_id, beneficiary_id) SELECT ?, beneficiary_id FROM beneficiary_facts_changed";

    static final String ITEMS_LISTED = "INSERT INTO rerun_item (rerun_id, beneficiary_id) SELECT DISTINCT ?, b FROM unnest(?::text[]) AS b";

    /**
     * A run with nothing to do is done as it is created: it started and finished then, so its
     * status answer says so rather than "finished, never started". One clock reading for both
     * (clock_timestamp() read twice differs by a microsecond).
     */
    static final String SET_TOTAL = """
            WITH items AS (SELECT count(*) AS total, clock_timestamp() AS now FROM rerun_item WHERE rerun_id = ?)
            UPDATE rerun SET total = items.total,
                   status = CASE WHEN items.total > 0 THEN 'QUEUED' ELSE 'DONE' END,
                   started_at = CASE WHEN items.total > 0 THEN NULL ELSE items.now END,
                   finished_at = CASE WHEN items.total > 0 THEN NULL ELSE items.now END
              FROM items
             WHERE id = ?
            RETURNING rerun.total, rerun.status
            """;

    static final String GET = """
            SELECT r.id, r.status, r.scope, r.period, r.ruleset_id, r.reason, r.requested_by, r.total,
                   count(*) FILTER (WHERE i.state = 'DONE'), count(*) FILTER (WHERE i.state = 'FAILED'), count(*) FILTER (WHERE i.changed),
                   r.created_at, r.started_at, r.finished_at, clock_timestamp()
              FROM rerun r LEFT JOIN rerun_item i ON i.rerun_id = r.id
             WHERE r.id = ?
             GROUP BY r.id
            """;

    /** Stops a run that has not finished; rows still pending stay pending, unclaimed. */
    static final String CANCEL = """
            UPDATE rerun SET status = 'CANCELLED', finished_at = clock_timestamp()
             WHERE id = ? AND status IN ('QUEUED', 'RUNNING')
            """;

    /**
     * Redrives a run's failed items (their dead end): pending again, and the run running again so
     * that workers take them; a cancelled run stays cancelled. Binds the run id (twice).
     */
    static final String RETRY_FAILED = """
            WITH retried AS (
                UPDATE rerun_item SET state = 'PENDING', finished_at = NULL
                 WHERE rerun_id = ? AND state = 'FAILED'
                   AND EXISTS (SELECT 1 FROM rerun WHERE id = rerun_item.rerun_id AND status IN ('RUNNING', 'DONE', 'FAILED'))
                RETURNING 1)
            UPDATE rerun SET status = 'RUNNING', finished_at = NULL
             WHERE id = ? AND EXISTS (SELECT 1 FROM retried)
            RETURNING (SELECT count(*) FROM retried)
            """;

    static final String CHANGES = """
            SELECT beneficiary_id, previous_determination_id, previous_result, determination_id, result
              FROM rerun_item
             WHERE rerun_id = ? AND changed AND (?::text IS NULL OR beneficiary_id > ?::text)
             ORDER BY beneficiary_id
             LIMIT ?
            """;

    /** A page of changes. */
    public record ChangePage(List<Rerun.Change> items, String nextCursor) {
    }

    private final Db db;
    private final Ids ids;
    private final org.eligo.work.WorkSignal signal;

    public RerunService(Db db, Ids ids, org.eligo.work.WorkSignal signal) {
        this.db = db;
        this.ids = ids;
        this.signal = signal;
    }

    /** Stores the run and queues its beneficiaries, in one transaction. */
    public Rerun.Accepted create(String scope, List<String> beneficiaries, String period, String rulesetId, String reason, String requestedBy) {
        String id = ids.next(Ids.RERUN);
        Rerun.Accepted accepted = db.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(INSERT_RUN)) {
                statement.setString(1, id);
                statement.setString(2, scope);
                statement.setString(3, period);
                statement.setString(4, rulesetId);
                statement.setString(5, reason);
                statement.setString(6, requestedBy);
                statement.executeUpdate();
            }
            switch (scope) {
                case "changed" -> update(connection, ITEMS_CHANGED, id, period, rulesetId);
                case "all" -> update(connection, ITEMS_ALL, id);
                default -> {
                    try (PreparedStatement statement = connection.prepareStatement(ITEMS_LISTED)) {
                        statement.setString(1, id);
                        statement.setArray(2, connection.createArrayOf("text", beneficiaries.toArray()));
                        statement.executeUpdate();
                    }
                }
            }
            try (PreparedStatement statement = connection.prepareStatement(SET_TOTAL)) {
                statement.setString(1, id);
                statement.setString(2, id);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return new Rerun.Accepted(id, rs.getString(2), rs.getInt(1));
                }
            }
        });
        signal.wake();
        return accepted;
    }

    public Rerun get(String id) {
        if (!Ids.isWellFormed(id, Ids.RERUN)) {
            throw ProblemException.notFound("No rerun with id " + id);
        }
        return db.read(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(GET)) {
                statement.setString(1, id);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        throw ProblemException.notFound("No rerun with id " + id);
                    }
                    int total = rs.getInt(8);
                    long done = rs.getLong(9);
                    long failed = rs.getLong(10);
                    Instant started = org.eligo.support.Timestamps.read(rs, 13);
                    Instant finished = org.eligo.support.Timestamps.read(rs, 14);
                    Instant now = org.eligo.support.Timestamps.read(rs, 15);
                    String status = rs.getString(2);
                    Progress progress = progress(status, total, done + failed, started, finished, now);
                    return new Rerun(rs.getString(1), status, rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                            rs.getString(7), total, done, failed, rs.getLong(11), org.eligo.support.Timestamps.read(rs, 12), started, finished,
                            progress.ratePerS(), progress.etaS());
                }
            }
        });
    }

    /** A run's speed and what is left of it, each null where nothing true can be said. */
    record Progress(Double ratePerS, Long etaS) {
    }

    /**
     * Rate: determinations (done or failed) per second from start to finish, or to now while it runs;
     * null before it starts and for a run that finished having done nothing (there was no work to
     * time). Time to go: 0 once done; null while queued, while running with nothing done yet (no rate
     * to go by) and for a cancelled or failed run (it will not finish).
     */
    static Progress progress(String status, long total, long processed, Instant started, Instant finished, Instant now) {
        if (started == null) {
            return new Progress(null, null);
        }
        double seconds = Math.max(0.001, Duration.between(started, finished != null ? finished : now).toMillis() / 1000.0);
        Double rate = finished != null && processed == 0 ? null : Math.round(processed / seconds * 10.0) / 10.0;
        Long eta;
        if ("DONE".equals(status) || (finished == null && processed >= total)) {
            eta = 0L;
        } else if (finished != null || rate == null || rate == 0) {
            eta = null;
        } else {
            eta = (long) Math.ceil((total - processed) / rate);
        }
        return new Progress(rate, eta);
    }

    public Rerun cancel(String id) {
        get(id);
        db.inTransaction(connection -> update(connection, CANCEL, id));
        return get(id);
    }

    /** Puts a run's FAILED items back in its queue (after the cause of their failure is fixed); 409 when it has none or was cancelled. */
    public Rerun retry(String id) {
        get(id);
        long retried = db.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RETRY_FAILED)) {
                statement.setString(1, id);
                statement.setString(2, id);
                try (ResultSet rs = statement.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
        if (retried == 0) {
            throw ProblemException.conflict("Rerun " + id + " has no failed items to retry (a cancelled run is not retried: start a new one).", null);
        }
        signal.wake();
        return get(id);
    }

    public ChangePage changes(String id, String limitText, String cursor) {
        get(id);
        int limit = DeterminationService.limit(limitText);
        String after = cursor == null || cursor.isEmpty() ? null : org.eligo.support.Requests.decodeCursor(cursor, org.eligo.support.Requests.BENEFICIARY_ID);
        List<Rerun.Change> rows = db.read(connection -> {
            List<Rerun.Change> changes = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(CHANGES)) {
                statement.setString(1, id);
                statement.setString(2, after);
                statement.setString(3, after);
                statement.setInt(4, limit + 1);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        changes.add(new Rerun.Change(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)));
                    }
                }
            }
            return changes;
        });
        if (rows.size() <= limit) {
            return new ChangePage(rows, null);
        }
        List<Rerun.Change> items = List.copyOf(rows.subList(0, limit));
        return new ChangePage(items, org.eligo.support.Requests.encodeCursor(items.get(items.size() - 1).beneficiaryId()));
    }


    private static int update(Connection connection, String sql, String... parameters) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setString(i + 1, parameters[i]);
            }
            return statement.executeUpdate();
        }
    }

}
