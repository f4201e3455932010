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

    @Test
    void failuresOfTheWorkAreNot() {
        for (String state : new String[] {"23505", "23514", "22003", "42P01", "XX000"}) {
            assertFalse(Db.isTransient(failure(state, "x")), state);
        }
        assertFalse(Db.isTransient(new IllegalArgumentException("bad data")));
    }
}
