package org.eligo.support;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;

import org.junit.jupiter.api.Test;

/** Which database failures are of the moment (retry, 503) and which are the work's own (fail it, or a bug). */
class DbTest {

    private static Db.DataAccessException failure(String state, String message) {
        return new Db.DataAccessException(new SQLException(message, state));
    }

    @Test
    void failuresOfTheMomentAreTransient() {
        for (String state : new String[] {"08006", "57P01", "40P01", "40001", "55P03", "57014", "53200"}) {
            assertTrue(Db.isTransient(failure(state, "x")), state);
        }
        assertTrue(Db.isTransient(failure(null, "Sorry, acquisition timeout!")));
        assertTrue(Db.isTransient(new RuntimeException(new java.sql.SQLTransientConnectionException("gone"))));
    }

    /** As a failure at commit arrives: the SQLException is the cause of an XAException suppressed by the RollbackException. */
    private static Exception atCommit(String state) {
        jakarta.transaction.RollbackException rollback = new jakarta.transaction.RollbackException("ARJUNA016053: Could not commit transaction.");
        javax.transaction.xa.XAException xa = new javax.transaction.xa.XAException("Error trying to transactionCommit local transaction");
        xa.initCause(new SQLException("x", state));
        rollback.addSuppressed(xa);
        return new RuntimeException("Error invoking subclass method", rollback);
    }

    @Test
    void aFailureAtCommitIsJudgedByItsSqlState() {
        assertTrue(Db.isTransient(atCommit("57P01")), "connection terminated before commit");
        assertTrue(Db.isTransient(atCommit("40001")), "serialization failure at commit");
        assertFalse(Db.isTransient(atCommit("23505")), "a deferred constraint: the work's own");
    }

    @Test
    void failuresOfTheWorkAreNot() {
        for (String state : new String[] {"23505", "23514", "22003", "42P01", "XX000"}) {
            assertFalse(Db.isTransient(failure(state, "x")), state);
        }
        assertFalse(Db.isTransient(new IllegalArgumentException("bad data")));
    }
}
