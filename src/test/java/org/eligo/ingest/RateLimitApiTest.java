package org.eligo.ingest;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.matchesPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * With a per-source rate limit configured (one message every 4 s, a burst of 3: slow enough that a loaded machine cannot refill a bucket between two requests), ingest past the burst
 * answers 429 with Retry-After and stores nothing; another source is unaffected; once the bucket has
 * refilled the source is admitted again. (Off, the default, nothing is limited: every other test
 * ingests at will, and {@link RateLimitTest#offByDefaultNothingIsLimited}.)
 */
@QuarkusTest
@TestProfile(RateLimitApiTest.SmallRate.class)
class RateLimitApiTest {

    public static class SmallRate implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eligo.ingest.rate-limit.messages-per-second", "0.25", "eligo.ingest.rate-limit.burst", "3",
                    "eligo.queue.workers", "0");
        }
    }

    private static double refusals() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(line -> line.startsWith("eligo_ingest_rate_limited_total"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void pastTheBurstASourceIsRefusedWith429UntilItsBucketRefills() {
        String flood = unique("flood");
        String other = unique("other");
        double refusedBefore = refusals();
        post("/v1/messages/batch", Map.of("messages", List.of(income(flood, "1", "B-1", 2027, 1, 1, null),
                income(flood, "2", "B-1", 2027, 2, 1, null), income(flood, "3", "B-1", 2027, 3, 1, null)))).then().statusCode(202);

        post("/v1/messages", income(flood, "4", "B-1", 2027, 4, 1, null)).then()
                .statusCode(429)
                .contentType("application/problem+json")
                .header("Retry-After", matchesPattern("[1-4]"))
                .body("type", equalTo("urn:eligo:problem:rate-limited"))
                .body("errors[0].pointer", equalTo("/source"))
                .body("detail", containsString(flood));
        post("/v1/messages/batch", Map.of("messages", List.of(income(flood, "5", "B-1", 2027, 5, 1, null),
                income(other, "1", "B-2", 2027, 5, 1, null)))).then()
                .statusCode(429)
                .body("errors[0].pointer", equalTo("/messages/0/source"));
        assertEquals(3, Sql.count("SELECT count(*) FROM message WHERE source = ?", flood), "nothing of a refused request is stored");
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", other), "a refused batch stores none of its items");
        assertTrue(refusals() >= refusedBefore + 2, "refusals are counted");

        // Another source has a bucket of its own.
        post("/v1/messages/batch", Map.of("messages", List.of(income(other, "1", "B-2", 2027, 5, 1, null),
                income(other, "2", "B-2", 2027, 6, 1, null), income(other, "3", "B-2", 2027, 7, 1, null)))).then().statusCode(202);

        // The flooding source is admitted again once its bucket has refilled (a refused try takes nothing).
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            int status = post("/v1/messages", income(flood, "4", "B-1", 2027, 4, 1, null)).then().extract().statusCode();
            assertTrue(status == 202 || status == 429, "status " + status);
            return status == 202;
        });
        assertEquals(4, Sql.count("SELECT count(*) FROM message WHERE source = ?", flood));
    }
}
