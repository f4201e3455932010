package org.eligo.auth;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eligo.support.Db;
import org.eligo.support.Requests;
import org.eligo.support.Timestamps;

/** The append-only record of API access (migration V8): written per request, read by analysts. */
@ApplicationScoped
public class AccessLog {

    static final String APPEND = """
            INSERT INTO access_log (request_id, subject, roles, method, path, status, beneficiary_ids, traceparent)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """;

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

    private static final Pattern CURSOR_KEY = Pattern.compile("[0-9]{1,19}");

    /** One request, as recorded. */
    @Schema(name = "AccessRecord")
    public record Entry(long id, Instant at, String requestId, String subject, List<String> roles, String method,
                        String path, int status, List<String> beneficiaryIds, String traceparent) {
    }

    /** A page of the log, newest first. */
    @Schema(name = "AccessLogPage")
    public record Page(List<Entry> items, String nextCursor) {
    }

    private final Db db;

    public AccessLog(Db db) {
        this.db = db;
    }

    public void append(String requestId, String subject, Collection<Role> roles, String method, String path, int status,
                       Collection<String> beneficiaryIds, String traceparent) {
        db.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(APPEND)) {
                statement.setString(1, requestId);
                statement.setString(2, subject);
                statement.setArray(3, connection.createArrayOf("text", roles.stream().map(Role::claim).toArray()));
                statement.setString(4, method);
                statement.setString(5, path);
                statement.setInt(6, status);
                statement.setArray(7, connection.createArrayOf("text", beneficiaryIds.toArray()));
                statement.setString(8, traceparent);
                return statement.executeUpdate();
            }
        });
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
