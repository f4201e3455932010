package org.eligo.auth;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eligo.support.Db;
import org.eligo.support.Requests;
import org.eligo.support.Timestamps;
import org.eligo.support.TraceContext;
import org.jboss.logging.Logger;

/**
 * The append-only record of API access (table access_log, db/migration/V7__access_log.sql, partitioned
 * by month in V13__access_log_partitions.sql): written per {@code /v1} request, refused ones included,
 * and read by analysts. Nobody may change or delete a row; only retention removes rows, a whole month
 * past {@code eligo.access-log.retention-years} at a time ({@link org.eligo.partitions.Partitions}).
 * Anyone can make a row (a request without a token is recorded too), so what a row holds is bounded
 * here, before it is written: the path with its query at most {@link #MAX_PATH} characters with the
 * values of credential-looking query parameters replaced by {@link #REDACTED} (a token sent as
 * {@code ?access_token=} would otherwise be readable by every analyst for years), the subject and
 * each beneficiary id at most {@link #MAX_TEXT}, the method at most {@link #MAX_METHOD}, the
 * {@code traceparent} only when it is a valid W3C trace context, and no NUL or other control
 * character anywhere (PostgreSQL cannot store NUL).
 */
@ApplicationScoped
public class AccessLog {

    /** Newest first; each filter is optional ({@code NULL} matches everything). */
    static final String PAGE = """
            SELECT id, at, request_id, subject, roles, method, path, status, beneficiary_ids, traceparent
              FROM access_log
             WHERE (?::text IS NULL OR beneficiary_ids @> ARRAY[?::text])
               AND (?::text IS NULL OR subject = ?)
               AND (?::bigint IS NULL OR id < ?)
             ORDER BY id DESC
             LIMIT ?
            """;

    /** A row id: at most 18 digits, so that every cursor that matches fits a long (19 digits may not). */
    private static final Pattern CURSOR_KEY = Pattern.compile("[0-9]{1,18}");

    /** The longest path (with its query) stored; longer ones are cut and end in {@link #CUT}. */
    public static final int MAX_PATH = 2048;
    /** The longest subject or beneficiary id stored. */
    public static final int MAX_TEXT = 256;
    /** The longest method stored (HTTP allows any token as a method). */
    public static final int MAX_METHOD = 16;
    /** What a cut value ends with. */
    static final String CUT = "...";
    /** What a credential-looking query parameter's value is stored as. */
    public static final String REDACTED = "[redacted]";
    /** Query parameter names (lower-cased, '-' read as '_') whose values are credentials or may be. */
    private static final Pattern CREDENTIAL = Pattern.compile(
            ".*(token|bearer|passw|pwd|secret|key|auth|credential|jwt|session|signature|sig|cookie|private|code_verifier).*");

    /** One request, as recorded. */
    @Schema(name = "AccessRecord")
    public record Entry(long id, Instant at, String requestId, String subject, List<String> roles, String method,
                        String path, int status, List<String> beneficiaryIds, String traceparent) {
    }

    /** A page of the log, newest first. */
    @Schema(name = "AccessLogPage")
    public record Page(List<Entry> items, String nextCursor) {
    }

    /** The longest a request waits for its row to be committed before it is answered 503. */
    static final Duration WAIT = Duration.ofSeconds(10);
    /** Rows per group commit at most. */
    static final int MAX_BATCH = 500;
    /**
     * Writer threads. Two, so that rows arriving while one batch waits for its fsync start their
     * own commit at once instead of waiting a whole flush for the next batch. Row ids still follow
     * request order wherever that order exists: a client's next request starts only after its
     * previous one was answered, so after that row was committed.
     */
    static final int WRITERS = 2;

    /** Inserts a batch of rows in arrival order (so ids keep request order). Binds one array per column. */
    static final String APPEND_BATCH = """
            INSERT INTO access_log (request_id, subject, roles, method, path, status, beneficiary_ids, traceparent)
            SELECT r.request_id, r.subject, r.roles::text[], r.method, r.path, r.status,
                   r.beneficiary_ids::text[], r.traceparent
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int4[], ?::text[], ?::text[]) WITH ORDINALITY
                   AS r(request_id, subject, roles, method, path, status, beneficiary_ids, traceparent, position)
             ORDER BY r.position
            """;

    /** A row waiting for the writer, and the request waiting for it. */
    record Pending(String requestId, String subject, List<String> roles, String method, String path, int status,
                           List<String> beneficiaryIds, String traceparent, CompletableFuture<Void> written) {
    }

    private static final Logger LOG = Logger.getLogger(AccessLog.class);

    private final Db db;
    /**
     * Rows waiting for a writer, bounded: while the database stalls, requests keep coming (refused
     * ones included) and their rows may not pile up in the heap. A row that finds the queue full
     * fails at once, as a row that could not be written does (503 for a request being served).
     */
    static final int MAX_PENDING = 20_000;
    private final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>(MAX_PENDING);
    private volatile boolean stopped;
    private volatile boolean started;
    private final List<Thread> writers = new ArrayList<>();

    public AccessLog(Db db) {
        this.db = db;
    }

    /**
     * Records one request and returns once its row is committed; throws if it could not be (the
     * caller then withholds the response). Group commit: rows of concurrent requests are written by
     * a writer thread, all that are waiting in one INSERT and one commit, so N concurrent requests
     * cost one transaction (and one fsync) rather than N, and no request holds a pooled connection
     * for its row. Each request still waits for its own row to be durable, so no response leaves
     * before its record exists ("no read unrecorded"), and a row that cannot be written still
     * fails its request (503 in {@link AccessFilters}).
     */
    public void append(String requestId, String subject, Collection<Role> roles, String method, String rawPath, String rawQuery,
                       int status, Collection<String> beneficiaryIds, String traceparent) {
        CompletableFuture<Void> written = record(requestId, subject, roles, method, rawPath, rawQuery, status, beneficiaryIds, traceparent);
        try {
            written.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            // The row may still be written later: a recorded request answered 503 is harmless, an unrecorded 200 is not.
            throw new IllegalStateException("the access log row was not written within " + WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the access log row was being written");
        }
    }

    /**
     * Queues one request's row and returns at once; the future completes when the row is committed
     * (or fails). For the I/O threads, which answer refused requests and may not wait.
     * {@code rawPath} and {@code rawQuery} are as sent (percent-encoded); see the class comment for
     * what is kept of each value.
     */
    public CompletableFuture<Void> record(String requestId, String subject, Collection<Role> roles, String method, String rawPath,
                                          String rawQuery, int status, Collection<String> beneficiaryIds, String traceparent) {
        List<String> beneficiaries = new ArrayList<>(beneficiaryIds.size());
        beneficiaryIds.forEach(id -> beneficiaries.add(text(id, MAX_TEXT)));
        Pending row = new Pending(text(requestId, MAX_TEXT), text(subject, MAX_TEXT), roles.stream().map(Role::claim).toList(),
                text(method, MAX_METHOD), path(rawPath, rawQuery), status, beneficiaries, TraceContext.traceparent(traceparent),
                new CompletableFuture<>());
        if (!started) {
            startWriter();
        }
        if (stopped) {
            row.written().completeExceptionally(new IllegalStateException("the access log is shut down"));
            return row.written();
        }
        if (!pending.offer(row)) {
            row.written().completeExceptionally(new IllegalStateException("the access log has " + MAX_PENDING + " rows waiting to be written"));
        }
        return row.written();
    }

    /**
     * The path and query as stored: each query parameter whose name looks like a credential keeps its
     * name and has its value replaced by {@link #REDACTED}; the whole is cut to {@link #MAX_PATH}.
     */
    static String path(String rawPath, String rawQuery) {
        StringBuilder stored = new StringBuilder(rawPath == null ? "" : text(rawPath, MAX_PATH));
        if (rawQuery != null) {
            stored.append('?');
            String[] parameters = rawQuery.split("&", -1);
            for (int i = 0; i < parameters.length && stored.length() <= MAX_PATH; i++) {
                if (i > 0) {
                    stored.append('&');
                }
                String parameter = parameters[i];
                int equals = parameter.indexOf('=');
                String name = equals < 0 ? parameter : parameter.substring(0, equals);
                if (looksLikeCredential(name)) {
                    stored.append(name, 0, Math.min(name.length(), MAX_PATH)).append('=').append(REDACTED);
                } else {
                    stored.append(parameter, 0, Math.min(parameter.length(), MAX_PATH + 1));
                }
            }
        }
        return text(stored.toString(), MAX_PATH);
    }

    private static boolean looksLikeCredential(String rawName) {
        String name;
        try {
            name = java.net.URLDecoder.decode(rawName, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            name = rawName;
        }
        return CREDENTIAL.matcher(name.toLowerCase(java.util.Locale.ROOT).replace('-', '_')).matches();
    }

    /**
     * {@code value} with every control character (NUL included) replaced by U+FFFD, cut to
     * {@code max} characters (the last ones {@link #CUT}) without splitting a surrogate pair; null stays null.
     */
    static String text(String value, int max) {
        if (value == null) {
            return null;
        }
        String kept = value;
        if (kept.length() > max) {
            int end = max - CUT.length();
            if (Character.isHighSurrogate(kept.charAt(end - 1))) {
                end--;
            }
            kept = kept.substring(0, end) + CUT;
        }
        StringBuilder clean = null;
        for (int i = 0; i < kept.length(); i++) {
            if (Character.isISOControl(kept.charAt(i))) {
                if (clean == null) {
                    clean = new StringBuilder(kept);
                }
                clean.setCharAt(i, '\uFFFD');
            }
        }
        return clean == null ? kept : clean.toString();
    }

    private synchronized void startWriter() {
        if (!writers.isEmpty() || stopped) {
            return;
        }
        for (int i = 1; i <= WRITERS; i++) {
            Thread writer = new Thread(this::writeLoop, "eligo-access-log-" + i);
            writer.setDaemon(true);
            writer.start();
            writers.add(writer);
        }
        started = true;
    }

    @PreDestroy
    synchronized void stop() {
        stopped = true;
        writers.forEach(Thread::interrupt);
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        while (!stopped) {
            try {
                batch.add(pending.take());
            } catch (InterruptedException e) {
                break;
            }
            pending.drainTo(batch, MAX_BATCH - 1);
            write(batch);
            batch.clear();
        }
        IllegalStateException down = new IllegalStateException("the access log is shut down");
        pending.drainTo(batch);
        batch.forEach(row -> row.written().completeExceptionally(down));
    }

    private void write(List<Pending> batch) {
        try {
            insertAll(batch);
            batch.forEach(row -> row.written().complete(null));
        } catch (RuntimeException e) {
            if (batch.size() == 1 || Db.isTransient(e)) {
                batch.forEach(row -> row.written().completeExceptionally(e));
                return;
            }
            // One row the database refuses must not cost the others theirs: each alone.
            LOG.warnf("Writing %d access log rows failed (%s); writing them one by one", batch.size(), e.getMessage());
            for (Pending row : batch) {
                write(List.of(row));
            }
        } catch (Error e) {
            batch.forEach(row -> row.written().completeExceptionally(e));
            throw e;
        }
    }

    /**
     * Writes a batch of rows in a transaction of its own (the writer thread calls this through the
     * bean: Quarkus intercepts calls within a bean), so a batch commits or fails as one.
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.REQUIRES_NEW)
    void insertAll(List<Pending> batch) {
        db.inCurrent(connection -> insert(connection, batch));
    }

    private static int insert(Connection connection, List<Pending> batch) throws SQLException {
        int n = batch.size();
        String[][] text = new String[7][n];
        Integer[] statuses = new Integer[n];
        for (int i = 0; i < n; i++) {
            Pending row = batch.get(i);
            text[0][i] = row.requestId();
            text[1][i] = row.subject();
            text[2][i] = arrayLiteral(row.roles());
            text[3][i] = row.method();
            text[4][i] = row.path();
            statuses[i] = row.status();
            text[5][i] = arrayLiteral(row.beneficiaryIds());
            text[6][i] = row.traceparent();
        }
        try (PreparedStatement statement = connection.prepareStatement(APPEND_BATCH)) {
            for (int c = 0; c < 5; c++) {
                statement.setArray(c + 1, connection.createArrayOf("text", text[c]));
            }
            statement.setArray(6, connection.createArrayOf("int4", statuses));
            statement.setArray(7, connection.createArrayOf("text", text[5]));
            statement.setArray(8, connection.createArrayOf("text", text[6]));
            return statement.executeUpdate();
        }
    }

    /** A text[] literal ({"a","b"}), quoted so that any value survives as itself (null as NULL). */
    static String arrayLiteral(List<String> values) {
        StringBuilder literal = new StringBuilder("{");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                literal.append(',');
            }
            String value = values.get(i);
            if (value == null) {
                literal.append("NULL");
            } else {
                literal.append('"').append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        return literal.append('}').toString();
    }

    public Page page(String beneficiaryId, String subject, int limit, String cursor) {
        Long before = cursor == null || cursor.isEmpty() ? null : Long.valueOf(Requests.decodeCursor(cursor, CURSOR_KEY));
        List<Entry> entries = db.read(connection -> query(connection, beneficiaryId, subject, before, limit + 1));
        String next = null;
        if (entries.size() > limit) {
            entries = entries.subList(0, limit);
            next = Requests.encodeCursor(Long.toString(entries.get(limit - 1).id()));
        }
        return new Page(entries, next);
    }

    private static List<Entry> query(Connection connection, String beneficiaryId, String subject, Long before, int limit) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(PAGE)) {
            statement.setString(1, beneficiaryId);
            statement.setString(2, beneficiaryId);
            statement.setString(3, subject);
            statement.setString(4, subject);
            statement.setObject(5, before, java.sql.Types.BIGINT);
            statement.setObject(6, before, java.sql.Types.BIGINT);
            statement.setInt(7, limit);
            List<Entry> entries = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    entries.add(new Entry(rows.getLong(1), Timestamps.read(rows, 2), rows.getString(3), rows.getString(4),
                            texts(rows.getArray(5)), rows.getString(6), rows.getString(7), rows.getInt(8), texts(rows.getArray(9)),
                            rows.getString(10)));
                }
            }
            return entries;
        }
    }

    private static List<String> texts(Array array) throws SQLException {
        return Arrays.asList((String[]) array.getArray());
    }
}
