package org.eligo.imports;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.support.Db;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;
import org.eligo.work.Failure;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;

/**
 * The owner of {@code import}, {@code import_line} and {@code import_rejection} (V10__imports.sql).
 * Lines arrive by COPY ({@link #stage}); the work engine claims an import's next chunk of lines
 * ({@link #claim}) and settles it ({@link #settle}) in one transaction.
 */
@ApplicationScoped
public class Imports implements PanacheRepositoryBase<Import, String> {

    /** A staged line: its text, or why it could not be kept as text. */
    public record Line(long lineNo, String text, String problem) {
    }

    /**
     * An import claimed with its next chunk of lines.
     *
     * @param sources the sources the submitting token held; null: any
     */
    public record Claimed(String id, Set<String> sources, String traceparent, int attempts, long lastLineNo, long storedThrough, List<Line> lines) {
    }

    /** A rejected line of the report; its kind is {@link #INVALID} or {@link #CONFLICTING} (import_rejection's CHECK). */
    public record Rejection(long lineNo, String kind, List<FieldError> errors) {

        public static final String INVALID = "invalid";
        public static final String CONFLICTING = "conflicting";
    }

    /** What a chunk settled: its counts, its rejected lines, and the last line it covered. */
    public record Settlement(long throughLine, long newLines, long duplicateLines, List<Rejection> rejections) {

        long count(String kind) {
            return rejections.stream().filter(r -> r.kind().equals(kind)).count();
        }
    }

    static final String INSERT = """
            INSERT INTO import (id, submitted_by, sources, traceparent, lines, last_line_no) VALUES (?, ?, ?::text[], ?, ?, ?)
            """;

    /** The staged lines, streamed in text format (org.eligo.imports.LineStager writes it). */
    static final String COPY_LINES = "COPY import_line (import_id, line_no, line, problem) FROM STDIN";

    /**
     * The oldest import still storing that no other worker holds and that is due (not waiting out a
     * failed chunk's backoff). The row lock is what makes one worker at a time store an import: a
     * second worker skips the locked row, so no line is taken twice, and the chunk's lines, messages,
     * rejections and counts commit together with the lock's release.
     */
    static final String CLAIM = sql("""
            SELECT id, sources, traceparent, attempts, last_line_no, stored_through FROM import
             WHERE status = {STORING} AND next_attempt_at <= clock_timestamp()
             ORDER BY id LIMIT 1
               FOR UPDATE SKIP LOCKED
            """);

    static final String CLAIM_ONE = sql("""
            SELECT id, sources, traceparent, attempts, last_line_no, stored_through FROM import
             WHERE id = ? AND status = {STORING}
               FOR UPDATE SKIP LOCKED
            """);

    /**
     * The next lines of an import, after the last one settled. Bounded below by it, not only
     * ordered: the stored lines are deleted, and until vacuum removes them their dead index entries
     * sit at the front of the import's range, which an unbounded scan would walk again for every
     * chunk (quadratic: 56 ms per chunk by the end of a 2-million-line import before this bound).
     * Binds the import id, its stored_through, the chunk size.
     */
    static final String NEXT_LINES = """
            SELECT line_no, line, problem FROM import_line WHERE import_id = ? AND line_no > ? ORDER BY line_no LIMIT ?
            """;

    static final String REJECT = """
            INSERT INTO import_rejection (import_id, line_no, kind, errors)
            SELECT ?, r.line_no, r.kind, r.errors::jsonb FROM unnest(?::bigint[], ?::text[], ?::text[]) AS r(line_no, kind, errors)
            """;

    /** A chunk's lines, by their range (bounded below for the reason NEXT_LINES says). Binds the id, stored_through, the chunk's last line. */
    static final String DELETE_LINES = "DELETE FROM import_line WHERE import_id = ? AND line_no > ? AND line_no <= ?";

    /** A chunk's counts; DONE once its last line is settled. Binds: through, new, duplicate, conflicting, invalid, id. */
    static final String SETTLE = sql("""
            UPDATE import SET stored_through = s.through,
                              new_lines = new_lines + s.n_new, duplicate_lines = duplicate_lines + s.n_duplicate,
                              conflicting_lines = conflicting_lines + s.n_conflicting, invalid_lines = invalid_lines + s.n_invalid,
                              status = CASE WHEN s.through >= last_line_no THEN {DONE} ELSE status END,
                              finished_at = CASE WHEN s.through >= last_line_no THEN clock_timestamp() END
              FROM (SELECT ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::bigint) AS s(through, n_new, n_duplicate, n_conflicting, n_invalid)
             WHERE id = ?
            """);

    static final String RECORD_FAILURE = sql("""
            UPDATE import SET attempts = attempts + 1, last_error = ?,
                              status = CASE WHEN ? THEN {FAILED} ELSE status END,
                              finished_at = CASE WHEN ? THEN clock_timestamp() END,
                              next_attempt_at = clock_timestamp() + ? * interval '1 millisecond'
             WHERE id = ?
            """);

    static final String REJECTIONS = """
            SELECT line_no, kind, errors::text FROM import_rejection WHERE import_id = ? AND line_no > ? ORDER BY line_no LIMIT ?
            """;

    /**
     * Statuses appear in the SQL as {@code {STORING}} and so on, replaced once with the
     * {@link ImportStatus} as a literal (a literal, so the partial index import_storing serves the
     * claim, as Messages explains for its own).
     */
    private static String sql(String text) {
        for (ImportStatus status : ImportStatus.values()) {
            text = text.replace("{" + status.name() + "}", "'" + status.name() + "'");
        }
        return text;
    }

    private static final TypeReference<List<FieldError>> ERRORS = new TypeReference<>() {
    };

    private final Db db;
    private final ObjectMapper json;

    /** A page of imports, newest first (ids are ULIDs): built only from these constants. */
    static final String PAGE = "id < :before";
    static final String PAGE_STATUS = " and status = :status";
    static final String PAGE_SENDER = " and submittedBy = :sender";
    static final String PAGE_ORDER = " order by id desc";

    /** Up to {@code limit} imports before {@code beforeId} (null: the newest), of one status and one sender where given. */
    @Transactional
    public List<Import> page(ImportStatus status, String sender, String beforeId, int limit) {
        io.quarkus.panache.common.Parameters parameters = io.quarkus.panache.common.Parameters.with("before", beforeId == null ? "imp_~" : beforeId);
        String query = PAGE;
        if (status != null) {
            query += PAGE_STATUS;
            parameters = parameters.and("status", status);
        }
        if (sender != null) {
            query += PAGE_SENDER;
            parameters = parameters.and("sender", sender);
        }
        return find(query + PAGE_ORDER, parameters).page(0, limit).list();
    }

    public Imports(Db db, ObjectMapper json) {
        this.db = db;
        this.json = json;
    }

    /**
     * Streams an import's lines into {@code import_line} with COPY ({@code writer} writes them in
     * COPY's text format) and inserts its row, in the caller's transaction: the import exists, with
     * every line, when it commits, and not at all if anything fails before.
     */
    @Transactional(TxType.MANDATORY)
    public void stage(String id, String submittedBy, Set<String> sources, String traceparent, LineStager stager) {
        db.inCurrent(connection -> {
            CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY_LINES);
            try {
                stager.writeTo(copy);
                copy.endCopy();
            } finally {
                if (copy.isActive()) {
                    copy.cancelCopy();
                }
            }
            if (stager.lines() == 0) {
                throw ProblemException.badRequest("The file holds no lines; one JSON message per line is expected. Nothing was stored.",
                        List.of(FieldError.at("", "is empty")));
            }
            try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
                insert.setString(1, id);
                insert.setString(2, submittedBy);
                insert.setArray(3, sources == null ? null : connection.createArrayOf("text", sources.stream().sorted().toArray()));
                insert.setString(4, traceparent);
                insert.setLong(5, stager.lines());
                insert.setLong(6, stager.lastLineNo());
                insert.executeUpdate();
            }
            return null;
        });
    }

    /** The oldest due import no other worker holds, row-locked, with its next {@code chunk} lines. */
    @Transactional(TxType.MANDATORY)
    public Optional<Claimed> claim(int chunk) {
        return claim(CLAIM, null, chunk);
    }

    /** {@code id} alone again, if it is still storing and free. */
    @Transactional(TxType.MANDATORY)
    public Optional<Claimed> claimAgain(String id, int chunk) {
        return claim(CLAIM_ONE, id, chunk);
    }

    private Optional<Claimed> claim(String sql, String id, int chunk) {
        return db.inCurrent(connection -> {
            String importId;
            Set<String> sources;
            String traceparent;
            int attempts;
            long lastLineNo;
            long storedThrough;
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                if (id != null) {
                    statement.setString(1, id);
                }
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    importId = rs.getString(1);
                    Array held = rs.getArray(2);
                    sources = held == null ? null : new LinkedHashSet<>(Arrays.asList((String[]) held.getArray()));
                    traceparent = rs.getString(3);
                    attempts = rs.getInt(4);
                    lastLineNo = rs.getLong(5);
                    storedThrough = rs.getLong(6);
                }
            }
            List<Line> lines = new ArrayList<>(chunk);
            try (PreparedStatement statement = connection.prepareStatement(NEXT_LINES)) {
                statement.setString(1, importId);
                statement.setLong(2, storedThrough);
                statement.setInt(3, chunk);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        lines.add(new Line(rs.getLong(1), rs.getString(2), rs.getString(3)));
                    }
                }
            }
            return Optional.of(new Claimed(importId, sources, traceparent, attempts, lastLineNo, storedThrough, lines));
        });
    }

    /** Settles a claimed chunk (lines after {@code storedThrough}): its rejected lines written, its staged lines deleted, its counts added. */
    @Transactional(TxType.MANDATORY)
    public void settle(String id, long storedThrough, Settlement settlement) {
        db.inCurrent(connection -> {
            List<Rejection> rejections = settlement.rejections();
            if (!rejections.isEmpty()) {
                try (PreparedStatement statement = connection.prepareStatement(REJECT)) {
                    statement.setString(1, id);
                    statement.setArray(2, connection.createArrayOf("bigint", rejections.stream().map(Rejection::lineNo).toArray()));
                    statement.setArray(3, connection.createArrayOf("text", rejections.stream().map(Rejection::kind).toArray()));
                    statement.setArray(4, connection.createArrayOf("text", rejections.stream().map(r -> write(r.errors())).toArray()));
                    statement.executeUpdate();
                }
            }
            try (PreparedStatement statement = connection.prepareStatement(DELETE_LINES)) {
                statement.setString(1, id);
                statement.setLong(2, storedThrough);
                statement.setLong(3, settlement.throughLine());
                statement.executeUpdate();
            }
            try (PreparedStatement statement = connection.prepareStatement(SETTLE)) {
                statement.setLong(1, settlement.throughLine());
                statement.setLong(2, settlement.newLines());
                statement.setLong(3, settlement.duplicateLines());
                statement.setLong(4, settlement.count(Rejection.CONFLICTING));
                statement.setLong(5, settlement.count(Rejection.INVALID));
                statement.setString(6, id);
                statement.executeUpdate();
            }
            return null;
        });
    }

    /** A chunk that failed as a whole: counted, due again after the backoff, or FAILED at the dead end. */
    @Transactional(TxType.MANDATORY)
    public void recordFailure(String id, Failure failure) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RECORD_FAILURE)) {
                statement.setString(1, failure.error());
                statement.setBoolean(2, failure.deadEnd());
                statement.setBoolean(3, failure.deadEnd());
                statement.setLong(4, failure.deadEnd() ? 0 : failure.retryIn().toMillis());
                statement.setString(5, id);
                return statement.executeUpdate();
            }
        });
    }

    /** Up to {@code limit} rejected lines after line {@code afterLine}, in line order. */
    @Transactional
    public List<Rejection> rejections(String id, long afterLine, int limit) {
        return db.inCurrent(connection -> {
            List<Rejection> page = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(REJECTIONS)) {
                statement.setString(1, id);
                statement.setLong(2, afterLine);
                statement.setInt(3, limit);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        page.add(new Rejection(rs.getLong(1), rs.getString(2), read(rs.getString(3))));
                    }
                }
            }
            return page;
        });
    }

    private String write(List<FieldError> errors) {
        try {
            return json.writeValueAsString(errors);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<FieldError> read(String errors) {
        try {
            return json.readValue(errors, ERRORS);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("import_rejection.errors is not the JSON this service writes", e);
        }
    }
}
