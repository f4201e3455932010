package org.eligo.queue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.work.Failure;

/**
 * The message queue's SQL; {@link MessageWork} is messages as a kind of work. A claim is a row lock
 * held by the worker's transaction for as long as it works on the batch: the same transaction
 * stores the facts and marks the messages PROCESSED, so either all of that commits or none of it
 * does, and a worker that dies simply releases its locks.
 */
@ApplicationScoped
public class MessageQueue {

    /**
     * Claims up to ? messages. SKIP LOCKED passes over rows other workers hold, so workers never wait
     * for or share a message. A row another worker marked PROCESSED after this statement's snapshot
     * was taken is re-checked against the WHERE clause when locked (PostgreSQL re-evaluates it on the
     * newest row version) and dropped, so a message is never claimed after it was processed.
     *
     * <p>Only messages of the fact types this instance has declared are claimed. During a rolling
     * deploy that adds a type, an instance of the new version accepts its messages before the old
     * ones are gone; an old instance leaves them for an instance that knows the type rather than
     * failing them (the rule for all work an instance cannot do: leave it, never drop it).
     */
    static final String CLAIM = """
            SELECT id, type, beneficiary_id, data::text, attempts
              FROM message
             WHERE status = 'RECEIVED'                     -- the backlog (partial index message_backlog)
               AND next_attempt_at <= clock_timestamp()    -- not while a failed message waits out its backoff
               AND type = ANY(?::text[])                   -- 1: the fact types this instance declares
             ORDER BY id                                   -- oldest first: ids are arrival order
             LIMIT ?                                       -- 2: the batch size
               FOR UPDATE SKIP LOCKED
            """;

    /** Claims one given message, if it is still unprocessed and free. Binds the message id. */
    static final String CLAIM_ONE = """
            SELECT id, type, beneficiary_id, data::text, attempts
              FROM message
             WHERE id = ? AND status = 'RECEIVED'
               FOR UPDATE SKIP LOCKED
            """;

    /** Binds: processed_at, text[] of message ids. */
    static final String MARK_PROCESSED = """
            UPDATE message
               SET status = 'PROCESSED', attempts = attempts + 1, processed_at = ?
             WHERE id = ANY(?::text[])
            """;

    /**
     * A failed attempt: FAILED at the dead end (redriven by MessageService.RETRY), else due again
     * after the backoff. Binds: last_error, dead end (boolean), backoff in milliseconds, message id.
     */
    static final String RECORD_FAILURE = """
            UPDATE message
               SET attempts = attempts + 1,
                   last_error = ?,
                   status = CASE WHEN ? THEN 'FAILED' ELSE 'RECEIVED' END,
                   next_attempt_at = clock_timestamp() + ? * interval '1 millisecond'
             WHERE id = ?
            """;

    /** Messages of these types, received and not yet processed, that no instance of this version can process. */
    static final String UNKNOWN_TYPES = """
            SELECT count(*) FROM message WHERE status = 'RECEIVED' AND NOT (type = ANY(?::text[]))
            """;

    /** The messages' counts for GET /v1/stats, by status; the backlog and its oldest message exactly. */
    public record Counts(long received, long processed, long failed, long backlog, Instant oldestBacklogReceivedAt) {
    }

    static final String COUNTS = """
            SELECT count(*),
                   count(*) FILTER (WHERE status = 'PROCESSED'),
                   count(*) FILTER (WHERE status = 'FAILED')
              FROM message
            """;
    /** Exact, and cheap however large the table: the partial index message_backlog holds only the backlog. */
    static final String BACKLOG = "SELECT count(*), (SELECT received_at FROM message WHERE status = 'RECEIVED' ORDER BY id LIMIT 1)"
            + " FROM message WHERE status = 'RECEIVED'";

    /** The counts, in the caller's transaction (a snapshot shared with the other tables' counts). */
    public Counts counts(Connection connection) throws SQLException {
        long received;
        long processed;
        long failed;
        try (PreparedStatement statement = connection.prepareStatement(COUNTS); ResultSet rs = statement.executeQuery()) {
            rs.next();
            received = rs.getLong(1);
            processed = rs.getLong(2);
            failed = rs.getLong(3);
        }
        try (PreparedStatement statement = connection.prepareStatement(BACKLOG); ResultSet rs = statement.executeQuery()) {
            rs.next();
            java.time.OffsetDateTime oldest = rs.getObject(2, java.time.OffsetDateTime.class);
            return new Counts(received, processed, failed, rs.getLong(1), oldest == null ? null : oldest.toInstant());
        }
    }

    /** Claims up to {@code limit} due messages of the given types. */
    public List<ClaimedMessage> claim(Connection connection, Collection<String> types, int limit) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLAIM)) {
            statement.setArray(1, connection.createArrayOf("text", types.toArray()));
            statement.setInt(2, limit);
            return read(statement);
        }
    }

    /** How many unprocessed messages are of types outside {@code types}: work this instance leaves for others. */
    public long countOtherTypes(Connection connection, Collection<String> types) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(UNKNOWN_TYPES)) {
            statement.setArray(1, connection.createArrayOf("text", types.toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    public Optional<ClaimedMessage> claimOne(Connection connection, String id) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLAIM_ONE)) {
            statement.setString(1, id);
            return read(statement).stream().findFirst();
        }
    }

    public void markProcessed(Connection connection, List<String> ids, Instant at) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(MARK_PROCESSED)) {
            statement.setObject(1, at.atOffset(ZoneOffset.UTC));
            statement.setArray(2, connection.createArrayOf("text", ids.toArray()));
            statement.executeUpdate();
        }
    }

    public void recordFailure(Connection connection, String id, Failure failure) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(RECORD_FAILURE)) {
            statement.setString(1, failure.error());
            statement.setBoolean(2, failure.deadEnd());
            statement.setLong(3, failure.deadEnd() ? 0 : failure.retryIn().toMillis());
            statement.setString(4, id);
            statement.executeUpdate();
        }
    }

    private static List<ClaimedMessage> read(PreparedStatement statement) throws SQLException {
        List<ClaimedMessage> claimed = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                claimed.add(new ClaimedMessage(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5)));
            }
        }
        return claimed;
    }
}
