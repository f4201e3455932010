package org.eligo.stats;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * GET /v1/stats costs what its indexes bound, not the size of the tables: it does no sequential scan
 * of any partition of message, fact or determination, and does not read fact or determination at
 * all (their totals are the planner's estimates, marked as such). Seen in PostgreSQL's own counters
 * (pg_stat_all_tables); nothing else reads those tables meanwhile (no workers, no scheduled jobs).
 */
@QuarkusTest
@TestProfile(StatsCostTest.Quiet.class)
class StatsCostTest {

    public static class Quiet implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eligo.queue.workers", "0", "quarkus.scheduler.enabled", "false");
        }
    }

    /** Scans so far: sequential ones of every partition of the three tables, index ones of fact's and determination's, and of message_failed. */
    private record Scans(long sequential, long factOrDetermination, long failedIndex) {
    }

    private static final String LEAVES = """
            WITH leaves AS (SELECT relid, 'message' AS family FROM pg_partition_tree('message') WHERE isleaf
                            UNION ALL SELECT relid, 'fact' FROM pg_partition_tree('fact') WHERE isleaf
                            UNION ALL SELECT relid, 'determination' FROM pg_partition_tree('determination') WHERE isleaf)
            """;

    private static Scans scans() {
        // A connection of its own each time, so PostgreSQL's statistics snapshot is a fresh one.
        long sequential = Sql.count(LEAVES + "SELECT coalesce(sum(s.seq_scan), 0) FROM leaves l JOIN pg_stat_all_tables s ON s.relid = l.relid");
        long others = Sql.count(LEAVES + "SELECT coalesce(sum(coalesce(s.idx_scan, 0)), 0) FROM leaves l JOIN pg_stat_all_tables s ON s.relid = l.relid"
                + " WHERE l.family <> 'message'");
        long failed = Sql.count("SELECT coalesce(sum(i.idx_scan), 0) FROM pg_partition_tree('message_failed') t"
                + " JOIN pg_stat_all_indexes i ON i.indexrelid = t.relid WHERE t.isleaf");
        return new Scans(sequential, others, failed);
    }

    @Test
    void statsScanNoTableAndMarkTheirEstimates() {
        // Something in the tables, so that a count would have rows to read.
        submit(income(unique("stats"), "1", unique("B"), 2027, 1, 1, null));
        // Counters reach the statistics up to a second after a backend's statements: wait until what the start and
        // the submission did has shown (nothing changes for a while), so that it is not taken for the stats' doing.
        AtomicReference<Scans> settled = new AtomicReference<>(scans());
        await().atMost(Duration.ofSeconds(60)).during(Duration.ofMillis(1500)).pollInterval(Duration.ofMillis(100))
                .until(() -> settled.getAndSet(scans()).equals(settled.get()));
        Scans before = settled.get();

        Response stats = given().get("/v1/stats").then().statusCode(200)
                .body("messages.received", notNullValue()).body("messages.processed", notNullValue())
                .body("messages.failed", notNullValue()).body("messages.backlog", notNullValue())
                .body("facts.active", notNullValue()).body("facts.revoked", notNullValue())
                .body("determinations.total", notNullValue()).body("determinations.pending", notNullValue())
                .extract().response();

        // Likewise the stats request's: wait until the stats request's own index scan of the failed messages shows, or any other scan does.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> !scans().equals(before));
        Scans after = scans();
        assertEquals(before.sequential(), after.sequential(), "sequential scans of message, fact or determination partitions");
        assertEquals(before.factOrDetermination(), after.factOrDetermination(), "index scans of fact or determination");
        assertTrue(after.failedIndex() > before.failedIndex(), "failed messages are counted exactly, on their partial index");

        stats.then().body("estimated", hasItems("/messages/received", "/messages/processed", "/facts/active", "/facts/revoked",
                "/determinations/total"));
        long received = ((Number) stats.path("messages.received")).longValue();
        long processed = ((Number) stats.path("messages.processed")).longValue();
        long failed = ((Number) stats.path("messages.failed")).longValue();
        long backlog = ((Number) stats.path("messages.backlog")).longValue();
        assertTrue(backlog >= 1, "the backlog is exact: the message just submitted waits (no workers)");
        assertEquals(received, processed + failed + backlog, "the estimates add up");
    }
}
