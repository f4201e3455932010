package org.eligo.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import org.eligo.facts.FactTypes;
import org.eligo.ledger.Canonical;
import org.eligo.ledger.Ledger;
import org.eligo.support.Db;
import org.eligo.support.Timestamps;
import org.eligo.work.Failure;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;

/**
 * The owner of the tables {@code message} and {@code message_key} (V2__messages.sql): every statement
 * on them is here, and nowhere else in Java. Ingest inserts through it, the work engine claims and
 * settles messages through it ({@code org.eligo.queue.MessageWork}), replays re-read them, and stats
 * and metrics count them.
 *
 * <p>Most statements are SQL on the caller's connection ({@link Db#inCurrent}), because they work on
 * sets: a batch of messages in one statement (arrays bound as one parameter each, whatever their
 * length, where an IN list would take a parameter per element), row locks taken with SKIP LOCKED,
 * idempotency keys claimed with ON CONFLICT. JPQL serves what it expresses as well (the counts, the
 * redrive of one message). Writes and claims join the caller's transaction and refuse to run without
 * one ({@code MANDATORY}); reads join one if there is one, else run in their own.
 *
 * <p>Statuses appear in the SQL as {@code {RECEIVED}}, {@code {PROCESSED}}, {@code {FAILED}}, which
 * {@link #sql} replaces once with the {@link MessageStatus} as a literal. Literals, not bind
 * parameters: the backlog's partial index ({@code message_backlog ... WHERE status = 'RECEIVED'})
 * serves a query only when the planner can prove the query's predicate implies the index's, which it
 * cannot for a bound status once PostgreSQL switches a prepared statement to its generic plan.
 */
@ApplicationScoped
public class Messages implements PanacheRepositoryBase<Message, String> {

    /**
     * Inserts a set of messages in one statement (one per batch instead of one per message). Each
     * message first claims its idempotency key in message_key, the one table that keeps
     * (source, external_id) unique across every monthly partition of message. A key that exists
     * already (committed, or committed meanwhile by a concurrent request: ON CONFLICT waits for it) is
     * skipped with its message; RETURNING names the rows that were new. Binds the request's
     * traceparent, then text[] of: id, source, external_id, type, beneficiary_id, occurred_at, data.
     */
    static final String INSERT = """
            WITH m AS (
                SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                           AS m(id, source, external_id, type, beneficiary_id, occurred_at, data)
            ), claimed AS (
                INSERT INTO message_key (source, external_id, message_id)
                SELECT m.source, m.external_id, m.id FROM m
                ON CONFLICT (source, external_id) DO NOTHING
                RETURNING message_id
            )
            INSERT INTO message (id, source, external_id, type, beneficiary_id, occurred_at, data, traceparent)
            SELECT m.id, m.source, m.external_id, m.type, m.beneficiary_id, m.occurred_at::timestamptz, m.data::jsonb, ?
              FROM m JOIN claimed c ON c.message_id = m.id
            RETURNING id, received_at, occurred_at
            """;

    /** Stored messages with the given keys, in one statement. Binds text[] of sources and external ids, pairwise. */
    static final String EXISTING = """
            SELECT m.source, m.external_id, m.id, m.status, m.type, m.beneficiary_id, m.occurred_at, m.data::text
              FROM unnest(?::text[], ?::text[]) AS k(source, external_id)
              JOIN message_key mk ON mk.source = k.source AND mk.external_id = k.external_id
              JOIN message m ON m.id = mk.message_id
            """;

    /** One message; its facts' ids are the facts' owner's to read (MessageQueries). Binds the message id. */
    /** A message as the API shows it, read by {@link #viewRow}. */
    static final String VIEW = """
            SELECT m.id, m.source, m.external_id, m.type, m.beneficiary_id, m.occurred_at, m.received_at,
                   m.status, m.attempts, m.last_error, m.data::text, m.traceparent
            """;

    static final String BY_ID = VIEW + """
              FROM message m WHERE m.id = ?
            """;

    /** Several messages at once (the ones a page of facts came from). Binds text[]. */
    static final String BY_IDS = VIEW + """
              FROM message m WHERE m.id = ANY(?::text[])
            """;

    /**
     * Counts unprocessed messages of the given types up to a bound (a walk of the partial index of
     * the backlog that stops at the bound, where a count of everything would walk it all). Binds
     * text[] types, the bound.
     */
    static final String COUNT_UP_TO = sql("""
            SELECT count(*) FROM (SELECT 1 FROM message WHERE status = {RECEIVED} AND type = ANY(?::text[]) LIMIT ?) AS backlog
            """);

    /**
     * Claims up to ? messages. SKIP LOCKED passes over rows other workers hold, so workers never wait
     * for or share a message; one statement locks the whole batch, which Panache's per-entity locks
     * cannot. A row another worker marked PROCESSED after this statement's snapshot was taken is
     * re-checked against the WHERE clause when locked (PostgreSQL re-evaluates it on the newest row
     * version) and dropped, so a message is never claimed after it was processed.
     *
     * <p>Only messages of the fact types this instance has declared are claimed. During a rolling
     * deploy that adds a type, an instance of the new version accepts its messages before the old
     * ones are gone; an old instance leaves them for an instance that knows the type rather than
     * failing them (the rule for all work an instance cannot do: leave it, never drop it).
     */
    static final String CLAIM = sql("""
            SELECT id, type, beneficiary_id, data::text, attempts
              FROM message
             WHERE status = {RECEIVED}                     -- the backlog (partial index message_backlog)
               AND next_attempt_at <= clock_timestamp()    -- not while a failed message waits out its backoff
               AND type = ANY(?::text[])                   -- 1: the fact types this instance declares
             ORDER BY id                                   -- oldest first: ids are arrival order
             LIMIT ?                                       -- 2: the batch size
               FOR UPDATE SKIP LOCKED
            """);

    /** Claims one given message, if it is still unprocessed and free. Binds the message id. */
    static final String CLAIM_ONE = sql("""
            SELECT id, type, beneficiary_id, data::text, attempts
              FROM message
             WHERE id = ? AND status = {RECEIVED}
               FOR UPDATE SKIP LOCKED
            """);

    /** A batch processed, in one statement. Binds: processed_at, text[] of message ids. */
    static final String MARK_PROCESSED = sql("""
            UPDATE message
               SET status = {PROCESSED}, attempts = attempts + 1, processed_at = ?
             WHERE id = ANY(?::text[])
            """);

    /**
     * A failed attempt: FAILED at the dead end (redriven by {@link #retry}), else due again after the
     * backoff, by the database's clock like the claim. Binds: last_error, dead end (boolean), backoff
     * in milliseconds, message id.
     */
    static final String RECORD_FAILURE = sql("""
            UPDATE message
               SET attempts = attempts + 1,
                   last_error = ?,
                   status = CASE WHEN ? THEN {FAILED} ELSE {RECEIVED} END,
                   next_attempt_at = clock_timestamp() + ? * interval '1 millisecond'
             WHERE id = ?
            """);

    /** Unprocessed messages that no instance of this version can process: of types outside ?. Binds text[]. */
    static final String OTHER_TYPES = sql("""
            SELECT count(*) FROM message WHERE status = {RECEIVED} AND NOT (type = ANY(?::text[]))
            """);

    /**
     * The backlog: its size, the oldest message's arrival, and the database's clock to measure its
     * wait by. Exact, and cheap however large the table: the partial index message_backlog holds
     * only the backlog.
     */
    static final String UNPROCESSED = sql("""
            SELECT count(*),
                   (SELECT received_at FROM message WHERE status = {RECEIVED} ORDER BY id LIMIT 1),
                   clock_timestamp()
              FROM message WHERE status = {RECEIVED}
            """);

    /** Which of these beneficiaries still have received messages waiting to be processed. Binds text[]. */
    static final String WITH_BACKLOG = sql("""
            SELECT DISTINCT beneficiary_id FROM message
             WHERE beneficiary_id = ANY(?::text[]) AND status = {RECEIVED}
            """);

    /** Beneficiaries with settled (processed or failed) messages of the types ?. Binds text[]. */
    static final String SETTLED_BENEFICIARIES = sql("""
            SELECT DISTINCT beneficiary_id FROM message
             WHERE status IN ({PROCESSED}, {FAILED}) AND type = ANY(?::text[])
             ORDER BY 1
            """);

    /** The settled messages of these beneficiaries and types, oldest first. Binds text[] beneficiaries, text[] types. */
    static final String SETTLED = sql("""
            SELECT id, type, beneficiary_id, data::text FROM message
             WHERE beneficiary_id = ANY(?::text[]) AND status IN ({PROCESSED}, {FAILED}) AND type = ANY(?::text[])
             ORDER BY id
            """);

    /** Failed messages that a replay turned into facts after all, in one statement. Binds processed_at, text[] ids. */
    static final String PROCESSED_ON_REPLAY = sql("""
            UPDATE message SET status = {PROCESSED}, processed_at = ? WHERE id = ANY(?::text[]) AND status = {FAILED}
            """);

    /** A message already stored under a submitted key. */
    public record Existing(String id, MessageStatus status, IncomingMessage content) {
    }

    /** The messages' counts for GET /v1/stats, by status: received and processed estimated; failed, the backlog and its oldest message exactly. */
    public record Counts(long received, long processed, long failed, long backlog, Instant oldestBacklogReceivedAt) {
    }

    /** The backlog now: how many messages wait, since when the oldest has, and for how long (null: none waits). */
    public record Unprocessed(long count, Instant oldestReceivedAt, Duration oldestWait) {
    }

    /** A settled (processed or failed) message, as a replay derives its fact again. */
    public record Settled(String id, String type, String beneficiaryId, String data) {
    }

    /** A message's ledger leaves are labelled message/&lt;id&gt;. */
    public static final String LEDGER_TABLE = "message";

    private final Db db;
    private final FactTypes types;
    private final ObjectReader reader;
    private final Ledger ledger;

    public Messages(Db db, FactTypes types, ObjectMapper mapper, Ledger ledger) {
        this.ledger = ledger;
        this.db = db;
        this.types = types;
        // Decimals read back exactly as stored (35.50 stays 35.50), not through a double.
        this.reader = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }

    // ---------------------------------------------------------------------------------------------
    // Ingest

    /**
     * Inserts {@code messages} (with their ids, distinct keys), in the caller's transaction; returns
     * the ids that were new. Rows are claimed in the order given: callers sort by key, so that two
     * requests with overlapping keys wait for each other instead of deadlocking. (Called by
     * {@link #store} only, in its transaction.)
     */
    private Set<String> insert(List<IncomingMessage> messages, List<String> ids, String traceparent) {
        int n = messages.size();
        String[][] content = contentColumns(messages);
        String[][] columns = new String[7][];
        columns[0] = ids.toArray(new String[0]);
        System.arraycopy(content, 0, columns, 1, content.length);
        return db.inCurrent(connection -> {
            Set<String> inserted = new HashSet<>();
            try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
                for (int c = 0; c < columns.length; c++) {
                    statement.setArray(c + 1, connection.createArrayOf("text", columns[c]));
                }
                statement.setString(columns.length + 1, traceparent);
                Map<String, Integer> positions = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    positions.put(columns[0][i], i);
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        String id = rs.getString(1);
                        inserted.add(id);
                        int i = positions.get(id);
                        // Hashed as stored: the database's received_at, and occurred_at as it kept it (microseconds).
                        ledger.record(LEDGER_TABLE + "/" + id, canonical(id, columns[1][i], columns[2][i], columns[3][i], columns[4][i],
                                Timestamps.read(rs, 3), Timestamps.read(rs, 2), columns[6][i], traceparent));
                    }
                }
            }
            return inserted;
        });
    }

    /** What became of a message given to {@link #store}: stored new, or its key already stored with the same content or with other content. */
    public enum Outcome {
        NEW, DUPLICATE, CONFLICT
    }

    /**
     * A message's outcome, with the id and status of the message stored under its key (the new one,
     * or the one found); {@code purged}: the one found was removed by retention (its key and a digest
     * of its content are kept, V14__purged_message_keys.sql).
     */
    public record Stored(Outcome outcome, String id, MessageStatus status, boolean purged) {
        public Stored(Outcome outcome, String id, MessageStatus status) {
            this(outcome, id, status, false);
        }
    }

    /**
     * The keys among ? whose messages retention removed, with whether the content offered now is the
     * content that was stored (compared by digest: the content itself is gone). Binds text[] of
     * source, external_id, type, beneficiary_id, occurred_at, data.
     */
    static final String PURGED = """
            SELECT p.source, p.external_id, p.message_id, p.status,
                   p.content_sha256 = eligo_message_digest(k.type, k.beneficiary_id, k.occurred_at::timestamptz, k.data::jsonb)
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS k(source, external_id, type, beneficiary_id, occurred_at, data)
              JOIN message_key_purged p ON p.source = k.source AND p.external_id = k.external_id
            """;

    /** A key whose message retention removed: that message's id and last status, and whether the content offered is the same. */
    record Purged(String id, MessageStatus status, boolean sameContent) {
    }

    /** The messages as text arrays, one per column, bound as one parameter each: source, external_id, type, beneficiary_id, occurred_at, data. */
    private static String[][] contentColumns(List<IncomingMessage> messages) {
        int n = messages.size();
        String[][] columns = new String[6][n];
        for (int i = 0; i < n; i++) {
            IncomingMessage m = messages.get(i);
            columns[0][i] = m.source();
            columns[1][i] = m.externalId();
            columns[2][i] = m.type().name();
            columns[3][i] = m.beneficiaryId();
            columns[4][i] = m.occurredAt() == null ? null : Timestamps.format(m.occurredAt());
            columns[5][i] = m.data().toString();
        }
        return columns;
    }

    private Map<IncomingMessage.Key, Purged> purged(List<IncomingMessage> messages) {
        String[][] columns = contentColumns(messages);
        return db.inCurrent(connection -> {
            Map<IncomingMessage.Key, Purged> found = new HashMap<>();
            try (PreparedStatement statement = connection.prepareStatement(PURGED)) {
                for (int c = 0; c < columns.length; c++) {
                    statement.setArray(c + 1, connection.createArrayOf("text", columns[c]));
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.put(new IncomingMessage.Key(rs.getString(1), rs.getString(2)),
                                new Purged(rs.getString(3), MessageStatus.valueOf(rs.getString(4)), rs.getBoolean(5)));
                    }
                }
            }
            return found;
        });
    }

    /**
     * Inserts {@code messages} (distinct keys, in key order, with {@code ids}) as {@link #insert} does
     * and says what became of each, in their order: the one place that tells a new key from a
     * repeated one and a repeat from a conflict, for every way messages come in (a request, an
     * import's chunk). A conflict stores nothing for that message; whether it undoes the others is
     * the caller's to decide.
     */
    @Transactional(TxType.MANDATORY)
    public List<Stored> store(List<IncomingMessage> messages, List<String> ids, String traceparent) {
        Set<String> inserted = insert(messages, ids, traceparent);
        List<IncomingMessage> repeated = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!inserted.contains(ids.get(i))) {
                repeated.add(messages.get(i));
            }
        }
        Map<IncomingMessage.Key, Existing> existing = repeated.isEmpty() ? Map.of() : existing(repeated);
        // Keys kept after their messages were removed by retention, asked about only when some key was not found stored.
        List<IncomingMessage> gone = repeated.stream().filter(m -> !existing.containsKey(m.key())).toList();
        Map<IncomingMessage.Key, Purged> purged = gone.isEmpty() ? Map.of() : purged(gone);
        List<Stored> outcomes = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            if (inserted.contains(ids.get(i))) {
                outcomes.add(new Stored(Outcome.NEW, ids.get(i), MessageStatus.RECEIVED));
                continue;
            }
            IncomingMessage message = messages.get(i);
            Existing stored = existing.get(message.key());
            Purged removed = purged.get(message.key());
            if (stored == null && removed != null) {
                outcomes.add(new Stored(removed.sameContent() ? Outcome.DUPLICATE : Outcome.CONFLICT, removed.id(), removed.status(), true));
                continue;
            }
            if (stored == null) {
                // ON CONFLICT skipped it, so the key exists; it must be visible to this later statement.
                throw new IllegalStateException("message key " + message.key() + " conflicted but is not visible");
            }
            outcomes.add(new Stored(stored.content().sameContentAs(message) ? Outcome.DUPLICATE : Outcome.CONFLICT, stored.id(), stored.status()));
        }
        return outcomes;
    }

    /** The stored messages for the keys of {@code messages}, keyed by idempotency key. */
    @Transactional
    public Map<IncomingMessage.Key, Existing> existing(List<IncomingMessage> messages) {
        return db.inCurrent(connection -> {
            Map<IncomingMessage.Key, Existing> found = new HashMap<>();
            try (PreparedStatement statement = connection.prepareStatement(EXISTING)) {
                statement.setArray(1, connection.createArrayOf("text", messages.stream().map(IncomingMessage::source).toArray()));
                statement.setArray(2, connection.createArrayOf("text", messages.stream().map(IncomingMessage::externalId).toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        IncomingMessage content = new IncomingMessage(null, rs.getString(1), rs.getString(2),
                                types.byName(rs.getString(5)).orElse(null), rs.getString(6), Timestamps.read(rs, 7), json(rs.getString(8)));
                        found.put(content.key(), new Existing(rs.getString(3), MessageStatus.valueOf(rs.getString(4)), content));
                    }
                }
            }
            return found;
        });
    }

    /**
     * A page of a beneficiary's messages, newest first (ids are ULIDs minted on arrival), before
     * {@code beforeId} when given: index message_beneficiary (beneficiary_id, id), read backwards.
     * Binds beneficiary, before, limit.
     */
    static final String OF_BENEFICIARY = VIEW + """
              FROM message m WHERE m.beneficiary_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?
            """;

    /**
     * A page of the messages with one status, newest first, before a message id, optionally of some
     * sources only: the status is written into the statement ({@code %s}, a {@link MessageStatus}), so
     * that its partial index (message_backlog for RECEIVED, message_failed for FAILED) is the plan.
     * Binds before, text[] sources (NULL: any), limit.
     */
    static final String WITH_STATUS = VIEW + """
              FROM message m WHERE m.status = '%s' AND m.id < ? AND (?::text[] IS NULL OR m.source = ANY(?::text[]))
             ORDER BY m.id DESC LIMIT ?
            """;

    /** Up to {@code limit} messages with {@code status} (RECEIVED or FAILED), newest first, from before {@code beforeId}; of {@code sources} only unless null. */
    @Transactional
    public List<MessageView> withStatus(MessageStatus status, java.util.List<String> sources, String beforeId, int limit) {
        if (status == MessageStatus.PROCESSED) {
            throw new IllegalArgumentException("processed messages are not listed by status (no index holds them apart)");
        }
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(WITH_STATUS.formatted(status.name()))) {
                java.sql.Array array = sources == null ? null : connection.createArrayOf("text", sources.toArray());
                statement.setString(1, beforeId == null ? AFTER_EVERY_ID : beforeId);
                statement.setArray(2, array);
                statement.setArray(3, array);
                statement.setInt(4, limit);
                return views(statement);
            }
        });
    }

    /** Above every message id: "msg_" and a ULID are all below '~'. */
    private static final String AFTER_EVERY_ID = "msg_~";

    /** Up to {@code limit} of a beneficiary's messages, newest first, from before {@code beforeId} (null: the newest); fact ids left empty. */
    @Transactional
    public List<MessageView> ofBeneficiary(String beneficiaryId, String beforeId, int limit) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(OF_BENEFICIARY)) {
                statement.setString(1, beneficiaryId);
                statement.setString(2, beforeId == null ? AFTER_EVERY_ID : beforeId);
                statement.setInt(3, limit);
                return views(statement);
            }
        });
    }

    private List<MessageView> views(PreparedStatement statement) throws SQLException {
        List<MessageView> found = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                found.add(viewRow(rs));
            }
        }
        return found;
    }

    private MessageView viewRow(ResultSet rs) throws SQLException {
        return new MessageView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                Timestamps.read(rs, 6), Timestamps.read(rs, 7), MessageStatus.valueOf(rs.getString(8)), rs.getInt(9),
                rs.getString(10), json(rs.getString(11)), List.of(), rs.getString(12));
    }

    /** A stored message with its processing state; its fact ids left empty (see MessageQueries). */
    @Transactional
    public Optional<MessageView> view(String id) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(BY_ID)) {
                statement.setString(1, id);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(viewRow(rs));
                }
            }
        });
    }

    /** {@link #view} of several messages in one statement, by id; an id without a message is absent. */
    @Transactional
    public java.util.Map<String, MessageView> views(java.util.Collection<String> ids) {
        java.util.Map<String, MessageView> found = new java.util.HashMap<>();
        if (ids.isEmpty()) {
            return found;
        }
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(BY_IDS)) {
                statement.setArray(1, connection.createArrayOf("text", ids.stream().distinct().toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        MessageView view = viewRow(rs);
                        found.put(view.id(), view);
                    }
                }
            }
            return found;
        });
    }

    /**
     * Sets a FAILED message back to the queue with fresh attempts, due at once ({@code instant}: the
     * transaction's start by the database's clock, already past for the claim's clock_timestamp());
     * its last_error stays. False when the message is not FAILED (or does not exist).
     */
    @Transactional(TxType.MANDATORY)
    public boolean retry(String id) {
        return update("status = ?1, attempts = 0, nextAttemptAt = instant where id = ?2 and status = ?3",
                MessageStatus.RECEIVED, id, MessageStatus.FAILED) > 0;
    }

    /**
     * Redrives FAILED messages at once, oldest first, optionally of one type and whose last error
     * contains a text (strpos: the text is not a pattern). Walks the partial index of the failed
     * (message_failed); SKIP LOCKED passes over one being redriven by someone else. Binds: type
     * (or null) twice, text (or null) twice, limit.
     */
    static final String RETRY_FAILED = sql("""
            UPDATE message m SET status = {RECEIVED}, attempts = 0, next_attempt_at = clock_timestamp()
             WHERE m.id IN (SELECT id FROM message
                             WHERE status = {FAILED}
                               AND (?::text IS NULL OR type = ?)
                               AND (?::text IS NULL OR strpos(last_error, ?) > 0)
                             ORDER BY id
                             LIMIT ?
                               FOR UPDATE SKIP LOCKED)
               AND m.status = {FAILED}
            RETURNING m.id, m.beneficiary_id
            """);

    /** A message redriven: its id and beneficiary (for the access log). */
    public record Redriven(String id, String beneficiaryId) {
    }

    /** See {@link #RETRY_FAILED}. */
    @Transactional(TxType.MANDATORY)
    public List<Redriven> retryFailed(String type, String errorContains, int limit) {
        return db.inCurrent(connection -> {
            List<Redriven> done = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(RETRY_FAILED)) {
                statement.setString(1, type);
                statement.setString(2, type);
                statement.setString(3, errorContains);
                statement.setString(4, errorContains);
                statement.setInt(5, limit);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        done.add(new Redriven(rs.getString(1), rs.getString(2)));
                    }
                }
            }
            done.sort(java.util.Comparator.comparing(Redriven::id));
            return done;
        });
    }

    /** How many messages of {@code types} wait to be processed, counted up to {@code bound} at most. */
    @Transactional
    public long countBacklogUpTo(Collection<String> types, long bound) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(COUNT_UP_TO)) {
                statement.setArray(1, connection.createArrayOf("text", types.toArray()));
                statement.setLong(2, bound);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // The work queue: claims and settlements, in the work engine's transaction. A claim is a row
    // lock held by that transaction for as long as the worker works on the batch: the same
    // transaction stores the facts and marks the messages PROCESSED, so either all of that commits
    // or none of it does, and a worker that dies simply releases its locks.

    /** Claims up to {@code limit} due messages of the given types. */
    @Transactional(TxType.MANDATORY)
    public List<ClaimedMessage> claim(Collection<String> types, int limit) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(CLAIM)) {
                statement.setArray(1, connection.createArrayOf("text", types.toArray()));
                statement.setInt(2, limit);
                return claimed(statement);
            }
        });
    }

    /** Claims one given message, if it is still unprocessed and no one else holds it. */
    @Transactional(TxType.MANDATORY)
    public Optional<ClaimedMessage> claimOne(String id) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(CLAIM_ONE)) {
                statement.setString(1, id);
                return claimed(statement).stream().findFirst();
            }
        });
    }

    @Transactional(TxType.MANDATORY)
    public void markProcessed(List<String> ids, Instant at) {
        if (ids.isEmpty()) {
            return;
        }
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(MARK_PROCESSED)) {
                statement.setObject(1, at.atOffset(ZoneOffset.UTC));
                statement.setArray(2, connection.createArrayOf("text", ids.toArray()));
                return statement.executeUpdate();
            }
        });
    }

    @Transactional(TxType.MANDATORY)
    public void recordFailure(String id, Failure failure) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RECORD_FAILURE)) {
                statement.setString(1, failure.error());
                statement.setBoolean(2, failure.deadEnd());
                statement.setLong(3, failure.deadEnd() ? 0 : failure.retryIn().toMillis());
                statement.setString(4, id);
                return statement.executeUpdate();
            }
        });
    }

    /** Which of {@code beneficiaryIds} still have received messages waiting to be processed. */
    @Transactional
    public Set<String> beneficiariesWithBacklog(Collection<String> beneficiaryIds) {
        Set<String> found = new HashSet<>();
        if (beneficiaryIds.isEmpty()) {
            return found;
        }
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(WITH_BACKLOG)) {
                statement.setArray(1, connection.createArrayOf("text", beneficiaryIds.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.add(rs.getString(1));
                    }
                }
            }
            return found;
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Replays

    /** The beneficiaries with settled (processed or failed) messages of {@code types}, in id order. */
    @Transactional
    public List<String> beneficiariesWithSettled(Collection<String> types) {
        return db.inCurrent(connection -> {
            List<String> found = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(SETTLED_BENEFICIARIES)) {
                statement.setArray(1, connection.createArrayOf("text", types.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.add(rs.getString(1));
                    }
                }
            }
            return found;
        });
    }

    /** The settled messages of {@code beneficiaries} and {@code types}, oldest first. */
    @Transactional
    public List<Settled> settled(Collection<String> beneficiaries, Collection<String> types) {
        return db.inCurrent(connection -> {
            List<Settled> found = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(SETTLED)) {
                statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
                statement.setArray(2, connection.createArrayOf("text", types.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.add(new Settled(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                    }
                }
            }
            return found;
        });
    }

    /** Marks those of {@code ids} that are FAILED as PROCESSED at {@code at}: a replay derived their facts after all. */
    @Transactional(TxType.MANDATORY)
    public void processedOnReplay(Collection<String> ids, Instant at) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(PROCESSED_ON_REPLAY)) {
                statement.setObject(1, at.atOffset(ZoneOffset.UTC));
                statement.setArray(2, connection.createArrayOf("text", ids.toArray()));
                return statement.executeUpdate();
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Counts

    /** Failed messages, exactly: a walk of the partial index message_failed, which holds only them. */
    static final String FAILED_COUNT = sql("""
            SELECT count(*) FROM message WHERE status = {FAILED}
            """);

    /**
     * The counts for GET /v1/stats, in the caller's transaction when there is one (a snapshot shared
     * with the other tables' counts). Only what a partial index bounds is counted (the backlog and the
     * failed messages, which the service keeps small); the total is the planner's estimate
     * ({@link Db#estimatedRows}), never less than those two, and processed is what is left of it.
     */
    @Transactional
    public Counts counts() {
        Unprocessed backlog = unprocessed();
        long failed = db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(FAILED_COUNT); ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
        long received = Math.max(db.estimatedRows("message"), failed + backlog.count());
        return new Counts(received, received - failed - backlog.count(), failed, backlog.count(), backlog.oldestReceivedAt());
    }

    /** The backlog now, exactly. */
    @Transactional
    public Unprocessed unprocessed() {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(UNPROCESSED); ResultSet rs = statement.executeQuery()) {
                rs.next();
                OffsetDateTime oldest = rs.getObject(2, OffsetDateTime.class);
                OffsetDateTime now = rs.getObject(3, OffsetDateTime.class);
                return new Unprocessed(rs.getLong(1), oldest == null ? null : oldest.toInstant(),
                        oldest == null ? null : Duration.between(oldest, now));
            }
        });
    }

    /** How many unprocessed messages are of types outside {@code types}: work this instance leaves for others. */
    @Transactional
    public long countOtherTypes(Collection<String> types) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(OTHER_TYPES)) {
                statement.setArray(1, connection.createArrayOf("text", types.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    // ---------------------------------------------------------------------------------------------

    /** {@code text} with each {STATUS} replaced by that status as an SQL literal (see the class comment). */
    private static String sql(String text) {
        for (MessageStatus status : MessageStatus.values()) {
            text = text.replace("{" + status.name() + "}", "'" + status.name() + "'");
        }
        return text;
    }

    private static List<ClaimedMessage> claimed(PreparedStatement statement) throws SQLException {
        List<ClaimedMessage> claimed = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                claimed.add(new ClaimedMessage(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5)));
            }
        }
        return claimed;
    }

    private JsonNode json(String text) {
        try {
            return reader.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A message's canonical content (README, "The ledger"): what was submitted and when it was
     * received, as stored; not its processing state (status, attempts, last_error, next_attempt_at,
     * processed_at), which moves.
     */
    public static Canonical canonical(String id, String source, String externalId, String type, String beneficiaryId, java.time.Instant occurredAt,
                                   java.time.Instant receivedAt, String data, String traceparent) {
        return Canonical.object().put("id", id).put("source", source).put("external_id", externalId).put("type", type)
                .put("beneficiary_id", beneficiaryId).put("occurred_at", occurredAt).put("received_at", receivedAt)
                .putJson("data", data).put("traceparent", traceparent);
    }

    /**
     * Every stored message in its ledger form, in id order (which is label order), streamed: for
     * verification (org.eligo.ledger.LedgerVerifier). In the caller's transaction.
     */
    static final String ALL_IN_LEDGER_FORM = """
            SELECT id, source, external_id, type, beneficiary_id, occurred_at, received_at, data::text, traceparent
              FROM message ORDER BY id COLLATE "C"
            """;

    /** The same, for the given ids. Binds text[]. */
    static final String SOME_IN_LEDGER_FORM = ALL_IN_LEDGER_FORM.replace("ORDER BY id COLLATE \"C\"", "WHERE id = ANY(?::text[]) ORDER BY id COLLATE \"C\"");

    @Transactional(TxType.MANDATORY)
    public void forEachRecorded(org.eligo.ledger.Ledger.Sink<org.eligo.ledger.Recorded> sink) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ALL_IN_LEDGER_FORM)) {
                statement.setFetchSize(5000);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next() && sink.accept(recordedRow(rs))) {
                        // streamed
                    }
                }
            }
            return null;
        });
    }

    /** The stored messages among {@code ids} in their ledger form (for verifying what was sealed lately). */
    @Transactional(TxType.MANDATORY)
    public List<org.eligo.ledger.Recorded> recorded(Collection<String> ids) {
        return db.inCurrent(connection -> {
            List<org.eligo.ledger.Recorded> found = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(SOME_IN_LEDGER_FORM)) {
                statement.setArray(1, connection.createArrayOf("text", ids.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.add(recordedRow(rs));
                    }
                }
            }
            return found;
        });
    }

    private static org.eligo.ledger.Recorded recordedRow(ResultSet rs) throws SQLException {
        return new org.eligo.ledger.Recorded(LEDGER_TABLE + "/" + rs.getString(1), canonical(rs.getString(1), rs.getString(2),
                rs.getString(3), rs.getString(4), rs.getString(5), Timestamps.read(rs, 6), Timestamps.read(rs, 7), rs.getString(8),
                rs.getString(9)));
    }
}
