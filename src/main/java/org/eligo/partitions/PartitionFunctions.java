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
    static final String DROP_EXPIRED_ACCESS_LOG = "SELECT eligo_drop_expired_access_log(?)";

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
            SELECT id, table_name, partition, ids_from, ids_before, purged_at, retention_months FROM retention_purge
             WHERE xmin = pg_current_xact_id()::xid ORDER BY id
            """;

    /** A purge's ledger leaves are labelled retention_purge/&lt;id&gt;. */
    public static final String LEDGER_TABLE = "retention_purge";

    /**
     * Drops the monthly partitions of messages and determinations older than {@code retentionMonths};
     * returns how many were dropped. Each drop's purge record goes into the ledger with the
     * transaction that made it.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public int dropExpired(int retentionMonths) {
        return drop(DROP_EXPIRED, retentionMonths);
    }

    /**
     * Drops the monthly partitions of the access log older than {@code retentionMonths} (a retention
     * of its own); returns how many were dropped. The rows are not in the ledger, but each drop is
     * recorded like any purge, so when and under which retention a month of access records went stays
     * provable.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public int dropExpiredAccessLog(int retentionMonths) {
        return drop(DROP_EXPIRED_ACCESS_LOG, retentionMonths);
    }

    private int drop(String function, int retentionMonths) {
        return db.inCurrent(connection -> {
            int dropped = call(connection, function, retentionMonths);
            if (dropped > 0) {
                try (PreparedStatement statement = connection.prepareStatement(PURGED_HERE); ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        ledger.record(LEDGER_TABLE + "/" + rs.getLong(1), canonical(rs.getLong(1), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5), org.eligo.support.Timestamps.read(rs, 6), rs.getInt(7)));
                    }
                }
            }
            return dropped;
        });
    }

    /** A purge's canonical content (README, "The ledger"): which table, which partition, which ids, when, under which retention. */
    public static org.eligo.ledger.Canonical canonical(long id, String table, String partition, String idsFrom, String idsBefore, java.time.Instant purgedAt,
                                   Integer retentionMonths) {
        return org.eligo.ledger.Canonical.object().put("id", id).put("table_name", table).put("partition", partition)
                .put("ids_from", idsFrom).put("ids_before", idsBefore).put("purged_at", purgedAt).put("retention_months", retentionMonths);
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

    // ---------------------------------------------------------------- verification

    /** Every purge in its ledger form, with the range it excuses. Few rows: read whole. */
    static final String ALL_PURGES = """
            SELECT id, table_name, partition, ids_from, ids_before, purged_at, retention_months FROM retention_purge ORDER BY id
            """;

    /**
     * The first purge that is not the drop of a whole month that had expired under the retention it
     * names: a family's partition of that month, its range exactly the month's (in ids, or for the
     * access log in instants: eligo_month_bound), and the month older than the retention when it was
     * purged (what eligo_drop_expired_months does).
     */
    static final String FIRST_INVALID_PURGE = """
            SELECT r.id FROM retention_purge r
              LEFT JOIN eligo_partitioned_tables() t ON t.parent = r.table_name
             WHERE t.parent IS NULL OR r.retention_months IS NULL OR r.retention_months < 12
                OR r.partition !~ ('^' || r.table_name || '_[0-9]{6}$')
                OR CASE WHEN r.partition ~ ('^' || r.table_name || '_[0-9]{6}$') THEN
                        r.ids_from IS DISTINCT FROM eligo_month_bound(t.prefix, to_date(right(r.partition, 6), 'YYYYMM'))
                     OR r.ids_before IS DISTINCT FROM eligo_month_bound(t.prefix, (to_date(right(r.partition, 6), 'YYYYMM') + interval '1 month')::date)
                     OR to_date(right(r.partition, 6), 'YYYYMM')
                        >= (date_trunc('month', r.purged_at AT TIME ZONE 'UTC') - make_interval(months => r.retention_months))::date
                   ELSE true END
             ORDER BY r.id LIMIT 1
            """;

    /** A purge as verification reads it: its ledger form and the id range of its table it excuses. */
    public record Purge(org.eligo.ledger.Recorded recorded, long id, String table, String idsFrom, String idsBefore) {

        /** Whether this purge removed the record {@code id} of {@code table} (ids order by creation, so a month is a range). */
        public boolean removed(String table, String id) {
            return this.table.equals(table) && id.compareTo(idsFrom) >= 0 && id.compareTo(idsBefore) < 0;
        }
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public java.util.List<Purge> purges() {
        return db.inCurrent(connection -> {
            java.util.List<Purge> purges = new java.util.ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(ALL_PURGES); ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    Integer retention = (Integer) rs.getObject(7);
                    purges.add(new Purge(new org.eligo.ledger.Recorded(LEDGER_TABLE + "/" + id, canonical(id, rs.getString(2), rs.getString(3),
                            rs.getString(4), rs.getString(5), org.eligo.support.Timestamps.read(rs, 6), retention)),
                            id, rs.getString(2), rs.getString(4), rs.getString(5)));
                }
            }
            return purges;
        });
    }

    /** The id of the first purge that is not a whole expired month (see {@link #FIRST_INVALID_PURGE}); empty when none. */
    @Transactional(Transactional.TxType.MANDATORY)
    public java.util.OptionalLong firstInvalidPurge() {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(FIRST_INVALID_PURGE); ResultSet rs = statement.executeQuery()) {
                return rs.next() ? java.util.OptionalLong.of(rs.getLong(1)) : java.util.OptionalLong.empty();
            }
        });
    }
}
