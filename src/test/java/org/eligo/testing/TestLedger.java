package org.eligo.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.eligo.determinations.Determinations;
import org.eligo.facts.Facts;
import org.eligo.ingest.Messages;
import org.eligo.ledger.Ledger;
import org.eligo.ledger.Merkle;
import org.eligo.support.Timestamps;

/**
 * Records rows a test stored with SQL in the ledger, as the service would have written them.
 *
 * <p>Some tests insert messages or facts directly (a poison message, a message of another release,
 * a fact an older parser made) to arrange history the API cannot make. The service writes one
 * {@code ledger_entry} per write transaction, naming every record it wrote, and integrity
 * verification reports a record in no entry as inserted behind its back. Such a test means "history
 * as the service would have written it", so after its insert it adopts the rows here: one call is
 * one entry, as one of the service's transactions would be. (A test that means to tamper must not
 * adopt.)
 *
 * <p>Each leaf is computed from the row as stored (read back with {@link Sql#connect()}, times
 * included, so at the database's microsecond precision) with the service's own canonical forms
 * ({@link Messages#canonical}, {@link Facts#canonical}, {@link Facts#revocation},
 * {@link Determinations#canonical}) and {@link Ledger#leaf}. A label already in the ledger is
 * refused: the service wrote that record's leaf, or it was adopted already.
 *
 * <p>A fact revoked with SQL after it was adopted (or after the service wrote it) needs its
 * revocation adopted as a record of its own: {@code adopt(Facts.revocationLabel(id))}, in the same
 * call as the newer fact's leaf when the test's transaction wrote both, as the service's does.
 */
public final class TestLedger {

    private TestLedger() {
    }

    /** Adopts messages: one entry whose leaves are {@code message/<id>}, in the order given. */
    public static void adoptMessages(String... ids) {
        adopt(prefixed(Messages.LEDGER_TABLE, ids));
    }

    /**
     * Adopts facts: one entry with, for each in the order given, its creation leaf {@code fact/<id>}
     * and, if it is revoked ({@code revoked_at} set), its revocation leaf just after it (as the
     * service records a fact revoked from birth).
     */
    public static void adoptFacts(String... ids) {
        List<String> labels = new ArrayList<>();
        try (Connection connection = Sql.connect();
             PreparedStatement statement = connection.prepareStatement("SELECT revoked_at IS NOT NULL FROM fact WHERE id = ?")) {
            for (String id : ids) {
                statement.setString(1, id);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("no fact " + id + " to adopt");
                    }
                    labels.add(Facts.LEDGER_TABLE + "/" + id);
                    if (rs.getBoolean(1)) {
                        labels.add(Facts.revocationLabel(id));
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        adopt(labels.toArray(String[]::new));
    }

    /**
     * Adopts records by label, as one entry with their leaves in the order given: {@code message/<id>},
     * {@code fact/<id>}, {@code fact/<id>/revocation} (the fact must be revoked) or
     * {@code determination/<id>} (whose ledger_tx is then set to the entry's transaction, with
     * triggers off, as the service's one transaction would have it). For a transaction that wrote
     * records of several kinds, e.g. a revocation and the fact that revokes.
     */
    public static void adopt(String... labels) {
        if (labels.length == 0) {
            throw new IllegalArgumentException("an entry has at least one leaf");
        }
        if (new java.util.HashSet<>(List.of(labels)).size() != labels.length) {
            throw new IllegalArgumentException("a record is one leaf: " + List.of(labels));
        }
        try (Connection connection = Sql.connect()) {
            connection.setAutoCommit(false);
            try (PreparedStatement already = connection.prepareStatement(
                    "SELECT array_agg(DISTINCT l) FROM ledger_entry, unnest(labels) l WHERE l = ANY(?::text[])")) {
                already.setArray(1, connection.createArrayOf("text", labels));
                try (ResultSet rs = already.executeQuery()) {
                    rs.next();
                    if (rs.getArray(1) != null) {
                        throw new IllegalStateException("already in the ledger: " + List.of((String[]) rs.getArray(1).getArray()));
                    }
                }
            }
            List<Ledger.Leaf> leaves = leaves(connection, labels);
            List<byte[]> hashes = new ArrayList<>(leaves.size());
            byte[] packed = new byte[32 * leaves.size()];
            for (int i = 0; i < leaves.size(); i++) {
                hashes.add(leaves.get(i).hash());
                System.arraycopy(leaves.get(i).hash(), 0, packed, 32 * i, 32);
            }
            try (PreparedStatement statement = connection.prepareStatement(Ledger.INSERT)) {
                statement.setArray(1, connection.createArrayOf("text", labels));
                statement.setBytes(2, packed);
                statement.setBytes(3, Merkle.root(hashes));
                statement.executeUpdate();
            }
            // A determination names the transaction that wrote it and its entry (ledger_tx, how a receipt
            // finds the entry): this one's, as the service's single transaction would have made them agree.
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL session_replication_role = replica");
            }
            try (PreparedStatement statement = connection.prepareStatement(
                    "UPDATE determination SET ledger_tx = pg_current_xact_id() WHERE 'determination/' || id = ANY(?::text[])")) {
                statement.setArray(1, connection.createArrayOf("text", labels));
                statement.executeUpdate();
            }
            connection.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The leaves of the records {@code labels} name, computed from the rows as stored now. */
    static List<Ledger.Leaf> leaves(Connection connection, String... labels) throws SQLException {
        List<Ledger.Leaf> leaves = new ArrayList<>(labels.length);
        for (String label : labels) {
            leaves.add(Ledger.leaf(label, canonical(connection, label)));
        }
        return leaves;
    }

    private static org.eligo.ledger.Canonical canonical(Connection connection, String label) throws SQLException {
        String[] parts = label.split("/", -1);
        if (parts.length == 2 && parts[0].equals(Messages.LEDGER_TABLE)) {
            return message(connection, parts[1]);
        }
        if (parts.length == 2 && parts[0].equals(Facts.LEDGER_TABLE)) {
            return fact(connection, parts[1], false);
        }
        if (parts.length == 3 && parts[0].equals(Facts.LEDGER_TABLE) && label.equals(Facts.revocationLabel(parts[1]))) {
            return fact(connection, parts[1], true);
        }
        if (parts.length == 2 && parts[0].equals(Determinations.LEDGER_TABLE)) {
            return determination(connection, parts[1]);
        }
        throw new IllegalArgumentException("not a label this helper adopts: " + label);
    }

    private static org.eligo.ledger.Canonical message(Connection connection, String id) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT id, source, external_id, type, beneficiary_id, occurred_at, received_at, data::text, traceparent FROM message WHERE id = ?")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                found(rs, "message", id);
                return Messages.canonical(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        Timestamps.read(rs, 6), Timestamps.read(rs, 7), rs.getString(8), rs.getString(9));
            }
        }
    }

    private static org.eligo.ledger.Canonical fact(Connection connection, String id, boolean revocation) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT id, beneficiary_id, message_id, created_at, replay_id, type, fact_key, withdrawn, data::text, revoked_at, revoked_by"
                        + " FROM fact WHERE id = ?")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                found(rs, "fact", id);
                if (!revocation) {
                    return Facts.canonical(rs.getString(1), rs.getString(2), rs.getString(3), Timestamps.read(rs, 4), rs.getString(5),
                            rs.getString(6), rs.getString(7), rs.getBoolean(8), rs.getString(9));
                }
                if (rs.getString(11) == null) {
                    throw new IllegalStateException("fact " + id + " is not revoked: no revocation to adopt");
                }
                return Facts.revocation(rs.getString(1), Timestamps.read(rs, 10), rs.getString(11));
            }
        }
    }

    private static org.eligo.ledger.Canonical determination(Connection connection, String id) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("""
                SELECT d.id, d.beneficiary_id, d.period, d.ruleset_id, d.ruleset_sha256, d.ruleset_version, d.evaluated_at, d.facts_as_of,
                       d.trigger, d.rerun_id, d.result, d.checks::text,
                       ARRAY(SELECT l.fact_id FROM determination_fact l WHERE l.determination_id = d.id AND l.beneficiary_id = d.beneficiary_id)
                  FROM determination d WHERE d.id = ?""")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                found(rs, "determination", id);
                return Determinations.canonical(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), Timestamps.read(rs, 7), Timestamps.read(rs, 8), rs.getString(9), rs.getString(10), rs.getString(11),
                        rs.getString(12), List.of((String[]) rs.getArray(13).getArray()));
            }
        }
    }

    private static void found(ResultSet rs, String table, String id) throws SQLException {
        if (!rs.next()) {
            throw new IllegalStateException("no " + table + " " + id + " to adopt");
        }
    }

    private static String[] prefixed(String table, String... ids) {
        String[] labels = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            labels[i] = table + "/" + ids[i];
        }
        return labels;
    }
}
