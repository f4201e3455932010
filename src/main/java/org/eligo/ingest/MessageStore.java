package org.eligo.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import org.eligo.facts.FactTypes;
import org.eligo.support.Timestamps;

/** SQL for stored messages: the idempotent insert, the look-up of existing keys, and reads. */
@ApplicationScoped
public class MessageStore {

    /**
     * Inserts a set of messages in one statement. Each message first claims its idempotency key in
     * message_key, the one table that keeps (source, external_id) unique across every monthly
     * partition of message. A key that exists already (committed, or committed meanwhile by a
     * concurrent request: ON CONFLICT waits for it) is skipped with its message; RETURNING names the
     * rows that were new. Binds the request's traceparent, then text[] of: id, source, external_id,
     * type, beneficiary_id, occurred_at, data.
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
            RETURNING id
            """;

    /** Stored messages with the given keys. Binds text[] of sources and external ids, pairwise. */
    static final String EXISTING = """
            SELECT m.source, m.external_id, m.id, m.status, m.type, m.beneficiary_id, m.occurred_at, m.data::text
              FROM unnest(?::text[], ?::text[]) AS k(source, external_id)
              JOIN message_key mk ON mk.source = k.source AND mk.external_id = k.external_id
              JOIN message m ON m.id = mk.message_id
            """;

    /**
     * The message and the ids of its facts in one statement, so one snapshot: status and fact ids
     * always agree (a PROCESSED message has its facts, a RECEIVED one none).
     */
    final String byId;

    /** A message already stored under a submitted key. */
    public record Existing(String id, String status, IncomingMessage content) {
    }

    private final ObjectReader reader;

    private final FactTypes types;

    public MessageStore(ObjectMapper mapper, FactTypes types) {
        this.types = types;
        this.byId = "SELECT m.id, m.source, m.external_id, m.type, m.beneficiary_id, m.occurred_at, m.received_at,"
                + " m.status, m.attempts, m.last_error, m.data::text, m.traceparent,"
                + " ARRAY(SELECT f.id FROM fact f WHERE f.message_id = m.id ORDER BY 1) FROM message m WHERE m.id = ?";
        // Decimals read back exactly as stored (35.50 stays 35.50), not through a double.
        this.reader = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }

    /** Inserts {@code messages} (with their ids, distinct keys); returns the ids that were new. */
    public Set<String> insert(Connection connection, List<IncomingMessage> messages, List<String> ids, String traceparent) throws SQLException {
        int n = messages.size();
        String[][] columns = new String[7][n];
        for (int i = 0; i < n; i++) {
            IncomingMessage m = messages.get(i);
            columns[0][i] = ids.get(i);
            columns[1][i] = m.source();
            columns[2][i] = m.externalId();
            columns[3][i] = m.type().name();
            columns[4][i] = m.beneficiaryId();
            columns[5][i] = m.occurredAt() == null ? null : Timestamps.format(m.occurredAt());
            columns[6][i] = m.data().toString();
        }
        Set<String> inserted = new HashSet<>();
        try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
            for (int c = 0; c < columns.length; c++) {
                statement.setArray(c + 1, connection.createArrayOf("text", columns[c]));
            }
            statement.setString(columns.length + 1, traceparent);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    inserted.add(rs.getString(1));
                }
            }
        }
        return inserted;
    }

    /** The stored messages for the keys of {@code messages}, keyed by idempotency key. */
    public java.util.Map<IncomingMessage.Key, Existing> existing(Connection connection, List<IncomingMessage> messages) throws SQLException {
        java.util.Map<IncomingMessage.Key, Existing> found = new java.util.HashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(EXISTING)) {
            statement.setArray(1, connection.createArrayOf("text", messages.stream().map(IncomingMessage::source).toArray()));
            statement.setArray(2, connection.createArrayOf("text", messages.stream().map(IncomingMessage::externalId).toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    IncomingMessage content = new IncomingMessage(null, rs.getString(1), rs.getString(2),
                            types.byName(rs.getString(5)).orElse(null), rs.getString(6), org.eligo.support.Timestamps.read(rs, 7), json(rs.getString(8)));
                    found.put(content.key(), new Existing(rs.getString(3), rs.getString(4), content));
                }
            }
        }
        return found;
    }

    public Optional<MessageView> find(Connection connection, String id) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(byId)) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                List<String> factIds = List.of((String[]) rs.getArray(13).getArray());
                return Optional.of(new MessageView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        org.eligo.support.Timestamps.read(rs, 6), org.eligo.support.Timestamps.read(rs, 7), rs.getString(8), rs.getInt(9), rs.getString(10), json(rs.getString(11)), factIds,
                        rs.getString(12)));
            }
        }
    }


    private JsonNode json(String text) {
        try {
            return reader.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
