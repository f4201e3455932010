package org.eligo.ingest;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.disability;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** The ingest API's success paths, idempotency and batches, end to end to the stored fact. */
@QuarkusTest
class MessageIngestTest {

    private static final String TIMESTAMP = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z";

    @Test
    void aSubmittedMessageIsStoredProcessedAndBecomesItsFact() {
        String source = unique("wage");
        String beneficiary = unique("B");
        Map<String, Object> message = income(source, "wr-1", beneficiary, 2027, 4, 61250, 35.5);
        message.put("occurred_at", "2027-05-02T12:00:00+02:00");

        String id = post("/v1/messages", message).then()
                .statusCode(202)
                .body("id", matchesPattern("msg_[0-9A-HJKMNP-TV-Z]{26}"))
                .body("status", equalTo("RECEIVED"))
                .body("duplicate", equalTo(false))
                .extract().path("id");

        Response stored = awaitProcessed(id);
        stored.then()
                .body("id", equalTo(id))
                .body("source", equalTo(source))
                .body("external_id", equalTo("wr-1"))
                .body("type", equalTo("income.monthly"))
                .body("beneficiary_id", equalTo(beneficiary))
                .body("occurred_at", equalTo("2027-05-02T10:00:00.000000Z"))
                .body("received_at", matchesPattern(TIMESTAMP))
                .body("attempts", equalTo(1))
                .body("last_error", nullValue())
                .body("data.amount_cents", equalTo(61250))
                .body("data.hours", equalTo(35.5f))
                .body("fact_ids", hasSize(1));
        String factId = stored.path("fact_ids[0]");

        given().get("/v1/facts/" + factId).then()
                .statusCode(200)
                .body("id", equalTo(factId))
                .body("type", equalTo("income.monthly"))
                .body("beneficiary_id", equalTo(beneficiary))
                .body("message_id", equalTo(id))
                .body("created_at", matchesPattern(TIMESTAMP))
                .body("revoked_at", nullValue())
                .body("revoked_by", nullValue())
                .body("data.year", equalTo(2027))
                .body("data.month", equalTo(4))
                .body("data.amount_cents", equalTo(61250))
                .body("data.hours", equalTo(35.5f))
                .body("data.employers", nullValue());
    }

    @Test
    void everyTypeBecomesATypedFact() {
        String source = unique("dmv");
        String beneficiary = unique("B");
        String birth = submit(birthdate(source, "b-1", beneficiary, "1990-02-28"));
        String status = submit(disability(source, "d-1", beneficiary, false, null));
        awaitProcessed(birth);
        awaitProcessed(status);

        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .statusCode(200)
                .body("beneficiary_id", equalTo(beneficiary))
                .body("as_of", matchesPattern(TIMESTAMP))
                // Ordered by type name, then key, then id.
                .body("facts.type", contains("disability.status", "person.birthdate"))
                .body("facts[1].data.birth_date", equalTo("1990-02-28"))
                .body("facts[0].data.disabled", equalTo(false))
                .body("facts[0].data.medically_frail", equalTo(false));
    }

    @Test
    void resubmittingTheSameContentAnswers200WithTheSameId() {
        String source = unique("wage");
        Map<String, Object> message = income(source, "wr-dup", unique("B"), 2027, 3, 100, 10.5);
        String id = submit(message);

        // Same content, numbers written differently and members in another order: still the same JSON values.
        Map<String, Object> again = income(source, "wr-dup", (String) message.get("beneficiary_id"), 2027, 3, 100, 10.50);
        post("/v1/messages", again).then()
                .statusCode(200)
                .body("id", equalTo(id))
                .body("duplicate", equalTo(true));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void theSameKeyWithOtherContentIsAConflict() {
        String source = unique("wage");
        String beneficiary = unique("B");
        submit(income(source, "wr-9", beneficiary, 2027, 3, 100, null));

        post("/v1/messages", income(source, "wr-9", beneficiary, 2027, 3, 101, null)).then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("status", equalTo(409))
                .body("errors[0].pointer", equalTo("/external_id"));

        Map<String, Object> withTime = income(source, "wr-9", beneficiary, 2027, 3, 100, null);
        withTime.put("occurred_at", "2027-04-01T00:00:00Z");
        post("/v1/messages", withTime).then().statusCode(409);
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void aBatchIsStoredWithResultsInInputOrder() {
        String source = unique("batch");
        String beneficiary = unique("B");
        String existing = submit(income(source, "e-0", beneficiary, 2027, 1, 1, null));
        List<Map<String, Object>> messages = List.of(
                income(source, "e-1", beneficiary, 2027, 2, 2, null),
                income(source, "e-0", beneficiary, 2027, 1, 1, null),
                birthdate(source, "e-2", beneficiary, "2001-01-01"),
                income(source, "e-1", beneficiary, 2027, 2, 2, null));

        Response response = post("/v1/messages/batch", Map.of("messages", messages));
        response.then()
                .statusCode(202)
                .body("results", hasSize(4))
                .body("results.duplicate", contains(false, true, false, true))
                .body("results[1].id", equalTo(existing))
                .body("results[0].status", equalTo("RECEIVED"));
        assertEquals((String) response.path("results[0].id"), response.path("results[3].id"));
        assertEquals(3, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void aBatchWithInvalidItemsStoresNothingAndNamesEveryBadItem() {
        String source = unique("batch");
        String beneficiary = unique("B");
        List<Map<String, Object>> messages = new ArrayList<>();
        messages.add(income(source, "ok-1", beneficiary, 2027, 2, 2, null));
        messages.add(income(source, "bad-1", beneficiary, 2027, 13, 2, null));
        messages.add(income(source, "ok-2", beneficiary, 2027, 3, 2, null));
        messages.add(birthdate(source, "bad-2", beneficiary, "1990-02-30"));

        post("/v1/messages/batch", Map.of("messages", messages)).then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("errors.pointer", contains("/messages/1/data/month", "/messages/3/data/birth_date"));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void aBatchWithAConflictStoresNothing() {
        String source = unique("batch");
        String beneficiary = unique("B");
        submit(income(source, "c-0", beneficiary, 2027, 1, 1, null));
        List<Map<String, Object>> messages = List.of(
                income(source, "c-1", beneficiary, 2027, 2, 2, null),
                income(source, "c-0", beneficiary, 2027, 1, 999, null));

        post("/v1/messages/batch", Map.of("messages", messages)).then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("errors[0].pointer", equalTo("/messages/1/external_id"));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));

        List<Map<String, Object>> repeatedKeyInBatch = List.of(
                income(source, "c-2", beneficiary, 2027, 2, 2, null),
                income(source, "c-2", beneficiary, 2027, 2, 3, null));
        post("/v1/messages/batch", Map.of("messages", repeatedKeyInBatch)).then()
                .statusCode(409)
                .body("errors[0].pointer", equalTo("/messages/1/external_id"));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void concurrentBatchesWithTheSameKeysInOppositeOrderBothSucceed() throws Exception {
        String source = unique("retry");
        List<Map<String, Object>> forward = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            forward.add(income(source, "k-" + i, "B-" + i, 2027, 1, i, null));
        }
        List<Map<String, Object>> backward = new ArrayList<>(forward);
        java.util.Collections.reverse(backward);
        java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 3; round++) {
                String prefix = "r" + round + "-";
                List<Map<String, Object>> a = forward.stream().map(m -> withExternalId(m, prefix)).toList();
                List<Map<String, Object>> b = backward.stream().map(m -> withExternalId(m, prefix)).toList();
                java.util.concurrent.Future<Integer> first = clients.submit(() -> post("/v1/messages/batch", Map.of("messages", a)).statusCode());
                java.util.concurrent.Future<Integer> second = clients.submit(() -> post("/v1/messages/batch", Map.of("messages", b)).statusCode());
                assertEquals(202, first.get());
                assertEquals(202, second.get());
            }
        } finally {
            clients.shutdown();
        }
        assertEquals(900, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    private static Map<String, Object> withExternalId(Map<String, Object> message, String prefix) {
        Map<String, Object> copy = new java.util.LinkedHashMap<>(message);
        copy.put("external_id", prefix + message.get("external_id"));
        return copy;
    }

    @Test
    void batchLimitsHold() {
        String source = unique("batch");
        List<Map<String, Object>> tooMany = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            tooMany.add(income(source, "m-" + i, "B-1", 2027, 1, i, null));
        }
        post("/v1/messages/batch", Map.of("messages", tooMany)).then()
                .statusCode(413)
                .contentType("application/problem+json")
                .body("errors[0].pointer", equalTo("/messages"));
        post("/v1/messages/batch", Map.of("messages", List.of())).then()
                .statusCode(400)
                .body("errors[0].pointer", equalTo("/messages"));
        post("/v1/messages/batch", Map.of("items", List.of())).then()
                .statusCode(400)
                .body("errors.pointer", contains("/items", "/messages"));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void bodiesOverTheLimitAre413() {
        String padding = "x".repeat(1024 * 1024);
        String body = "{\"source\": \"s\", \"external_id\": \"" + padding + "\"}";
        post("/v1/messages", body).then()
                .statusCode(413)
                .contentType("application/problem+json")
                .body("status", equalTo(413));

        String batchPadding = "x".repeat(16 * 1024 * 1024);
        post("/v1/messages/batch", "{\"messages\": [], \"pad\": \"" + batchPadding + "\"}").then()
                .statusCode(413)
                .contentType("application/problem+json")
                .body("detail", containsString("16777216"));
    }

    @Test
    void unknownMessagesAndFactsAre404() {
        // The contract's problem shape has "errors" always: an empty list when no field is to blame.
        given().get("/v1/messages/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV").then()
                .statusCode(404).contentType("application/problem+json").body("detail", containsString("msg_01ARZ3NDEKTSV4RRFFQ69G5FAV"))
                .body("errors", empty());
        given().get("/v1/messages/not-an-id").then().statusCode(404).contentType("application/problem+json");
        given().get("/v1/facts/fact_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(404).contentType("application/problem+json");
        given().get("/v1/no-such-thing").then().statusCode(404).contentType("application/problem+json").body("errors", empty());
    }

    @Test
    void theOpenApiDocumentDescribesTheIngestApi() {
        given().get("/q/openapi?format=json").then()
                .statusCode(200)
                .body("paths.'/v1/messages'.post.responses.'202'", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/messages'.post.responses.'409'", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/messages/batch'.post.responses.'413'", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/messages/{id}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/facts/{id}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v1/beneficiaries/{beneficiary_id}/facts'.get", org.hamcrest.Matchers.notNullValue())
                .body("components.schemas.MessageSubmission.properties.external_id", org.hamcrest.Matchers.notNullValue());
        given().get("/q/swagger-ui/").then().statusCode(200);
    }
    @Test
    void aBeneficiarysMessagesArePagedNewestFirstWithTheFactsMadeFromThem() {
        String source = unique("bm");
        String beneficiary = unique("BM");
        String first = submit(birthdate(source, "b-1", beneficiary, "1980-01-01"));
        String second = submit(income(source, "i-5", beneficiary, 2027, 5, 61250, null));
        String third = submit(income(source, "i-6", beneficiary, 2027, 6, 41250, 20));
        submit(birthdate(source, "other", unique("BO"), "1990-01-01"));
        List.of(first, second, third).forEach(id -> awaitProcessed(id));

        Response page = given().queryParam("limit", 2).get("/v1/beneficiaries/" + beneficiary + "/messages");
        page.then().statusCode(200).body("items.id", contains(third, second)).body("items[0].status", equalTo("PROCESSED"))
                .body("items[0].source", equalTo(source)).body("items[0].external_id", equalTo("i-6"))
                .body("items[0].fact_ids", hasSize(1)).body("items[0].received_at", matchesPattern(".+Z"));
        String factId = page.path("items[0].fact_ids[0]");
        given().get("/v1/facts/" + factId).then().statusCode(200).body("message_id", equalTo(third));
        String cursor = page.path("next_cursor");
        given().queryParam("limit", 2).queryParam("cursor", cursor).get("/v1/beneficiaries/" + beneficiary + "/messages").then().statusCode(200)
                .body("items.id", contains(first)).body("next_cursor", nullValue());

        given().get("/v1/beneficiaries/" + unique("NONE") + "/messages").then().statusCode(200).body("items", empty()).body("next_cursor", nullValue());
        given().queryParam("cursor", "not-a-cursor").get("/v1/beneficiaries/" + beneficiary + "/messages").then().statusCode(400)
                .contentType("application/problem+json").body("errors[0].parameter", equalTo("cursor"));
        given().queryParam("limit", 0).get("/v1/beneficiaries/" + beneficiary + "/messages").then().statusCode(400)
                .body("errors[0].parameter", equalTo("limit"));
    }
}
