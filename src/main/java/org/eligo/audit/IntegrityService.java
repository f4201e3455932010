package org.eligo.audit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Db;

/**
 * Verifies the audit trail against the records: every chain link, every record's content, every
 * record's presence in its chain, the chain heads, and the signed checkpoints. All checks read one
 * snapshot, so writes going on meanwhile cannot make a sound trail look broken.
 */
@ApplicationScoped
public class IntegrityService {

    static final byte[] GENESIS = new byte[32];

    /** Links whose seq, predecessor hash or own hash is wrong. */
    static final String BAD_LINKS = """
            SELECT beneficiary_id, seq, record_table, record_id FROM (
                SELECT a.*, lag(a.seq) OVER w AS prev_seq, lag(a.hash) OVER w AS prev_link
                  FROM audit_record a WINDOW w AS (PARTITION BY a.beneficiary_id ORDER BY a.seq)) AS x
             WHERE seq <> coalesce(prev_seq, 0) + 1
                OR prev_hash <> coalesce(prev_link, decode(repeat('00', 32), 'hex'))
                OR hash <> eligo_link_hash(prev_hash, content_hash, kind, record_table, record_id, recorded_at)
             ORDER BY beneficiary_id, seq LIMIT 1
            """;

    /**
     * Message records whose message is gone (other than by retention, which drops whole months and
     * says so in retention_purge; the link and its content hash stay) or no longer has the content
     * that was chained.
     */
    static final String BAD_MESSAGES = """
            SELECT a.beneficiary_id, a.seq, a.record_table, a.record_id
              FROM audit_record a LEFT JOIN message m ON m.id = a.record_id
             WHERE a.kind = 'message'
               AND CASE WHEN m.id IS NULL THEN NOT eligo_purged('message', a.record_id)
                        ELSE m.beneficiary_id <> a.beneficiary_id
                             OR a.content_hash <> sha256(convert_to(eligo_canonical_message(m), 'UTF8')) END
             ORDER BY a.beneficiary_id, a.seq LIMIT 1
            """;

    /**
     * Determination records whose determination is gone (other than by retention), or whose content
     * (its row, outcomes and checks document included) or fact links are no longer what was chained.
     * The canonical forms are rebuilt 500 determinations at a time (eligo_canonical_determinations,
     * db/migration/R__40_determinations.sql: one query per table for the batch), about a third of the
     * cost of rebuilding them one by one. A determination whose beneficiary was changed has another
     * content (the beneficiary is part of it), so the content check finds it too.
     */
    static final String BAD_DETERMINATIONS = """
            WITH batch AS (
                SELECT array_agg(x.record_id ORDER BY x.record_id) AS ids
                  FROM (SELECT a.record_id, (row_number() OVER (ORDER BY a.record_id) - 1) / 500 AS chunk
                          FROM audit_record a WHERE a.record_table = 'determination' AND a.kind = 'determination') AS x
                 GROUP BY x.chunk
            )
            SELECT a.beneficiary_id, a.seq, a.record_table, a.record_id
              FROM audit_record a
             WHERE a.record_table = 'determination' AND a.kind = 'determination'
               AND NOT EXISTS (SELECT 1 FROM determination d WHERE d.id = a.record_id)
               AND NOT eligo_purged('determination', a.record_id)
            UNION ALL
            SELECT a.beneficiary_id, a.seq, a.record_table, a.record_id
              FROM batch b
             CROSS JOIN LATERAL eligo_canonical_determinations(b.ids) AS c
              JOIN audit_record a ON a.record_table = 'determination' AND a.record_id = c.id AND a.kind = 'determination'
             WHERE a.content_hash <> sha256(convert_to(c.content, 'UTF8'))
             ORDER BY 1, 2 LIMIT 1
            """;

    /** Chain heads that disagree with the last link of their chain (a link removed from the end). */
    static final String BAD_HEADS = """
            SELECT h.beneficiary_id FROM audit_head h
              LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_record a WHERE a.beneficiary_id = h.beneficiary_id
                                  ORDER BY a.seq DESC LIMIT 1) AS l ON true
             WHERE l.seq IS DISTINCT FROM h.seq OR l.hash IS DISTINCT FROM h.hash
             ORDER BY h.beneficiary_id LIMIT 1
            """;

    static final String UNCHAINED_MESSAGES = """
            SELECT m.id FROM message m
             WHERE NOT EXISTS (SELECT 1 FROM audit_record a WHERE a.record_table = 'message' AND a.record_id = m.id AND a.kind = 'message')
             ORDER BY m.id LIMIT 1
            """;

    static final String UNCHAINED_DETERMINATIONS = """
            SELECT d.id FROM determination d
             WHERE NOT EXISTS (SELECT 1 FROM audit_record a WHERE a.record_table = 'determination' AND a.record_id = d.id)
             ORDER BY d.id LIMIT 1
            """;

    static final String COUNTS = "SELECT kind, count(*) FROM audit_record GROUP BY kind";

    /** The head of the whole trail: a digest of every chain's head, in beneficiary order. */
    static final String GLOBAL_HEAD = """
            SELECT encode(sha256(coalesce(string_agg(convert_to(beneficiary_id, 'UTF8') || '\\x00'::bytea || hash, ''::bytea
                                                     ORDER BY beneficiary_id COLLATE "C"), ''::bytea)), 'hex')
              FROM audit_head
            """;

    static final String CHECKPOINTS = "SELECT id, prev_digest, digest, heads, signature, key_id FROM audit_checkpoint ORDER BY id";
    static final String CHECKPOINT_HEADS = "SELECT beneficiary_id, seq, hash FROM audit_checkpoint_head WHERE checkpoint_id = ? ORDER BY beneficiary_id COLLATE \"C\"";

    /** The first link of each chain that no checkpoint covers, if it is older than the grace period. Binds seconds. */
    static final String UNCOVERED = """
            SELECT h.beneficiary_id, a.seq FROM audit_head h
             CROSS JOIN LATERAL (SELECT coalesce(max(c.seq), 0) AS covered FROM audit_checkpoint_head c WHERE c.beneficiary_id = h.beneficiary_id) AS cov
              JOIN audit_record a ON a.beneficiary_id = h.beneficiary_id AND a.seq = cov.covered + 1
             WHERE a.recorded_at < clock_timestamp() - ? * interval '1 second'
             ORDER BY h.beneficiary_id LIMIT 1
            """;

    /** Chains whose head was removed. */
    static final String HEADLESS = """
            SELECT a.beneficiary_id FROM audit_record a
             WHERE a.seq = 1 AND NOT EXISTS (SELECT 1 FROM audit_head h WHERE h.beneficiary_id = a.beneficiary_id)
             ORDER BY 1 LIMIT 1
            """;

    /** Checkpointed heads that no longer match their chain (a chain rewritten behind a checkpoint). */
    static final String BAD_CHECKPOINT_HEADS = """
            SELECT c.beneficiary_id, c.seq FROM audit_checkpoint_head c
              LEFT JOIN audit_record a ON a.beneficiary_id = c.beneficiary_id AND a.seq = c.seq
             WHERE a.hash IS DISTINCT FROM c.hash
             ORDER BY c.checkpoint_id, c.beneficiary_id LIMIT 1
            """;

    private final Db db;
    private final Signer signer;
    private final AuditConfig config;
    private final com.fasterxml.jackson.databind.ObjectMapper json;

    public IntegrityService(Db db, Signer signer, AuditConfig config, com.fasterxml.jackson.databind.ObjectMapper json) {
        this.db = db;
        this.signer = signer;
        this.config = config;
        this.json = json;
    }

    /** One snapshot of everything. It reads every record (about a minute per 30,000 determinations), hence a time-out of 6 h, past the default. */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.REQUIRES_NEW)
    @io.quarkus.narayana.jta.runtime.TransactionConfiguration(timeout = 6 * 60 * 60)
    public Integrity verify() {
        return db.inCurrent(connection -> {
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                statement.execute("SET LOCAL timezone = 'UTC'");
            }
            Integrity.Checked checked = counts(connection);
            String head = single(connection, GLOBAL_HEAD);

            // Links and contents, in chain order: the first bad record is the one earliest in its chain.
            java.util.Map<String, String> positioned = new java.util.LinkedHashMap<>();
            positioned.put(BAD_LINKS, "its chain link does not verify (a link altered, removed or reordered)");
            positioned.put(BAD_MESSAGES, "its content is not what was chained (altered or removed)");
            positioned.put(BAD_DETERMINATIONS, "its content or fact links are not what was chained (altered or removed)");
            positioned.put(BAD_FACTS, "its content or revocation is not what was chained (altered or removed)");
            Found first = null;
            String problem = null;
            for (java.util.Map.Entry<String, String> check : positioned.entrySet()) {
                Found found = positioned(connection, check.getKey());
                if (found != null && (first == null || found.before(first))) {
                    first = found;
                    problem = check.getValue();
                }
            }
            if (first != null) {
                return bad(checked, head, first.table, first.id, problem);
            }
            String unchained = single(connection, UNCHAINED_MESSAGES);
            if (unchained != null) {
                return bad(checked, head, "message", unchained, "not in its beneficiary's chain");
            }
            unchained = single(connection, UNCHAINED_FACTS);
            if (unchained != null) {
                return bad(checked, head, "fact", unchained, "not in its beneficiary's chain, or revoked without a record of it");
            }
            unchained = single(connection, UNCHAINED_DETERMINATIONS);
            if (unchained != null) {
                return bad(checked, head, "determination", unchained, "not in its beneficiary's chain");
            }
            String badHead = single(connection, BAD_HEADS);
            if (badHead != null) {
                return bad(checked, head, "audit_head", badHead, "the chain's head does not match its last link (links removed)");
            }
            String headless = single(connection, HEADLESS);
            if (headless != null) {
                return bad(checked, head, "audit_head", headless, "the chain's head was removed");
            }
            Integrity rulesets = rulesetFiles(connection, checked, head);
            if (rulesets != null) {
                return rulesets;
            }
            try (PreparedStatement statement = connection.prepareStatement(UNCOVERED)) {
                statement.setLong(1, config.checkpointGrace().toSeconds());
                try (ResultSet rs = statement.executeQuery()) {
                    if (rs.next()) {
                        return bad(checked, head, "audit_record", rs.getString(1) + "/" + rs.getLong(2),
                                "older than " + config.checkpointGrace() + " and covered by no checkpoint (checkpoints removed?)");
                    }
                }
            }
            return checkpoints(connection, checked, head);
        });
    }

    private Integrity checkpoints(Connection connection, Integrity.Checked checked, String head) throws SQLException {
        byte[] previous = GENESIS;
        try (PreparedStatement statement = connection.prepareStatement(CHECKPOINTS); ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                long id = rs.getLong(1);
                byte[] digest = rs.getBytes(3);
                // A checkpoint signed with the configured key must verify; one from before the key (or
                // under another key) can only be checked for its digest.
                boolean signedWithOurKey = signer.canSign() && signer.keyId().equals(rs.getString(6));
                if (!Arrays.equals(previous, rs.getBytes(2))
                        || !Arrays.equals(digest, digest(previous, heads(connection, id)))
                        || (signedWithOurKey && !signer.verify(digest, rs.getBytes(5)))) {
                    return bad(checked, head, "audit_checkpoint", Long.toString(id), "checkpoint digest or signature does not verify");
                }
                previous = digest;
            }
        }
        try (PreparedStatement statement = connection.prepareStatement(BAD_CHECKPOINT_HEADS); ResultSet rs = statement.executeQuery()) {
            if (rs.next()) {
                return bad(checked, head, "audit_record", rs.getString(1) + "/" + rs.getLong(2), "the chain was rewritten behind a signed checkpoint");
            }
        }
        return new Integrity(true, checked, head, null, null);
    }

    /** Every recorded ruleset version's files must still hash to its sha256. */
    private Integrity rulesetFiles(Connection connection, Integrity.Checked checked, String head) throws SQLException {
        for (org.eligo.rules.RulesetVersion.RecordedFiles recorded : org.eligo.rules.RulesetVersion.recordedFiles(connection)) {
            java.util.Map<String, String> files;
            try {
                files = json.readValue(recorded.files(), new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, String>>() { });
            } catch (java.io.IOException e) {
                files = java.util.Map.of();
            }
            if (!org.eligo.rules.RulesetLoader.sha256(files).equals(recorded.sha256())) {
                return bad(checked, head, "ruleset_version", recorded.rulesetId() + "@" + recorded.sha256(), "the files do not hash to the recorded sha256");
            }
        }
        return null;
    }

    /** A checkpoint's heads, as (beneficiary, seq, hash) rows in beneficiary order. */
    private static List<Object[]> heads(Connection connection, long checkpointId) throws SQLException {
        List<Object[]> heads = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(CHECKPOINT_HEADS)) {
            statement.setLong(1, checkpointId);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    heads.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getBytes(3)});
                }
            }
        }
        return heads;
    }

    /** sha256(previous digest, then per head: beneficiary UTF-8, NUL, seq as 8 bytes, hash). */
    static byte[] digest(byte[] previous, List<Object[]> heads) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(previous);
            for (Object[] head : heads) {
                sha.update(((String) head[0]).getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(ByteBuffer.allocate(8).putLong((Long) head[1]).array());
                sha.update((byte[]) head[2]);
            }
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first fact link (in chain order) whose fact is gone, moved or no longer hashes to what was chained. */
    static final String BAD_FACTS = "SELECT a.beneficiary_id, a.seq, a.record_table, a.record_id FROM audit_record a LEFT JOIN fact f ON f.id = a.record_id"
            + " WHERE a.record_table = 'fact'"
            + " AND (f.id IS NULL OR f.beneficiary_id <> a.beneficiary_id OR a.content_hash <> sha256(convert_to(CASE a.kind"
            + " WHEN 'fact' THEN eligo_canonical_fact(to_jsonb(f)) ELSE eligo_canonical_revocation(to_jsonb(f)) END, 'UTF8')))"
            + " ORDER BY a.beneficiary_id, a.seq LIMIT 1";

    private static final String CHAINED_FACT = "SELECT 1 FROM audit_record a WHERE a.record_table = 'fact' AND a.record_id = f.id AND a.kind = ";

    /** A fact with no link of its creation, or revoked with no link of its revocation. */
    static final String UNCHAINED_FACTS = "SELECT f.id FROM fact f WHERE NOT EXISTS (" + CHAINED_FACT + "'fact')"
            + " OR (f.revoked_at IS NOT NULL AND NOT EXISTS (" + CHAINED_FACT + "'revocation')) ORDER BY f.id LIMIT 1";

    private record Found(String beneficiary, long seq, String table, String id) {
        boolean before(Found other) {
            int order = beneficiary.compareTo(other.beneficiary);
            return order < 0 || (order == 0 && seq < other.seq);
        }
    }

    private static Found positioned(Connection connection, String sql) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql); ResultSet rs = statement.executeQuery()) {
            return rs.next() ? new Found(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4)) : null;
        }
    }

    private static String single(Connection connection, String sql) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql); ResultSet rs = statement.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static Integrity.Checked counts(Connection connection) throws SQLException {
        long messages = 0;
        long facts = 0;
        long determinations = 0;
        try (PreparedStatement statement = connection.prepareStatement(COUNTS); ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                switch (rs.getString(1)) {
                    case "message" -> messages = rs.getLong(2);
                    case "fact" -> facts = rs.getLong(2);
                    case "determination" -> determinations = rs.getLong(2);
                    default -> { }
                }
            }
        }
        long checkpoints;
        try (PreparedStatement statement = connection.prepareStatement("SELECT count(*) FROM audit_checkpoint"); ResultSet rs = statement.executeQuery()) {
            rs.next();
            checkpoints = rs.getLong(1);
        }
        return new Integrity.Checked(messages, facts, determinations, checkpoints);
    }

    private static Integrity bad(Integrity.Checked checked, String head, String table, String id, String problem) {
        return new Integrity(false, checked, head, new Integrity.BadRecord(table, id), problem);
    }
}
