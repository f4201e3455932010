package org.eligo.support;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * A transaction whose commit fails because the database went away is a failure of the moment (503,
 * no attempt spent), when it was begun by {@code @Transactional}:
 * the SQLException reaches the caller only as something the RollbackException suppressed.
 */
@QuarkusTest
class CommitFailureTest {

    /** Its connection is terminated (from another session) after the work and before the commit. */
    @ApplicationScoped
    static class Doomed {
        @Inject
        Db db;

        @Transactional
        public void work() {
            int backend = db.inCurrent(CommitFailureTest::backend);
            Sql.rows("SELECT pg_terminate_backend(?)", backend);
        }
    }

    @Inject
    Doomed doomed;

    private static int backend(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aTransactionalMethodWhoseCommitFailsForTheMomentIsTransient() {
        Exception failure = assertThrows(Exception.class, doomed::work);
        assertTrue(Db.isTransient(failure), failure.toString());
    }
}
