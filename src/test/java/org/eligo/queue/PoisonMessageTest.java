package org.eligo.queue;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.awaitStatus;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;

/** A message that cannot become a fact is retried, then FAILED with its error, and holds up nothing. */
@QuarkusTest
class PoisonMessageTest {

    @Test
    void aPoisonMessageEndsFailedWithItsErrorWhileOthersAreProcessed() {
        String source = unique("poison");
        String beneficiary = unique("B");
        // Stored data the parser rejects: only possible behind the API's back (or after a parser change).
        String poison = "msg_" + UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'p', 'income.monthly', ?, ?::jsonb)",
                poison, source, beneficiary, "{\"year\": 2027, \"month\": \"April\", \"amount_cents\": 1}");
        TestLedger.adoptMessages(poison);
        String healthy = submit(income(source, "ok", beneficiary, 2027, 4, 1, null));

        awaitProcessed(healthy).then().body("fact_ids", hasSize(1));
        awaitStatus(poison, "FAILED").then()
                .body("attempts", equalTo(3))
                .body("last_error", containsString("/data/month"))
                .body("fact_ids", empty());

        // The failed messages, newest first, as an operator reads them; a second poison message comes first.
        String later = "msg_" + UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'p2', 'income.monthly', ?, ?::jsonb)",
                later, source, beneficiary, "{\"year\": 2027, \"month\": \"May\", \"amount_cents\": 1}");
        TestLedger.adoptMessages(later);
        awaitStatus(later, "FAILED");
        io.restassured.response.Response page = given().queryParam("status", "FAILED").queryParam("limit", 1).get("/v1/messages");
        page.then().statusCode(200).body("items.id", contains(later)).body("items[0].last_error", containsString("/data/month"));
        given().queryParam("status", "FAILED").queryParam("limit", 500).get("/v1/messages").then().statusCode(200)
                .body("items.id", hasItems(later, poison)).body("items.id", not(hasItem(healthy)));
        given().queryParam("status", "FAILED").queryParam("limit", 1).queryParam("cursor", (String) page.path("next_cursor")).get("/v1/messages")
                .then().statusCode(200).body("items[0].id", not(equalTo(later)));
        for (String status : new String[] {"PROCESSED", "failed", ""}) {
            given().queryParam("status", status).get("/v1/messages").then().statusCode(400).contentType("application/problem+json")
                    .body("errors[0].parameter", equalTo("status"));
        }
        given().get("/v1/messages").then().statusCode(400).body("errors[0].parameter", equalTo("status"));
    }

    /** Failed messages go back to the queue in bulk (issue 20: redrive was one id per call), filtered, oldest first. */
    @Test
    void failedMessagesAreRedrivenInBulk() {
        String source = unique("redrive");
        String marker = unique("month-");
        List<String> failed = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = "msg_" + UlidCreator.getMonotonicUlid();
            Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data, status, attempts, last_error) "
                    + "VALUES (?, ?, ?, 'income.monthly', ?, '{}'::jsonb, 'FAILED', 3, ?)", id, source, "r-" + i, unique("B"), "invalid data: /data/month " + marker);
            TestLedger.adoptMessages(id);
            failed.add(id);
        }
        // Only those whose error names the marker, oldest first, at most two.
        given().contentType("application/json").body(java.util.Map.of("error_contains", marker, "type", "income.monthly", "limit", 2))
                .post("/v1/messages/retry").then().statusCode(202)
                .body("retried", equalTo(2)).body("ids", contains(failed.get(0), failed.get(1)));
        assertEquals(2, Sql.count("SELECT count(*) FROM message WHERE id = ANY(?::text[]) AND attempts < 3 OR id = ANY(?::text[]) AND status = 'RECEIVED'",
                failed.subList(0, 2).toArray(new String[0]), failed.subList(0, 2).toArray(new String[0])));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE id = ? AND status = 'FAILED' AND attempts = 3", failed.get(2)));
        given().contentType("application/json").body(java.util.Map.of("error_contains", marker)).post("/v1/messages/retry").then().statusCode(202)
                .body("ids", hasItem(failed.get(2)));
        // Still invalid: they fail again, each with its attempts spent afresh.
        for (String id : failed) {
            awaitStatus(id, "FAILED").then().body("attempts", equalTo(3));
        }
        given().contentType("application/json").body(java.util.Map.of("limit", 0)).post("/v1/messages/retry").then().statusCode(400)
                .contentType("application/problem+json").body("errors[0].pointer", equalTo("/limit"));
        given().contentType("application/json").body(java.util.Map.of("type", "no.such")).post("/v1/messages/retry").then().statusCode(400)
                .body("errors[0].pointer", equalTo("/type"));
        given().contentType("application/json").body(java.util.Map.of("error_contains", marker, "extra", 1)).post("/v1/messages/retry")
                .then().statusCode(400);
    }
}
