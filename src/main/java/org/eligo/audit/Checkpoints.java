package org.eligo.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Db;
import org.jboss.logging.Logger;

import io.quarkus.scheduler.Scheduled;

/**
 * Periodically checkpoints the chains: the heads that moved since the last checkpoint, digested
 * together with the previous checkpoint's digest, signed, stored, and written to the log (which is
 * shipped out of the database's reach). Someone able to rewrite the database can recompute a chain,
 * but not a signed checkpoint that covers it, nor a log line already shipped.
 */
@ApplicationScoped
public class Checkpoints {

    private static final Logger LOG = Logger.getLogger(Checkpoints.class);

    /** One instance checkpoints at a time (advisory lock, class 17773). */
    static final String TRY_LOCK = "SELECT pg_try_advisory_xact_lock(17773, 0)";

    /** Heads that moved; SKIP LOCKED so that a chain being appended to now simply waits for the next one. */
    static final String MOVED_HEADS = """
            SELECT beneficiary_id, seq, hash FROM audit_head
             WHERE seq > checkpointed_seq
             ORDER BY beneficiary_id
             LIMIT 100000
               FOR UPDATE SKIP LOCKED
            """;

    static final String LAST = "SELECT id, digest FROM audit_checkpoint ORDER BY id DESC LIMIT 1";

    static final String INSERT = "INSERT INTO audit_checkpoint (id, prev_digest, digest, heads, signature) VALUES (?, ?, ?, ?, ?)";

    static final String INSERT_HEADS = """
            INSERT INTO audit_checkpoint_head (checkpoint_id, beneficiary_id, seq, hash)
            SELECT ?, h.beneficiary_id, h.seq::bigint, decode(h.hash, 'hex')
              FROM unnest(?::text[], ?::text[], ?::text[]) AS h(beneficiary_id, seq, hash)
            """;

    static final String MARK = """
            UPDATE audit_head AS a SET checkpointed_seq = h.seq::bigint
              FROM unnest(?::text[], ?::text[]) AS h(beneficiary_id, seq)
             WHERE a.beneficiary_id = h.beneficiary_id
            """;

    private final Db db;
    private final Signer signer;

    public Checkpoints(Db db, Signer signer) {
        this.db = db;
        this.signer = signer;
    }

    @Scheduled(every = "${eligo.audit.checkpoint-interval:1m}", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        try {
            checkpoint();
        } catch (RuntimeException e) {
            LOG.warnf("Audit checkpoint failed (%s); the next one will cover its heads", e.getMessage());
        }
    }

    /** Takes a checkpoint of the heads that moved; returns its id, or empty when nothing moved. */
    public OptionalLong checkpoint() {
        return db.inTransaction(connection -> {
            if (!tryLock(connection)) {
                return OptionalLong.empty();
            }
            List<Object[]> heads = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(MOVED_HEADS); ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    heads.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getBytes(3)});
                }
            }
            if (heads.isEmpty()) {
                return OptionalLong.empty();
            }
            long id = 1;
            byte[] previous = IntegrityService.GENESIS;
            try (PreparedStatement statement = connection.prepareStatement(LAST); ResultSet rs = statement.executeQuery()) {
                if (rs.next()) {
                    id = rs.getLong(1) + 1;
                    previous = rs.getBytes(2);
                }
            }
            byte[] digest = IntegrityService.digest(previous, heads);
            try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
                statement.setLong(1, id);
                statement.setBytes(2, previous);
                statement.setBytes(3, digest);
                statement.setInt(4, heads.size());
                statement.setBytes(5, signer.sign(digest));
                statement.executeUpdate();
            }
            insertHeads(connection, id, heads);
            LOG.infof("Audit checkpoint %d: %d chains moved, digest %s%s", id, heads.size(), HexFormat.of().formatHex(digest),
                    signer.canSign() ? " (signed)" : "");
            return OptionalLong.of(id);
        });
    }

    private static boolean tryLock(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(TRY_LOCK); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static void insertHeads(Connection connection, long id, List<Object[]> heads) throws SQLException {
        Object beneficiaries = connection.createArrayOf("text", heads.stream().map(h -> h[0]).toArray());
        Object seqs = connection.createArrayOf("text", heads.stream().map(h -> h[1].toString()).toArray());
        Object hashes = connection.createArrayOf("text", heads.stream().map(h -> HexFormat.of().formatHex((byte[]) h[2])).toArray());
        try (PreparedStatement statement = connection.prepareStatement(INSERT_HEADS)) {
            statement.setLong(1, id);
            statement.setObject(2, beneficiaries);
            statement.setObject(3, seqs);
            statement.setObject(4, hashes);
            statement.executeUpdate();
        }
        try (PreparedStatement statement = connection.prepareStatement(MARK)) {
            statement.setObject(1, beneficiaries);
            statement.setObject(2, seqs);
            statement.executeUpdate();
        }
    }
}
