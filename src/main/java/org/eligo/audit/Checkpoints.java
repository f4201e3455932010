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

    /**
     * Heads past what the checkpoints cover, all of them (a limit would starve the end of the order
     * under steady load). No lock is taken on them: a head that moves meanwhile is covered by the
     * next checkpoint. Byte order (C collation): the digest must not depend on the locale.
     */
    static final String MOVED_HEADS = """
            SELECT h.beneficiary_id, h.seq, h.hash FROM audit_head h
             WHERE h.seq > coalesce((SELECT max(c.seq) FROM audit_checkpoint_head c WHERE c.beneficiary_id = h.beneficiary_id), 0)
             ORDER BY h.beneficiary_id COLLATE "C"
            """;

    static final String LAST = "SELECT id, digest FROM audit_checkpoint ORDER BY id DESC LIMIT 1";

    /** Through the database's own checks (eligo_audit_checkpoint, db/migration/R__30_hash_chains.sql); hashes travel as hex. */
    static final String RECORD = """
            SELECT eligo_audit_checkpoint(?, ?, ?, ?, ?, ?::text[], ?::bigint[],
                   ARRAY(SELECT decode(x, 'hex') FROM unnest(?::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n))
            """;

    private final Db db;
    private final Signer signer;

    public Checkpoints(Db db, Signer signer) {
        this.db = db;
        this.signer = signer;
    }

    /**
     * At start: covers what the previous run wrote after its last checkpoint. In the background, so
     * that readiness does not wait for it: after a large rerun it digests every head that moved (one
     * per beneficiary rerun), work that grows with the data and that nothing at start depends on.
     * The periodic checkpoints and this one take turns through the advisory lock.
     */
    void onStart(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent event) {
        Thread starter = new Thread(this::scheduled, "eligo-checkpoint-at-start");
        starter.setDaemon(true);
        starter.start();
    }

    @Scheduled(every = "${eligo.audit.checkpoint-interval:1m}", delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        try {
            checkpoint();
        } catch (RuntimeException e) {
            LOG.warnf("Audit checkpoint failed (%s); the next one will cover its heads", e.getMessage());
        }
    }

    /**
     * Takes a checkpoint of the heads that moved; returns its id, or empty when nothing moved. A
     * transaction of its own (also when called from {@link #scheduled}: Quarkus intercepts calls
     * within a bean).
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.REQUIRES_NEW)
    public OptionalLong checkpoint() {
        return db.inCurrent(connection -> {
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
            try (PreparedStatement statement = connection.prepareStatement(RECORD)) {
                statement.setLong(1, id);
                statement.setBytes(2, previous);
                statement.setBytes(3, digest);
                statement.setBytes(4, signer.sign(digest));
                statement.setString(5, signer.keyId());
                statement.setArray(6, connection.createArrayOf("text", heads.stream().map(h -> h[0]).toArray()));
                statement.setArray(7, connection.createArrayOf("bigint", heads.stream().map(h -> h[1]).toArray()));
                statement.setArray(8, connection.createArrayOf("text", heads.stream().map(h -> HexFormat.of().formatHex((byte[]) h[2])).toArray()));
                statement.executeQuery().close();
            }
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
}
