package org.eligo.partitions;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;

/**
 * Messages and determinations live in monthly partitions (db/migration/R__50_partitions.sql): made ahead, dropped past
 * retention as whole months, with idempotency still global and the audit trail still verifiable.
 */
@QuarkusTest
class PartitionsTest {

    static final List<String> FAMILIES = List.of("message", "determination", "determination_fact");

    @Inject
    Partitions partitions;

    @Inject
    PartitionFunctions functions;

    @Test
    void theMonthsAheadAreReadyAndMaintenanceIsIdempotent() {
        partitions.maintain();
        Partitions.Maintenance again = partitions.maintain();
        assertEquals(0, again.created());
        YearMonth now = YearMonth.now(ZoneOffset.UTC);
        for (String family : java.util.stream.Stream.concat(FAMILIES.stream(), java.util.stream.Stream.of("access_log")).toList()) {
            for (int ahead = 0; ahead <= 3; ahead++) {
                String name = family + "_" + now.plusMonths(ahead).toString().replace("-", "");
                assertEquals(1, Sql.count("SELECT count(*) FROM pg_inherits WHERE inhparent = ?::regclass AND inhrelid = to_regclass(?)",
                        family, name), name);
            }
        }
        // A message stored now goes to this month's partition, not the default one.
        String id = post("/v1/messages", income(unique("p"), "1", unique("P"), 2027, 6, 1, null)).then().statusCode(202).extract().path("id");
        assertEquals("message_" + now.toString().replace("-", ""),
                Sql.rows("SELECT tableoid::regclass::text AS t FROM message WHERE id = ?", id).get(0).get("t"));
    }

    @Test
    void idempotencyHoldsAcrossMonths() {
        String source = unique("old-feed");
        String beneficiary = unique("P");
        String old = oldMessage(LocalDate.of(2025, 3, 10), source, "k", beneficiary, 100);
        assertTrue(((String) Sql.rows("SELECT tableoid::regclass::text AS t FROM message WHERE id = ?", old).get(0).get("t")).endsWith("_202503"));

        post("/v1/messages", income(source, "k", beneficiary, 2027, 6, 100, null)).then().statusCode(200)
                .body("id", equalTo(old)).body("duplicate", equalTo(true));
        post("/v1/messages", income(source, "k", beneficiary, 2027, 6, 999, null)).then().statusCode(409);
        // Behind the API as well: another message cannot take the key.
        String failure = Sql.firstFailure("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES ('"
                + "msg_" + UlidCreator.getMonotonicUlid() + "', '" + source + "', 'k', 'income.monthly', '" + beneficiary + "', '{}')");
        assertNotNull(failure);
        assertTrue(failure.contains("message_idempotency_key"), failure);
    }

    @Test
    void retentionDropsWholeMonthsAndTheTrailStillVerifies() {
        String source = unique("ancient-feed");
        String beneficiary = unique("R");
        // Older than the default seven years, counted in whole months.
        String ancient = oldMessage(LocalDate.of(2018, 2, 5), source, "a", beneficiary, 5);
        // The oldest month inside retention: it ended less than seven years before this month began.
        String kept = oldMessage(YearMonth.now(ZoneOffset.UTC).minusMonths(84).atDay(5), source, "b", beneficiary, 6);
        // A determination of that month too, in the ledger as the service would have written it.
        String oldDetermination = (String) Sql.rows("""
                INSERT INTO determination (id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version, evaluated_at, facts_as_of,
                                           trigger, result, checks)
                SELECT eligo_ulid_floor('det_', '2018-02-05T10:00:00Z'), ?, '2018-02', v.ruleset_id, v.sha256, v.version,
                       '2018-02-05T10:00:00Z', '2018-02-05T10:00:00Z', 'request', 'SKIPPED', '[]'
                  FROM ruleset_version v WHERE v.ruleset_id = 'medicaid-community-engagement' LIMIT 1
                RETURNING id""", beneficiary).get(0).get("id");
        TestLedger.adopt("determination/" + oldDetermination);
        given().get("/v1/integrity/verify").then().log().ifValidationFails().statusCode(200).body("ok", equalTo(true));

        Partitions.Maintenance done = partitions.maintain();

        assertTrue(done.dropped() >= FAMILIES.size(), "one partition per family for 2018-02: " + done);
        assertNull(Sql.rows("SELECT to_regclass('message_201802') AS t").get(0).get("t"));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE id = ?", ancient));
        // Retention never frees a key (issue 20): it stays, with its message's digest, never its content.
        assertEquals(1, Sql.count("SELECT count(*) FROM message_key WHERE message_id = ?", ancient));
        assertEquals(1, Sql.count("SELECT count(*) FROM message_key_purged WHERE message_id = ? AND status = 'PROCESSED'", ancient));
        assertEquals(1, Sql.count("SELECT count(*) FROM retention_purge WHERE partition = 'message_201802'"));
        // Its ledger leaf stays; verify tells a purged month (a purge the ledger holds) from a removed row.
        assertEquals(1, Sql.count("SELECT count(*) FROM ledger_entry WHERE 'message/' || ? = ANY(labels)", ancient));
        assertEquals(1, Sql.count("SELECT count(*) FROM ledger_entry e JOIN retention_purge r ON 'retention_purge/' || r.id = ANY(e.labels)"
                + " WHERE r.partition = 'message_201802' AND r.retention_months IS NOT NULL"));
        given().get("/v1/integrity/verify").then().log().ifValidationFails().statusCode(200).body("ok", equalTo(true));
        // A purged determination has no receipt any more, and the answer names the purge.
        given().get("/v1/determinations/" + oldDetermination + "/receipt").then().statusCode(404).contentType("application/problem+json")
                .body("detail", org.hamcrest.Matchers.containsString("removed by retention purge"));
        // The key stays taken: the same submission is a duplicate of the purged message, saying so, and
        // stores nothing (before, it was stored as new and superseded today's correction); other
        // content for the key is a conflict, in a batch and in a bulk import alike.
        post("/v1/messages", income(source, "a", beneficiary, 2027, 6, 5, null)).then().statusCode(200)
                .body("id", equalTo(ancient)).body("duplicate", equalTo(true)).body("purged", equalTo(true)).body("status", equalTo("PROCESSED"));
        post("/v1/messages", income(source, "a", beneficiary, 2027, 6, 6, null)).then().statusCode(409).contentType("application/problem+json")
                .body("detail", org.hamcrest.Matchers.containsString("removed by retention"))
                .body("errors[0].pointer", equalTo("/external_id"));
        post("/v1/messages/batch", java.util.Map.of("messages", java.util.List.of(income(source, "a", beneficiary, 2027, 6, 5, null),
                income(source, "c", beneficiary, 2027, 6, 7, null)))).then().statusCode(202)
                .body("results[0].purged", equalTo(true)).body("results[1].purged", org.hamcrest.Matchers.nullValue())
                .body("results[1].duplicate", equalTo(false));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ? AND external_id = 'a'", source));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE id = ?", kept));
        // A key is never deleted, not even by the owner.
        String deleted = Sql.firstFailure("DELETE FROM message_key WHERE message_id = '" + ancient + "'");
        assertNotNull(deleted, "a key deleted");
    }

    @Test
    void theAccessLogIsKeptForItsOwnRetentionAndStaysAppendOnly() {
        YearMonth now = YearMonth.now(ZoneOffset.UTC);
        String beneficiary = unique("L");
        // Older than the default seven years; the oldest month inside them; and a month of 20 months ago.
        long expired = oldAccess(YearMonth.of(2018, 2), beneficiary);
        long oldestKept = oldAccess(now.minusMonths(84), beneficiary);
        long recent = oldAccess(now.minusMonths(20), beneficiary);
        String message = oldMessage(now.minusMonths(20).atDay(5), unique("feed"), "m", beneficiary, 8);
        String request = unique("read-now");
        given().header("X-Request-Id", request).get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(200);
        assertEquals(partition("access_log", now), Sql.rows("SELECT tableoid::regclass::text AS t FROM access_log WHERE request_id = ?", request)
                .get(0).get("t"));

        Partitions.Maintenance done = partitions.maintain();

        assertTrue(done.accessLogDropped() >= 1, "2018-02 of the access log: " + done);
        assertNull(Sql.rows("SELECT to_regclass('access_log_201802') AS t").get(0).get("t"));
        assertEquals(0, Sql.count("SELECT count(*) FROM access_log WHERE id = ?", expired));
        assertEquals(2, Sql.count("SELECT count(*) FROM access_log WHERE id IN (?, ?)", oldestKept, recent));
        // Recorded like any purge, the month's bounds in its key (`at`), and in the ledger: verify accepts it.
        assertEquals(1, Sql.count("SELECT count(*) FROM retention_purge WHERE table_name = 'access_log' AND partition = 'access_log_201802'"
                + " AND ids_from = '2018-02-01 00:00:00+00' AND ids_before = '2018-03-01 00:00:00+00' AND retention_months = 84"));
        assertEquals(1, Sql.count("SELECT count(*) FROM ledger_entry e JOIN retention_purge r ON 'retention_purge/' || r.id = ANY(e.labels)"
                + " WHERE r.partition = 'access_log_201802'"));
        given().get("/v1/integrity/verify").then().log().ifValidationFails().statusCode(200).body("ok", equalTo(true));

        // The access log's retention is its own: a shorter one drops its months, not the records' of the same month.
        assertTrue(functions.dropExpiredAccessLog(12) >= 2);
        assertEquals(0, Sql.count("SELECT count(*) FROM access_log WHERE id IN (?, ?)", oldestKept, recent));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE id = ?", message));
        given().get("/v1/integrity/verify").then().log().ifValidationFails().statusCode(200).body("ok", equalTo(true));

        // This month's rows read as before, newest first.
        given().queryParam("beneficiary_id", beneficiary).get("/v1/access-log").then().statusCode(200)
                .body("items.request_id", org.hamcrest.Matchers.contains(request)).body("items[0].path", equalTo("/v1/beneficiaries/" + beneficiary + "/facts"));

        // Still append-only: the service role may not change or delete a row, nor write a month around the parent, nor
        // shorten retention past a year; even the owner is stopped by the triggers, on the parent and on a month alike.
        String month = partition("access_log", now);
        String where = " WHERE request_id = '" + request + "'";
        assertFailsWith("permission denied", "SET ROLE eligo_service", "UPDATE access_log SET subject = 'someone else'" + where);
        assertFailsWith("permission denied", "SET ROLE eligo_service", "DELETE FROM access_log" + where);
        assertFailsWith("permission denied", "SET ROLE eligo_service", "DELETE FROM " + month + where);
        assertFailsWith("permission denied", "SET ROLE eligo_service",
                "INSERT INTO " + month + " (request_id, subject, roles, method, path, status) VALUES ('r', 's', '{}', 'GET', '/v1/x', 200)");
        assertFailsWith("is refused", "SET ROLE eligo_service", "SELECT eligo_drop_expired_access_log(6)");
        assertFailsWith("must be owner", "SET ROLE eligo_service", "DROP TABLE " + month);
        assertFailsWith("not allowed", "UPDATE access_log SET subject = 'someone else'" + where);
        assertFailsWith("not allowed", "DELETE FROM access_log" + where);
        assertFailsWith("not allowed", "DELETE FROM " + month + where);
        assertFailsWith("not allowed", "TRUNCATE " + month);
        assertEquals(1, Sql.count("SELECT count(*) FROM access_log" + where));
    }

    @Test
    void aMonthRemovedOutsideRetentionIsCaught() {
        String old = oldMessage(LocalDate.of(2024, 9, 2), unique("feed"), "x", unique("T"), 7);
        String bounds = "FROM (eligo_ulid_floor('msg_', '2024-09-01T00:00:00Z')) TO (eligo_ulid_floor('msg_', '2024-10-01T00:00:00Z'))";
        Sql.tamper("ALTER TABLE message DETACH PARTITION message_202409");
        try {
            given().get("/v1/integrity/verify").then().log().ifValidationFails().statusCode(200).body("ok", equalTo(false))
                    .body("first_bad.table", equalTo("message")).body("first_bad.id", equalTo(old));
        } finally {
            Sql.tamper("ALTER TABLE message ATTACH PARTITION message_202409 FOR VALUES " + bounds);
        }
        given().get("/v1/integrity/verify").then().log().ifValidationFails().statusCode(200).body("ok", equalTo(true));
    }

    @Test
    void theServiceRoleCanNeitherWriteAroundTheParentNorShortenRetention() {
        String month = "message_" + YearMonth.now(ZoneOffset.UTC).toString().replace("-", "");
        String direct = Sql.firstFailure("SET ROLE eligo_service", "INSERT INTO " + month
                + " (id, source, external_id, type, beneficiary_id, data) VALUES ('msg_" + UlidCreator.getMonotonicUlid() + "', 's', 'e', 'income.monthly', 'B', '{}')");
        assertTrue(direct != null && direct.contains("permission denied"), direct);
        String drop = Sql.firstFailure("SET ROLE eligo_service", "DROP TABLE " + month);
        assertTrue(drop != null && drop.contains("must be owner"), drop);
        String shortRetention = Sql.firstFailure("SET ROLE eligo_service", "SELECT eligo_drop_expired_partitions(6)");
        assertTrue(shortRetention != null && shortRetention.contains("is refused"), shortRetention);
        String truncate = Sql.firstFailure("TRUNCATE " + month);
        assertTrue(truncate != null && truncate.contains("immutable"), truncate);
        String purge = Sql.firstFailure("SET ROLE eligo_service",
                "INSERT INTO retention_purge (table_name, partition, ids_from, ids_before) VALUES ('message', 'message_202409', 'msg_0', 'msg_1')");
        assertTrue(purge != null && purge.contains("permission denied"), purge);
    }

    @Test
    void aRowBeyondEveryMonthIsKeptInTheDefaultPartition() {
        String far = storedMessage(LocalDate.of(2099, 1, 1), unique("future-feed"), "f", unique("F"), 1);
        assertEquals("message_default", Sql.rows("SELECT tableoid::regclass::text AS t FROM message WHERE id = ?", far).get(0).get("t"));
        // Its month cannot be split off while the default partition holds it: the row stays where it is.
        assertEquals(false, Sql.rows("SELECT eligo_create_month_partition('message', DATE '2099-01-01') AS created").get(0).get("created"));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE id = ?", far));
    }

    private static String partition(String family, YearMonth month) {
        return family + "_" + month.toString().replace("-", "");
    }

    private static void assertFailsWith(String expected, String... statements) {
        String failure = Sql.firstFailure(statements);
        assertTrue(failure != null && failure.contains(expected), statements[statements.length - 1] + ": " + failure);
    }

    /** An access-log row of the 5th of {@code month} about {@code beneficiary}, written (as the owner) after its month's partition was made; its id. */
    private static long oldAccess(YearMonth month, String beneficiary) {
        Sql.rows("SELECT eligo_create_month_partition('access_log', ?::date)", month.atDay(1).toString());
        long id = ((Number) Sql.rows("INSERT INTO access_log (at, request_id, subject, roles, method, path, status, beneficiary_ids)"
                + " VALUES (?::timestamptz, ?, 'old-reader', '{analyst}', 'GET', ?, 200, ARRAY[?::text]) RETURNING id",
                month.atDay(5).atStartOfDay(ZoneOffset.UTC).toInstant().toString(), unique("old-read"), "/v1/beneficiaries/" + beneficiary + "/facts",
                beneficiary).get(0).get("id")).longValue();
        assertEquals(partition("access_log", month), Sql.rows("SELECT tableoid::regclass::text AS t FROM access_log WHERE id = ?", id).get(0).get("t"));
        return id;
    }

    private static String dataOf(long cents) {
        return "{\"year\": 2027, \"month\": 6, \"amount_cents\": " + cents + "}";
    }

    /** A processed message stored (as the owner) with an id minted on {@code day}, its month's partitions made first. */
    private static String oldMessage(LocalDate day, String source, String externalId, String beneficiary, long cents) {
        LocalDate month = day.withDayOfMonth(1);
        for (String family : FAMILIES) {
            Sql.rows("SELECT eligo_create_month_partition(?, ?::date)", family, month.toString());
        }
        return storedMessage(day, source, externalId, beneficiary, cents);
    }

    private static String storedMessage(LocalDate day, String source, String externalId, String beneficiary, long cents) {
        Instant at = day.atStartOfDay(ZoneOffset.UTC).toInstant();
        String id = "msg_" + UlidCreator.getUlid(at.toEpochMilli());
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, received_at, data, status, attempts) "
                + "VALUES (?, ?, ?, 'income.monthly', ?, ?::timestamptz, ?::jsonb, 'PROCESSED', 1)",
                id, source, externalId, beneficiary, at.toString(), dataOf(cents));
        // History as the service would have written it: in the ledger too.
        TestLedger.adoptMessages(id);
        return id;
    }
}
