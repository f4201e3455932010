package org.eligo.determinations;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * A queued automatic determination that fails by itself is retried with backoff, then reaches its
 * dead end: kept in the queue with its error (never deleted), no longer tried, counted in the stats
 * and a metric, and redriven by an analyst; the others in its batch are made meanwhile. The test
 * profile allows three attempts.
 */
@QuarkusTest
class DeterminationDeadEndTest {

    private static final String RULESET = "medicaid-community-engagement";
    private static final Pattern DEAD_END_GAUGE = Pattern.compile("(?m)^eligo_determinations_dead_end(\\{[^}]*})? ([0-9.E]+)$");

    private static boolean atDeadEnd(String beneficiary) {
        return Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ? AND attempts = 3 AND next_attempt_at = 'infinity'",
                beneficiary) == 1;
    }

    @Test
    void aFailingQueuedDeterminationEndsAtItsDeadEndVisiblyAndCanBeRedriven() {
        String bad = unique("DE");
        String good = unique("DG");
        // A month that does not exist, as only a bug could queue it, beside a row that is fine; one
        // statement, so they are due together and likely claimed in one batch.
        Sql.update("INSERT INTO determination_queue (beneficiary_id, period, ruleset_id) VALUES (?, '2027-13', ?), (?, '2027-07', ?)",
                bad, RULESET, good, RULESET);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> atDeadEnd(bad));
            Map<String, Object> row = Sql.rows("SELECT last_error FROM determination_queue WHERE beneficiary_id = ?", bad).get(0);
            assertTrue(String.valueOf(row.get("last_error")).contains("2027-13"), "kept with its error: " + row.get("last_error"));
            assertEquals(1, Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ? AND trigger = 'ingest'", good),
                    "the other row was made regardless");
            assertEquals(0, Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ?", good));
            // No longer tried: still at its dead end, attempts unchanged, after several worker cycles.
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5)).until(() -> atDeadEnd(bad));

            Number failed = given().get("/v1/stats").then().statusCode(200).extract().path("determinations.failed");
            assertTrue(failed.longValue() >= 1, "counted in the stats: " + failed);
            given().get("/q/metrics").then().statusCode(200).body(containsString("eligo_determinations_failed_total"));
            // The gauge is measured every 5 s.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                Matcher gauge = DEAD_END_GAUGE.matcher(given().get("/q/metrics").then().extract().asString());
                return gauge.find() && Double.parseDouble(gauge.group(2)) >= 1;
            });

            // Redriven: due again with fresh attempts. Its cause is not fixed here, so it fails again.
            given().post("/v1/determinations/queue/redrive?beneficiary_id=" + good).then().statusCode(202).body("redriven", equalTo(0));
            given().post("/v1/determinations/queue/redrive?beneficiary_id=" + bad + "&ruleset=" + RULESET).then().statusCode(202)
                    .body("redriven", equalTo(1));
            await().atMost(Duration.ofSeconds(30)).until(() -> atDeadEnd(bad)
                    && Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ? AND last_error LIKE '%2027-13%'", bad) == 1);

            given().post("/v1/determinations/queue/redrive?beneficiary_id=not%20an%20id").then().statusCode(400)
                    .contentType("application/problem+json").body("errors[0].parameter", equalTo("beneficiary_id"));
            given().post("/v1/determinations/queue/redrive?ruleset=Not_A_Ruleset").then().statusCode(400)
                    .contentType("application/problem+json").body("errors[0].parameter", equalTo("ruleset"));
        } finally {
            // Other tests count the queue: the leftover goes as an operator would settle it.
            Sql.update("DELETE FROM determination_queue WHERE beneficiary_id IN (?, ?)", bad, good);
        }
    }
}
