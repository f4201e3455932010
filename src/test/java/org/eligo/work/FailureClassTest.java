package org.eligo.work;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.SQLException;

import org.eligo.support.Db;
import org.junit.jupiter.api.Test;

/** Whose fault a failure of queued work is (issue 20). */
class FailureClassTest {

    private static RuntimeException sql(String state) {
        return new Db.DataAccessException(new SQLException("x", state));
    }

    @Test
    void theInstallationsFailuresAreNoItemsFault() {
        // undefined table, undefined column, insufficient privilege, read-only transaction, disk full, internal error
        for (String state : new String[] {"42P01", "42703", "42501", "25006", "53100", "XX000", "3F000", "0A000"}) {
            assertEquals(FailureClass.ENVIRONMENT, FailureClass.of(sql(state)), state);
        }
        assertEquals(FailureClass.ENVIRONMENT, FailureClass.of(new RuntimeException(new NoSuchMethodError("gone in this build"))));
    }

    @Test
    void failuresOfTheMomentCostNothing() {
        for (String state : new String[] {"08006", "57P01", "40P01", "40001", "55P03", "53300"}) {
            assertEquals(FailureClass.TRANSIENT, FailureClass.of(sql(state)), state);
        }
    }

    @Test
    void aTimeOutOrOutOfMemoryThatRecursIsTheItems() {
        assertEquals(FailureClass.ITEM, FailureClass.of(sql("57014")), "statement time-out");
        assertEquals(FailureClass.ITEM, FailureClass.of(sql("53200")), "out of (shared) memory");
        assertEquals(FailureClass.ITEM, FailureClass.of(new OutOfMemoryError("Java heap space")));
        assertEquals(FailureClass.ITEM, FailureClass.of(new StackOverflowError()));
        assertEquals(FailureClass.ITEM, FailureClass.of(new IllegalArgumentException("amount_cents must be an integer")));
    }
}
