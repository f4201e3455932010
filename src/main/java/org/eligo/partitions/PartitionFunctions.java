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

    public PartitionFunctions(Db db) {
        this.db = db;
    }

    /** Creates the monthly partitions up to {@code monthsAhead} months from now; returns how many were made. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public int createAhead(int monthsAhead) {
        return db.inCurrent(connection -> call(connection, CREATE, monthsAhead));
    }

    /** Drops the monthly partitions older than {@code retentionMonths}; returns how many were dropped. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public int dropExpired(int retentionMonths) {
        return db.inCurrent(connection -> call(connection, DROP_EXPIRED, retentionMonths));
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
