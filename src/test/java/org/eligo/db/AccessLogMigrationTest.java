package org.eligo.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.eligo.testing.ThrowawayDatabase;
import org.junit.jupiter.api.Test;

/**
 * V13__access_log_partitions.sql on a database that already has an access log: every row is kept with
 * its id, each in the partition of its month (where retention can reach it), the ids continue past
 * the old sequence's, and the rows stay append-only.
 */
class AccessLogMigrationTest {

    @Test
    void theRowsOfTheUnpartitionedLogMoveIntoTheirMonthsAndIdsContinue() {
        try (ThrowawayDatabase database = ThrowawayDatabase.create("accesslog")) {
            // The schema as V12 left it (the versioned files only: this build's repeatable files already expect V13).
            assertTrue(database.flyway().target("12").sqlMigrationPrefix("V").repeatableSqlMigrationPrefix("NOT_A_REPEATABLE")
                    .load().migrate().success);
            database.execute("""
                    INSERT INTO access_log (at, request_id, subject, roles, method, path, status, beneficiary_ids, traceparent) VALUES
                      ('2019-03-31 23:30:00+00', 'r1', 'ana', '{analyst}', 'GET', '/v1/access-log', 200, '{}', NULL),
                      ('2019-04-01 00:00:00+00', 'r2', 'casey', '{caseworker}', 'GET', '/v1/beneficiaries/B-1/facts', 200, '{B-1}',
                       '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
                      (clock_timestamp(), 'r3', 'agency-1', '{agency}', 'POST', '/v1/messages', 202, '{B-1,B-2}', NULL)""",
                    // A row that rolled back still used its id: the new sequence must not hand it out again.
                    "BEGIN",
                    "INSERT INTO access_log (request_id, subject, roles, method, path, status) VALUES ('gone', 's', '{}', 'GET', '/v1/x', 500)",
                    "ROLLBACK");
            String before = "SELECT id || ' ' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || request_id || ' ' || subject || ' '"
                    + " || roles::text || ' ' || method || ' ' || path || ' ' || status || ' ' || beneficiary_ids::text || ' '"
                    + " || coalesce(traceparent, '-') FROM access_log ORDER BY id";
            List<String> rows = database.strings(before);
            assertEquals(3, rows.size());

            assertTrue(database.flyway().load().migrate().success);

            assertEquals(rows, database.strings(before));
            assertEquals(List.of("p"), database.strings("SELECT relkind::text FROM pg_class WHERE oid = 'access_log'::regclass"));
            // Each in its UTC month's partition; none in the default one.
            assertEquals(List.of("r1 access_log_201903", "r2 access_log_201904", "r3 access_log_" + database.strings(
                    "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMM')").get(0)),
                    database.strings("SELECT request_id || ' ' || tableoid::regclass::text FROM access_log ORDER BY id"));
            assertEquals(List.of(), database.strings("SELECT relname FROM pg_class WHERE relname LIKE 'access_log_v7%'"));
            // The next id follows the rolled-back one (4); the service role may still add rows.
            database.execute("SET ROLE eligo_service; INSERT INTO access_log (request_id, subject, roles, method, path, status)"
                    + " VALUES ('r5', 's', '{}', 'GET', '/v1/x', 200); RESET ROLE");
            assertEquals(List.of("5 r5"), database.strings("SELECT id || ' ' || request_id FROM access_log WHERE request_id = 'r5'"));
            // Append-only as before: the service role may read and add, nothing else; the owner is stopped by the triggers.
            assertFails(database, "permission denied", "SET ROLE eligo_service; UPDATE access_log SET subject = 'x'");
            assertFails(database, "permission denied", "SET ROLE eligo_service; DELETE FROM access_log");
            assertFails(database, "not allowed", "DELETE FROM access_log_201903");
            assertFails(database, "not allowed", "UPDATE access_log SET subject = 'x'");
            assertFails(database, "not allowed", "TRUNCATE access_log_201904");
        }
    }

    private static void assertFails(ThrowawayDatabase database, String expected, String sql) {
        IllegalStateException failure = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> database.execute(sql));
        assertTrue(failure.getMessage().contains(expected), sql + ": " + failure.getMessage());
    }
}
