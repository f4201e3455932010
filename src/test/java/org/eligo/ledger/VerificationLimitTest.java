package org.eligo.ledger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * Full verifications are bounded per instance (eligo.ledger.max-concurrent-verifications, 1 here):
 * while one runs, another, synchronous or in the background, is answered 503 with Retry-After; once
 * it has ended, the next is taken. The running one is held deterministically by a test transaction
 * that locks a table the verification reads (retention_purge, which nothing else reads here: no
 * scheduled verification, no partition maintenance, no workers).
 */
@QuarkusTest
@TestProfile(VerificationLimitTest.OneAtATime.class)
class VerificationLimitTest {

    public static class OneAtATime implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eligo.ledger.max-concurrent-verifications", "1", "eligo.ledger.verify-interval", "off",
                    "eligo.partitions.maintenance-interval", "off", "eligo.queue.workers", "0");
        }
    }

    /** Backends waiting for a lock on retention_purge: the held verification, once it reaches the table. */
    private static long waitingForPurges() {
        return Sql.count("SELECT count(*) FROM pg_locks WHERE relation = 'retention_purge'::regclass AND NOT granted");
    }

    @Test
    void whileOneVerificationRunsAnotherIsRefusedWith503AndTakenOnceItEnds() throws Exception {
        CompletableFuture<Response> first;
        try (Connection holder = Sql.connect()) {
            holder.setAutoCommit(false);
            try (Statement statement = holder.createStatement()) {
                statement.execute("LOCK TABLE retention_purge IN ACCESS EXCLUSIVE MODE");
            }
            first = CompletableFuture.supplyAsync(() -> given().get("/v1/integrity/verify"));
            await().atMost(Duration.ofSeconds(60)).until(() -> waitingForPurges() == 1);

            // Without the limit this one would wait for the lock too: asked aside, so that the test fails rather than hangs.
            CompletableFuture<Response> second = CompletableFuture.supplyAsync(() -> given().get("/v1/integrity/verify"));
            second.get(30, TimeUnit.SECONDS).then()
                    .statusCode(503)
                    .contentType("application/problem+json")
                    .header("Retry-After", equalTo("30"))
                    .body("detail", containsString("eligo.ledger.max-concurrent-verifications"));
            given().post("/v1/integrity/verifications").then().statusCode(503).header("Retry-After", equalTo("30"));
            assertFalse(first.isDone(), "the first verification is still held");
            holder.rollback();
        }
        first.get(60, TimeUnit.SECONDS).then().statusCode(200).body("ok", equalTo(true));

        // Its place is free again: the next verification, in the background this time, is taken and finishes.
        String id = given().post("/v1/integrity/verifications").then().statusCode(202).extract().path("id");
        await().atMost(Duration.ofSeconds(60)).until(() -> "DONE".equals(given().get("/v1/integrity/verifications/" + id).path("status")));
        // And the background run gave its place back when it ended.
        await().atMost(Duration.ofSeconds(60)).until(() -> given().get("/v1/integrity/verify").statusCode() == 200);
    }
}
