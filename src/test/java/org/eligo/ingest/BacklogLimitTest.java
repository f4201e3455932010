package org.eligo.ingest;

import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Past the configured backlog, ingest answers 503 with Retry-After and stores nothing new; and which
 * beneficiaries have messages in the backlog (an automatic determination waits for them).
 */
@QuarkusTest
@TestProfile(BacklogLimitTest.NoWorkersSmallBacklog.class)
class BacklogLimitTest {

    /** No workers, so the backlog only grows; a limit of 3 unprocessed messages; no count caching. */
    public static class NoWorkersSmallBacklog implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eligo.queue.workers", "0", "eligo.ingest.max-backlog", "3", "eligo.ingest.backlog-cache-ttl", "PT0S");
        }
    }

    @Inject
    Messages messages;

    @Test
    void ingestAnswers503WhenTheBacklogIsFull() {
        Sql.update("UPDATE message SET status = 'PROCESSED' WHERE status = 'RECEIVED'");
        String source = unique("flood");
        post("/v1/messages/batch", Map.of("messages", List.of(
                income(source, "1", "B-1", 2027, 1, 1, null),
                income(source, "2", "B-1", 2027, 2, 1, null),
                income(source, "3", "B-1", 2027, 3, 1, null),
                income(source, "4", "B-1", 2027, 4, 1, null)))).then().statusCode(503);
        post("/v1/messages/batch", Map.of("messages", List.of(
                income(source, "1", "B-1", 2027, 1, 1, null),
                income(source, "2", "B-1", 2027, 2, 1, null),
                income(source, "3", "B-1", 2027, 3, 1, null)))).then().statusCode(202);

        post("/v1/messages", income(source, "5", "B-1", 2027, 5, 1, null)).then()
                .statusCode(503)
                .contentType("application/problem+json")
                .header("Retry-After", equalTo("5"))
                .body("detail", notNullValue());
        // A resubmission of what is stored is still answered, so a retrying agency learns it got through.
        post("/v1/messages", income(source, "2", "B-1", 2027, 2, 1, null)).then()
                .statusCode(200)
                .body("duplicate", equalTo(true));
        org.junit.jupiter.api.Assertions.assertEquals(3, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Inject
    org.eligo.work.WorkEngine engine;

    @Inject
    org.eligo.imports.ImportWork imports;

    /** An import pauses while the backlog is at its limit, stores up to the room left, and goes on when there is room again. */
    @Test
    void anImportWaitsForRoomInTheBacklogRatherThanFailing() {
        Sql.update("UPDATE message SET status = 'PROCESSED' WHERE status = 'RECEIVED'");
        String source = unique("paced");
        StringBuilder file = new StringBuilder();
        for (int i = 1; i <= 5; i++) {
            file.append("{\"source\":\"").append(source).append("\",\"external_id\":\"").append(i)
                    .append("\",\"type\":\"income.monthly\",\"beneficiary_id\":\"B-paced\",\"data\":{\"year\":2027,\"month\":")
                    .append(i).append(",\"amount_cents\":1}}\n");
        }
        String id = io.restassured.RestAssured.given().contentType("application/x-ndjson").body(file.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)).post("/v1/messages/import")
                .then().statusCode(202).extract().path("id");
        // No workers in this profile: the test is the worker. The backlog takes 3: 3 lines are stored, then the import waits.
        engine.runBatch(imports);
        org.junit.jupiter.api.Assertions.assertEquals(0, engine.runBatch(imports));
        io.restassured.RestAssured.given().get("/v1/imports/" + id).then().statusCode(200)
                .body("status", equalTo("STORING")).body("paused", equalTo(true)).body("lines_done", equalTo(3)).body("new_lines", equalTo(3));
        Sql.update("UPDATE message SET status = 'PROCESSED' WHERE status = 'RECEIVED'");
        engine.runBatch(imports);
        io.restassured.RestAssured.given().get("/v1/imports/" + id).then().statusCode(200)
                .body("status", equalTo("DONE")).body("paused", equalTo(false)).body("lines_done", equalTo(5)).body("new_lines", equalTo(5));
        org.junit.jupiter.api.Assertions.assertEquals(5, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void theBeneficiariesWithBacklogAreThoseWithMessagesWaiting() {
        Sql.update("UPDATE message SET status = 'PROCESSED' WHERE status = 'RECEIVED'");
        String source = unique("waiting");
        String waiting = unique("B");
        String done = unique("B");
        post("/v1/messages", income(source, "1", waiting, 2027, 1, 1, null)).then().statusCode(202);
        org.junit.jupiter.api.Assertions.assertEquals(Set.of(waiting), messages.beneficiariesWithBacklog(List.of(waiting, done)));
        org.junit.jupiter.api.Assertions.assertEquals(Set.of(), messages.beneficiariesWithBacklog(List.of()));
        Sql.update("UPDATE message SET status = 'PROCESSED' WHERE status = 'RECEIVED'");
        org.junit.jupiter.api.Assertions.assertEquals(Set.of(), messages.beneficiariesWithBacklog(List.of(waiting, done)));
    }
}
