package org.eligo.partitions;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.support.Db;

/**
 * The database's partition functions (db/migration/R__50_partitions.sql), each call in a transaction
 * of its own: creating partitions ahead must not wait on, or be undone by, dropping expired ones.
 */
@ApplicationScoped
public class PartitionFunctions {

    static final String CREATE = "SELECT eligo_create_partitions(?)";
    static final String DROP_EXPIRED = "SELECT eligo_drop_expired_partitions(?)";

    private final Db db;
    private final org.eligo.ledger.Ledger ledger;

    public PartitionFunctions(Db db, org.eligo.ledger.Ledger ledger) {
        this.db = db;
        this.ledger = ledger;
    }

    /** Creates the monthly partitions up to {@code monthsAhead} months from now; returns how many were made. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public int createAhead(int monthsAhead) {
        return db.inCurrent(connection -> call(connection, CREATE, monthsAhead));
    }

    /**
     * The purges this transaction recorded (the function inserts them; xmin names the inserting
     * transaction, so a purge another instance committed meanwhile is not taken for one of ours).
     */
    static final String PURGED_HERE = """
            SELECT id, table_name, partition, ids_from, ids_before, purged_at FROM retention_purge
             WHERE xmin = pg_current_xact_id()::xid ORDER BY id
            """;

    /** A purge's ledger leaves are labelled retention_purge/&lt;id&gt;. */
    public static final String LEDGER_TABLE = "retention_purge";

    /**
     * Drops the monthly partitions older than {@code retentionMonths}; returns how many were dropped.
     * Each drop's purge record goes into the ledger with the transaction that made it.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public int dropExpired(int retentionMonths) {
        return db.inCurrent(connection -> {
            int dropped = call(connection, DROP_EXPIRED, retentionMonths);
            if (dropped > 0) {
                try (PreparedStatement statement = connection.prepareStatement(PURGED_HERE); ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        ledger.record(LEDGER_TABLE + "/" + rs.getLong(1), canonical(rs.getLong(1), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5), org.eligo.support.Timestamps.read(rs, 6)));
                    }
                }
            }
            return dropped;
        });
    }

    /** A purge's canonical content (README, "The ledger"): which table, which partition, which ids, when. */
    public static byte[] canonical(long id, String table, String partition, String idsFrom, String idsBefore, java.time.Instant purgedAt) {
        return org.eligo.ledger.Canonical.object().put("id", id).put("table_name", table).put("partition", partition)
                .put("ids_from", idsFrom).put("ids_before", idsBefore).put("purged_at", purgedAt).bytes();
    }

    private static int call(Connection connection, String sql, int argument) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET LOCAL lock_timeout = '5s'");
        }
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setInt(1, argument);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
