package org.eligo.operations;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.awaitStatus;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.nullValue;

import java.util.Map;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;

/** Readiness, metrics, trace context, and redriving a failed message. */
@QuarkusTest
class OperabilityTest {

    @Test
    void readinessCoversTheDatabaseTheMigrationsAndTheWorkers() {
        given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItems("workers", "migrations", "Database connections health check"));
        given().get("/q/health/live").then().statusCode(200);
    }

    @Test
    void prometheusMetricsCoverBacklogProcessingAndDeterminations() {
        awaitProcessed(submit(income(unique("metrics"), "1", unique("M"), 2027, 6, 1, null)));
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("eligo_messages_backlog"))
                .body(containsString("eligo_messages_oldest_backlog_age_seconds"))
                .body(containsString("eligo_messages_processed_total"))
                .body(containsString("eligo_messages_failed_total"))
                .body(containsString("eligo_determinations_pending"));
    }

    @Test
    void theTraceparentOfASubmissionIsStoredWithItsMessage() {
        String trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        Map<String, Object> message = income(unique("trace"), "1", unique("T"), 2027, 6, 1, null);
        String id = given().contentType("application/json").header("traceparent", trace).body(message).post("/v1/messages")
                .then().statusCode(202).extract().path("id");
        given().get("/v1/messages/" + id).then().body("traceparent", equalTo(trace));

        String other = given().contentType("application/json").header("traceparent", "not-a-trace")
                .body(income(unique("trace"), "2", unique("T"), 2027, 6, 1, null)).post("/v1/messages").then().statusCode(202).extract().path("id");
        given().get("/v1/messages/" + other).then().body("traceparent", nullValue());
    }

    @Test
    void aFailedMessageCanBeRedriven() {
        String poison = "msg_" + UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'p', 'income.monthly', ?, ?::jsonb)",
                poison, unique("poison"), unique("P"), "{\"year\": 2027, \"month\": \"June\", \"amount_cents\": 1}");
        TestLedger.adoptMessages(poison);
        awaitStatus(poison, "FAILED");

        given().post("/v1/messages/" + poison + "/retry").then().statusCode(202)
                .body("id", equalTo(poison)).body("attempts", equalTo(0));
        // Its cause is not fixed here, so it fails again, with a fresh count of attempts.
        awaitStatus(poison, "FAILED").then().body("attempts", equalTo(3)).body("last_error", containsString("/data/month"));

        String fine = submit(income(unique("ok"), "1", unique("F"), 2027, 6, 1, null));
        awaitProcessed(fine);
        given().post("/v1/messages/" + fine + "/retry").then().statusCode(409).contentType("application/problem+json");
        given().post("/v1/messages/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV/retry").then().statusCode(404);
    }
}
