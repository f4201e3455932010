package org.eligo.determinations;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/**
 * A beneficiary held long (here by a test transaction, in life by a replay or a rerun chunk) costs a
 * determination request or an evaluation a quick 503 with Retry-After, not a wait for ever on a
 * pooled connection (issue 20); once the beneficiary is free, the same request succeeds.
 */
@QuarkusTest
class BeneficiaryLockWaitTest {

    @Test
    void aRequestForABeneficiaryHeldLongAnswers503WithinSecondsAndSucceedsOnceFree() throws Exception {
        String beneficiary = unique("L");
        try (Connection holder = Sql.connect()) {
            holder.setAutoCommit(false);
            try (Statement statement = holder.createStatement()) {
                statement.execute("SELECT eligo_lock_beneficiaries(ARRAY['" + beneficiary + "'])");
            }
            long started = System.nanoTime();
            for (String kind : new String[] {"determinations", "evaluations"}) {
                CompletableFuture<Response> asked = CompletableFuture.supplyAsync(() -> given().contentType(ContentType.JSON)
                        .body(Map.of("period", "2027-07")).post("/v1/beneficiaries/" + beneficiary + "/" + kind));
                // Without a bound on the wait, this request would hang until the holder lets go.
                Response answer = asked.get(20, TimeUnit.SECONDS);
                answer.then().statusCode(503).contentType("application/problem+json").header("Retry-After", notNullValue());
            }
            assertTrue(Duration.ofNanos(System.nanoTime() - started).toSeconds() < 15, "answered within seconds");
            holder.rollback();
        }
        given().contentType(ContentType.JSON).body(Map.of("period", "2027-07")).post("/v1/beneficiaries/" + beneficiary + "/determinations")
                .then().statusCode(201);
    }
}
