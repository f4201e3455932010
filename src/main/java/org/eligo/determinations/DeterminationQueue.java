package org.eligo.determinations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * The queue of determinations to make after facts changed: one row per (beneficiary, period,
 * ruleset), so any number of changes coalesce into one determination.
 *
 * <p>Why no change is missed: a message transaction upserts the row while it holds the beneficiary's
 * lock. If a worker is just making that beneficiary's determination, the worker holds the row lock,
 * so the upsert waits; the worker deletes the row and commits, and the upsert then inserts a fresh
 * row, which leads to a new determination that sees the new facts. The worker never waits for the
 * message transaction in turn (it only tries the beneficiary lock), so the two cannot deadlock.
 */
@ApplicationScoped
public class DeterminationQueue {

    /** Binds: period, settle ms, text[] beneficiaries, text[] rulesets, max settle ms. */
    static final String ENQUEUE = """
            INSERT INTO determination_queue (beneficiary_id, period, ruleset_id, requested_at, next_attempt_at)
            SELECT b, ?, r, clock_timestamp(), clock_timestamp() + ? * interval '1 millisecond'
              FROM unnest(?::text[]) AS b CROSS JOIN unnest(?::text[]) AS r
            ON CONFLICT (beneficiary_id, period, ruleset_id) DO UPDATE
               SET next_attempt_at = LEAST(excluded.next_attempt_at, determination_queue.requested_at + ? * interval '1 millisecond'),
                   attempts = 0,
                   last_error = NULL
            """;

    /**
     * Claims due rows of the rulesets this instance has loaded; SKIP LOCKED as for messages. A row
     * for a ruleset this instance has not loaded (a rolling deploy that adds a ruleset) is left for
     * an instance that has it, never dropped. Binds: text[] ruleset ids, limit.
     */
    static final String CLAIM = """
            SELECT beneficiary_id, period, ruleset_id, attempts, requested_at
              FROM determination_queue
             WHERE next_attempt_at <= clock_timestamp()
               AND ruleset_id = ANY(?::text[])
             ORDER BY next_attempt_at
             LIMIT ?
               FOR UPDATE SKIP LOCKED
            """;

    static final String DELETE = """
            DELETE FROM determination_queue q
             USING unnest(?::text[], ?::text[], ?::text[]) AS k(beneficiary_id, period, ruleset_id)
             WHERE q.beneficiary_id = k.beneficiary_id AND q.period = k.period AND q.ruleset_id = k.ruleset_id
            """;

    /** Binds: delay ms, last_error (or null), attempts increment, then the keys. */
    static final String POSTPONE = """
            UPDATE determination_queue q
               SET next_attempt_at = clock_timestamp() + ? * interval '1 millisecond',
                   last_error = coalesce(?, q.last_error),
                   attempts = q.attempts + ?
              FROM unnest(?::text[], ?::text[], ?::text[]) AS k(beneficiary_id, period, ruleset_id)
             WHERE q.beneficiary_id = k.beneficiary_id AND q.period = k.period AND q.ruleset_id = k.ruleset_id
            """;

    /** A queued determination. */
    public record Pending(String beneficiaryId, String period, String rulesetId, int attempts, java.time.Instant requestedAt) {
    }

    /** Which of these beneficiaries still have received messages waiting to be processed. Binds text[]. */
    static final String WITH_BACKLOG = """
            SELECT DISTINCT beneficiary_id FROM message
             WHERE beneficiary_id = ANY(?::text[]) AND status = 'RECEIVED'
            """;

    public java.util.Set<String> withBacklog(Connection connection, Collection<String> beneficiaries) throws SQLException {
        java.util.Set<String> found = new java.util.HashSet<>();
        if (beneficiaries.isEmpty()) {
            return found;
        }
        try (PreparedStatement statement = connection.prepareStatement(WITH_BACKLOG)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
        }
        return found;
    }

    /** Claims one given row, if it is due and free. */
    static final String CLAIM_ONE = """
            SELECT beneficiary_id, period, ruleset_id, attempts, requested_at
              FROM determination_queue
             WHERE beneficiary_id = ? AND period = ? AND ruleset_id = ?
               FOR UPDATE SKIP LOCKED
            """;

    public java.util.Optional<Pending> claimOne(Connection connection, Pending key) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLAIM_ONE)) {
            statement.setString(1, key.beneficiaryId());
            statement.setString(2, key.period());
            statement.setString(3, key.rulesetId());
            return read(statement).stream().findFirst();
        }
    }

    private final DeterminationsConfig config;

    public DeterminationQueue(DeterminationsConfig config) {
        this.config = config;
    }

    /** In the caller's (message) transaction: queue a determination of {@code period} for each beneficiary and ruleset. */
    public void enqueue(Connection connection, Collection<String> beneficiaries, YearMonth period, Collection<String> rulesetIds) throws SQLException {
        if (beneficiaries.isEmpty() || rulesetIds.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(ENQUEUE)) {
            statement.setString(1, period.toString());
            statement.setLong(2, config.settle().toMillis());
            // Sorted, so two upserts of overlapping sets lock rows in the same order.
            statement.setArray(3, connection.createArrayOf("text", beneficiaries.stream().sorted().toArray()));
            statement.setArray(4, connection.createArrayOf("text", rulesetIds.stream().sorted().toArray()));
            statement.setLong(5, config.maxSettle().toMillis());
            statement.executeUpdate();
        }
    }

    /** Claims up to {@code limit} due rows of the given rulesets. */
    public List<Pending> claim(Connection connection, Collection<String> rulesetIds, int limit) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLAIM)) {
            statement.setArray(1, connection.createArrayOf("text", rulesetIds.toArray()));
            statement.setInt(2, limit);
            return read(statement);
        }
    }

    /** Queued rows of rulesets outside {@code rulesetIds}: work this instance leaves for others. Binds text[]. */
    static final String OTHER_RULESETS = "SELECT count(*) FROM determination_queue WHERE NOT (ruleset_id = ANY(?::text[]))";

    public long countOtherRulesets(Connection connection, Collection<String> rulesetIds) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(OTHER_RULESETS)) {
            statement.setArray(1, connection.createArrayOf("text", rulesetIds.toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static List<Pending> read(PreparedStatement statement) throws SQLException {
        List<Pending> claimed = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                claimed.add(new Pending(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4),
                        rs.getObject(5, java.time.OffsetDateTime.class).toInstant()));
            }
        }
        return claimed;
    }

    public void delete(Connection connection, List<Pending> done) throws SQLException {
        if (done.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(DELETE)) {
            bindKeys(connection, statement, 1, done);
            statement.executeUpdate();
        }
    }

    /** Tries the rows again after {@code delay}; with an error, counts a failed attempt. */
    public void postpone(Connection connection, List<Pending> pending, Duration delay, String error) throws SQLException {
        if (pending.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(POSTPONE)) {
            statement.setLong(1, delay.toMillis());
            statement.setString(2, error == null ? null : error.replace('\u0000', ' '));
            statement.setInt(3, error == null ? 0 : 1);
            bindKeys(connection, statement, 4, pending);
            statement.executeUpdate();
        }
    }

    private static void bindKeys(Connection connection, PreparedStatement statement, int first, List<Pending> keys) throws SQLException {
        statement.setArray(first, connection.createArrayOf("text", keys.stream().map(Pending::beneficiaryId).toArray()));
        statement.setArray(first + 1, connection.createArrayOf("text", keys.stream().map(Pending::period).toArray()));
        statement.setArray(first + 2, connection.createArrayOf("text", keys.stream().map(Pending::rulesetId).toArray()));
    }
}
