package org.eligo.determinations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.support.Db;
import org.eligo.work.Failure;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;

/**
 * The queue of determinations to make after facts changed: one row per (beneficiary, period,
 * ruleset), so any number of changes coalesce into one determination. The owner of
 * {@code determination_queue} ({@link QueuedDetermination}): every statement on it is here, each
 * joining the caller's transaction. {@link DeterminationWork} is this queue as a kind of work.
 *
 * <p>Native SQL throughout: each statement either works on a set of rows at once (an upsert of
 * every beneficiary and ruleset a message touched, a claim of a batch with FOR UPDATE SKIP LOCKED,
 * a batch's delete or postponement through unnest), one statement instead of one per row, or reads
 * the database's clock and the dead end's 'infinity', which JPQL cannot write.
 *
 * <p>Why no change is missed: a message transaction upserts the row while it holds the beneficiary's
 * lock. If a worker is just making that beneficiary's determination, the worker holds the row lock,
 * so the upsert waits; the worker deletes the row and commits, and the upsert then inserts a fresh
 * row, which leads to a new determination that sees the new facts. The worker never waits for the
 * message transaction in turn (it only tries the beneficiary lock), so the two cannot deadlock.
 *
 * <p>The dead end: a row that failed {@code eligo.determinations.max-attempts} times gets
 * {@code next_attempt_at = 'infinity'} (no column of its own: a timestamp that never comes
 * needs none). It is never due again, so no claim takes it; it stays with
 * its {@code last_error} (a row is deleted only when its determination is stored), is counted as
 * failed, and {@link #REDRIVE} (or the next change to the beneficiary's facts, {@link #ENQUEUE})
 * makes it due with fresh attempts.
 */
@ApplicationScoped
public class DeterminationQueue implements PanacheRepositoryBase<QueuedDetermination, QueuedDetermination.Key> {

    /**
     * Binds: period, settle ms, text[] beneficiaries, text[] rulesets, max settle ms. A row already
     * queued is pushed back by the settle time (bounded); a row at its dead end is due again at once
     * with fresh attempts, since new facts are new input.
     */
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
     * an instance that has it, never dropped; a row at its dead end is never due. Binds: text[]
     * ruleset ids, limit.
     */
    static final String CLAIM = """
            SELECT beneficiary_id, period, ruleset_id, attempts, requested_at
              FROM determination_queue
             WHERE next_attempt_at <= clock_timestamp()    -- index determination_queue_due
               AND ruleset_id = ANY(?::text[])
             ORDER BY next_attempt_at
             LIMIT ?
               FOR UPDATE SKIP LOCKED
            """;

    /** Claims one given row, if it is due and free. Binds the key. */
    static final String CLAIM_ONE = """
            SELECT beneficiary_id, period, ruleset_id, attempts, requested_at
              FROM determination_queue
             WHERE beneficiary_id = ? AND period = ? AND ruleset_id = ?
               AND next_attempt_at < 'infinity'            -- not at its dead end
               FOR UPDATE SKIP LOCKED
            """;

    static final String DELETE = """
            DELETE FROM determination_queue q
             USING unnest(?::text[], ?::text[], ?::text[]) AS k(beneficiary_id, period, ruleset_id)
             WHERE q.beneficiary_id = k.beneficiary_id AND q.period = k.period AND q.ruleset_id = k.ruleset_id
            """;

    /** Not yet (a beneficiary busy, a backlog still arriving): due again after a delay, no attempt spent. Binds: delay ms, then the keys. */
    static final String POSTPONE = """
            UPDATE determination_queue q
               SET next_attempt_at = clock_timestamp() + ? * interval '1 millisecond'
              FROM unnest(?::text[], ?::text[], ?::text[]) AS k(beneficiary_id, period, ruleset_id)
             WHERE q.beneficiary_id = k.beneficiary_id AND q.period = k.period AND q.ruleset_id = k.ruleset_id
            """;

    /** A failed attempt: due again after the backoff, or at its dead end. Binds: last_error, dead end, backoff ms, the key. */
    static final String RECORD_FAILURE = """
            UPDATE determination_queue
               SET attempts = attempts + 1,
                   last_error = ?,
                   next_attempt_at = CASE WHEN ? THEN 'infinity'
                                          ELSE clock_timestamp() + ? * interval '1 millisecond' END
             WHERE beneficiary_id = ? AND period = ? AND ruleset_id = ?
            """;

    /**
     * An analyst's redrive: rows at their dead end (all, or one beneficiary's, or one ruleset's) are
     * due now with fresh attempts; their last_error stays until they succeed. Binds: beneficiary or
     * null (twice), ruleset or null (twice).
     */
    static final String REDRIVE = """
            UPDATE determination_queue
               SET attempts = 0, next_attempt_at = clock_timestamp()
             WHERE next_attempt_at = 'infinity'
               AND (?::text IS NULL OR beneficiary_id = ?::text)
               AND (?::text IS NULL OR ruleset_id = ?::text)
            """;

    /** Rows still to be made, and rows at their dead end; both exact. */
    static final String COUNTS = """
            SELECT count(*) FILTER (WHERE next_attempt_at < 'infinity'),
                   count(*) FILTER (WHERE next_attempt_at = 'infinity')
              FROM determination_queue
            """;

    /** Rows still to be made of rulesets outside ?: work this instance leaves for others. Binds text[]. */
    static final String OTHER_RULESETS = """
            SELECT count(*) FROM determination_queue
             WHERE NOT (ruleset_id = ANY(?::text[])) AND next_attempt_at < 'infinity'
            """;


    /** A queued determination, as claimed. */
    public record Pending(String beneficiaryId, String period, String rulesetId, int attempts, Instant requestedAt) {
    }

    /** How much of the queue is still to be made ({@code pending}) and how much is at its dead end ({@code failed}). */
    public record Counts(long pending, long failed) {
    }

    private final Db db;
    private final DeterminationsConfig config;

    public DeterminationQueue(Db db, DeterminationsConfig config) {
        this.db = db;
        this.config = config;
    }

    /** In the caller's (message) transaction: queue a determination of {@code period} for each beneficiary and ruleset. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void enqueue(Collection<String> beneficiaries, YearMonth period, Collection<String> rulesetIds) {
        db.inCurrent(connection -> {
            enqueueOn(connection, config, beneficiaries, period, rulesetIds);
            return null;
        });
    }


    private static void enqueueOn(Connection connection, DeterminationsConfig config, Collection<String> beneficiaries, YearMonth period,
                                  Collection<String> rulesetIds) throws SQLException {
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
    @Transactional(Transactional.TxType.MANDATORY)
    public List<Pending> claim(Collection<String> rulesetIds, int limit) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(CLAIM)) {
                statement.setArray(1, connection.createArrayOf("text", rulesetIds.toArray()));
                statement.setInt(2, limit);
                return read(statement);
            }
        });
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Pending> claimOne(Pending key) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(CLAIM_ONE)) {
                statement.setString(1, key.beneficiaryId());
                statement.setString(2, key.period());
                statement.setString(3, key.rulesetId());
                return read(statement).stream().findFirst();
            }
        });
    }


    @Transactional(Transactional.TxType.MANDATORY)
    public void delete(List<Pending> done) {
        if (done.isEmpty()) {
            return;
        }
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(DELETE)) {
                bindKeys(connection, statement, 1, done);
                return statement.executeUpdate();
            }
        });
    }

    /** Tries the rows again after {@code delay}, spending no attempt. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void postpone(List<Pending> pending, Duration delay) {
        if (pending.isEmpty()) {
            return;
        }
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(POSTPONE)) {
                statement.setLong(1, delay.toMillis());
                bindKeys(connection, statement, 2, pending);
                return statement.executeUpdate();
            }
        });
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void recordFailure(Pending pending, Failure failure) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RECORD_FAILURE)) {
                statement.setString(1, failure.error());
                statement.setBoolean(2, failure.deadEnd());
                statement.setLong(3, failure.deadEnd() ? 0 : failure.retryIn().toMillis());
                statement.setString(4, pending.beneficiaryId());
                statement.setString(5, pending.period());
                statement.setString(6, pending.rulesetId());
                return statement.executeUpdate();
            }
        });
    }

    /** Makes the rows at their dead end (of one beneficiary and/or ruleset, when given) due again; returns how many. */
    @Transactional(Transactional.TxType.MANDATORY)
    public int redrive(String beneficiaryId, String rulesetId) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(REDRIVE)) {
                statement.setString(1, beneficiaryId);
                statement.setString(2, beneficiaryId);
                statement.setString(3, rulesetId);
                statement.setString(4, rulesetId);
                return statement.executeUpdate();
            }
        });
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public Counts counts() {
        return db.inCurrent(DeterminationQueue::countsOn);
    }


    private static Counts countsOn(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(COUNTS); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return new Counts(rs.getLong(1), rs.getLong(2));
        }
    }

    /** Rows still to be made of rulesets outside {@code rulesetIds}: work this instance leaves for others. */
    @Transactional(Transactional.TxType.MANDATORY)
    public long countOtherRulesets(Collection<String> rulesetIds) {
        return db.inCurrent(connection -> countOtherRulesetsOn(connection, rulesetIds));
    }


    private static long countOtherRulesetsOn(Connection connection, Collection<String> rulesetIds) throws SQLException {
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
                        rs.getObject(5, OffsetDateTime.class).toInstant()));
            }
        }
        return claimed;
    }

    private static void bindKeys(Connection connection, PreparedStatement statement, int first, List<Pending> keys) throws SQLException {
        statement.setArray(first, connection.createArrayOf("text", keys.stream().map(Pending::beneficiaryId).toArray()));
        statement.setArray(first + 1, connection.createArrayOf("text", keys.stream().map(Pending::period).toArray()));
        statement.setArray(first + 2, connection.createArrayOf("text", keys.stream().map(Pending::rulesetId).toArray()));
    }
}
