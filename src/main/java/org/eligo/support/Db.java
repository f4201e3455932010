package org.eligo.support;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientException;

import jakarta.enterprise.context.ApplicationScoped;

import io.agroal.api.AgroalDataSource;

/**
 * Explicit JDBC transactions, for the table owners whose hot paths are set-wise SQL (ON CONFLICT,
 * FOR UPDATE SKIP LOCKED, advisory locks, unnest inserts), as named constants in the owner. The
 * persistence model is Hibernate ORM with Panache in declarative JTA transactions (the ruleset
 * tables' entities, {@code org.eligo.rules.RulesetVersion} and {@code RulesetActivation}, are the
 * first); owners move to it one at a time. A connection taken here is outside any JTA transaction,
 * so the pool leaves its commit and rollback to this class.
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

    public Db(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
    public <T> T inTransaction(SqlWork<T> work) {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (Throwable e) {
                rollbackQuietly(connection, e);
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
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
     * True when {@code e} is a failure of the moment, not of the work: the database is away (SQLSTATE
     * classes 08 and 57P, pool time-outs), or the transaction lost a race (deadlock 40P01,
     * serialization 40001, lock or statement time-out 55P03/57014, resources 53xxx). The same work
     * should simply be tried again later; a client is told 503, never 500, and a message's attempts
     * are not spent on it.
     */
    public static boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
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

    /** Runs {@code work} in a transaction, again (up to {@code attempts} in all) if it loses a race. */
    public <T> T inTransactionRetrying(int attempts, SqlWork<T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return inTransaction(work);
            } catch (DataAccessException e) {
                if (attempt >= attempts || !isRace(e)) {
                    throw e;
                }
            }
        }
    }

    private static boolean isRace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && ("40P01".equals(sql.getSQLState()) || "40001".equals(sql.getSQLState()))) {
                return true;
            }
        }
        return false;
    }

    private static void rollbackQuietly(Connection connection, Throwable cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }

    /** An SQL failure, unchecked; its cause keeps the SQLSTATE. */
    public static class DataAccessException extends RuntimeException {
        public DataAccessException(SQLException cause) {
            super(cause.getMessage(), cause);
        }
    }
}
