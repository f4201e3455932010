package org.eligo.support;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientException;

import jakarta.enterprise.context.ApplicationScoped;

import io.agroal.api.AgroalDataSource;

/**
 * The connection of the caller's {@code @Transactional} transaction, for the table owners whose hot
 * paths are set-wise SQL (ON CONFLICT, FOR UPDATE SKIP LOCKED, advisory locks, unnest inserts), kept
 * as named constants in the owner: that SQL and the Panache entities used in the same transaction
 * run on the one connection enlisted in it and commit together. Transactions themselves are
 * declared ({@code @Transactional}); this class starts none. Also: which failures are of the moment
 * ({@link #isTransient}).
 */
@ApplicationScoped
public class Db {

    /** Work done with one connection; may throw SQL errors, which roll the transaction back. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private static final java.util.Set<String> TRANSIENT_STATES = java.util.Set.of("40001", "40P01", "55P03", "57014");

    private final AgroalDataSource dataSource;
    private final jakarta.transaction.TransactionManager transactions;

    public Db(AgroalDataSource dataSource, jakarta.transaction.TransactionManager transactions) {
        this.dataSource = dataSource;
        this.transactions = transactions;
    }

    /**
     * Runs {@code work} on the connection of the caller's transaction (a {@code @Transactional}
     * method's): how a table's owner runs its set-wise SQL, committed or rolled back with everything
     * else the transaction does, Panache entities included (Agroal hands out the one connection
     * enlisted in the transaction). Refuses to run outside a transaction, where each statement would
     * commit on its own.
     */
    public <T> T inCurrent(SqlWork<T> work) {
        try {
            if (transactions.getStatus() != jakarta.transaction.Status.STATUS_ACTIVE) {
                throw new IllegalStateException("No active transaction: the caller must be @Transactional");
            }
        } catch (jakarta.transaction.SystemException e) {
            throw new IllegalStateException(e);
        }
        try (Connection connection = dataSource.getConnection()) {
            return work.run(connection);
        } catch (SQLException e) {
            throw new DataAccessException(e);
        }
    }

    /** Runs read-only {@code work} in auto-commit mode: each statement sees the latest committed data. */
    public <T> T read(SqlWork<T> work) {
        try (Connection connection = dataSource.getConnection()) {
            return work.run(connection);
        } catch (SQLException e) {
            throw new DataAccessException(e);
        }
    }

    /**
     * Makes the caller's transaction, which must have run nothing yet, one REPEATABLE READ, read-only
     * snapshot: every statement after this sees the same data, so counts taken from several owners'
     * tables agree with each other.
     */
    public void readOnlySnapshot() {
        inCurrent(connection -> {
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            }
            return null;
        });
    }

    /**
     * In the caller's transaction, a sequential scan only where no index can answer: a count that a
     * partial index bounds (the backlog, the failed messages) then walks that index even on a
     * partition small enough for the planner to prefer reading it whole, so the cost of what is
     * asked never depends on the size of the table. For reads that must stay bounded (GET /v1/stats).
     */
    public void indexesWherePossible() {
        inCurrent(connection -> {
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL enable_seqscan = off");
            }
            return null;
        });
    }

    /**
     * About how many rows {@code table} (partitioned or not) holds, without reading it: per leaf
     * partition, the larger of pg_class.reltuples (as of its last VACUUM or ANALYZE; -1 never) and the
     * statistics' n_live_tup (kept as rows are written and deleted, but lost in a crash), summed.
     * Either alone misleads: reltuples lags a partition filling up since autovacuum last came by, and
     * n_live_tup is 0 after a crash until then. Rows are only ever removed here by dropping a month,
     * which takes both with it, so the larger one is the better guess.
     */
    public long estimatedRows(String table) {
        return inCurrent(connection -> {
            try (java.sql.PreparedStatement statement = connection.prepareStatement(ESTIMATED_ROWS)) {
                statement.setString(1, table);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    static final String ESTIMATED_ROWS = """
            SELECT coalesce(sum(greatest(c.reltuples::bigint, coalesce(s.n_live_tup, 0))), 0)::bigint
              FROM pg_partition_tree(?::regclass) t
              JOIN pg_class c ON c.oid = t.relid
              LEFT JOIN pg_stat_all_tables s ON s.relid = t.relid
             WHERE t.isleaf
            """;

    /**
     * True when {@code e} is a failure of the moment, not of the work: the database is away (SQLSTATE
     * classes 08 and 57P, pool time-outs), or the transaction lost a race (deadlock 40P01,
     * serialization 40001, lock or statement time-out 55P03/57014, resources 53xxx). The same work
     * should simply be tried again later; a client is told 503, never 500, and a message's attempts
     * are not spent on it.
     */
    public static boolean isTransient(Throwable e) {
        for (Throwable t : failures(e)) {
            if (t instanceof SQLTransientException) {
                return true;
            }
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state == null) {
                    // Agroal's pool time-out carries no SQLSTATE.
                    if (sql.getMessage() != null && sql.getMessage().contains("acquisition timeout")) {
                        return true;
                    }
                    continue;
                }
                if (state.startsWith("08") || state.startsWith("57P") || state.startsWith("53") || TRANSIENT_STATES.contains(state)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code e}, its causes, and what they suppressed. A failure at commit reaches the caller (of a
     * {@code @Transactional} method) as a RollbackException whose
     * SQLException is not its cause: Narayana attaches the resource's XAException, whose cause it is,
     * as suppressed (seen with a connection terminated before commit: RollbackException "Could not
     * commit transaction", suppressed XAException, cause PSQLException 57P01).
     */
    public static java.util.List<Throwable> failures(Throwable e) {
        java.util.List<Throwable> found = new java.util.ArrayList<>();
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.Deque<Throwable> next = new java.util.ArrayDeque<>();
        next.add(e);
        while (!next.isEmpty()) {
            Throwable t = next.poll();
            if (!seen.add(t)) {
                continue;
            }
            found.add(t);
            if (t.getCause() != null) {
                next.add(t.getCause());
            }
            next.addAll(java.util.List.of(t.getSuppressed()));
        }
        return found;
    }

    /** An SQL failure, unchecked; its cause keeps the SQLSTATE. */
    public static class DataAccessException extends RuntimeException {
        public DataAccessException(SQLException cause) {
            super(cause.getMessage(), cause);
        }
    }
}
