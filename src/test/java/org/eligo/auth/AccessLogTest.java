package org.eligo.auth;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitStatus;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import java.util.Map;

import org.eligo.testing.Sql;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/** Every read of a beneficiary's data and every write leaves an append-only row that analysts can read. */
@QuarkusTest
@TestProfile(AuthEnabledProfile.class)
class AccessLogTest {

    private static JsonPath log(String beneficiary) {
        return given().auth().oauth2(Tokens.analyst()).queryParam("beneficiary_id", beneficiary).get("/v1/access-log")
                .then().statusCode(200).extract().jsonPath();
    }

    @Test
    void writesAndReadsOfABeneficiaryAreRecordedWithWhoWhatAndTheRequestId() {
        String source = unique("log"), beneficiary = unique("B"), other = unique("B");
        String agency = Tokens.agency(source);
        List<String> ids = given().auth().oauth2(agency).contentType("application/json").header("X-Request-Id", "agency-req-1")
                .body(Map.of("messages", List.of(income(source, "1", beneficiary, 2027, 6, 100, null), income(source, "2", other, 2027, 6, 1, null))))
                .post("/v1/messages/batch").then().statusCode(202).extract().path("results.id");
        awaitStatus(ids.get(0), "PROCESSED", Tokens.analyst());
        awaitStatus(ids.get(1), "PROCESSED", Tokens.analyst());

        String requestId = given().auth().oauth2(Tokens.caseworker()).get("/v1/beneficiaries/" + beneficiary + "/facts")
                .then().statusCode(200).extract().header("X-Request-Id");
        assertNotNull(requestId);
        String determination = given().auth().oauth2(Tokens.caseworker()).contentType("application/json").body(Map.of("period", "2027-06"))
                .post("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(201).extract().path("id");
        // Read by id: the beneficiary comes from what was read, not from the path.
        given().auth().oauth2(Tokens.caseworker()).get("/v1/determinations/" + determination + "?expand=facts").then().statusCode(200);

        // Newest first: the determination read, the request, the facts read, the submission (and,
        // left out here, the test's own reads of the message while it waited for processing).
        List<Map<String, Object>> items = log(beneficiary).<Map<String, Object>>getList("items").stream()
                .filter(item -> !((String) item.get("path")).startsWith("/v1/messages/msg_")).toList();
        List<String> paths = items.stream().map(item -> (String) item.get("path")).toList();
        org.hamcrest.MatcherAssert.assertThat(paths, contains(
                "/v1/determinations/" + determination + "?expand=facts",
                "/v1/beneficiaries/" + beneficiary + "/determinations",
                "/v1/beneficiaries/" + beneficiary + "/facts",
                "/v1/messages/batch"));
        Map<String, Object> read = items.get(2);
        org.hamcrest.MatcherAssert.assertThat(read.get("subject"), equalTo("casey"));
        org.hamcrest.MatcherAssert.assertThat((List<?>) read.get("roles"), contains("caseworker"));
        org.hamcrest.MatcherAssert.assertThat(read.get("method"), equalTo("GET"));
        org.hamcrest.MatcherAssert.assertThat(read.get("status"), equalTo(200));
        org.hamcrest.MatcherAssert.assertThat(read.get("request_id"), equalTo(requestId));
        Map<String, Object> submission = items.get(3);
        org.hamcrest.MatcherAssert.assertThat(submission.get("subject"), equalTo("agency-1"));
        org.hamcrest.MatcherAssert.assertThat(submission.get("request_id"), equalTo("agency-req-1"));
        org.hamcrest.MatcherAssert.assertThat((List<?>) submission.get("beneficiary_ids"), containsInAnyOrder(beneficiary, other));
        org.hamcrest.MatcherAssert.assertThat(log(other).getList("items.path"), org.hamcrest.Matchers.hasItem("/v1/messages/batch"));
    }

    @Test
    void concurrentRequestsAreEachRecordedOnceWithTheirOwnBeneficiary() throws Exception {
        // Rows of concurrent requests are committed together (group commit); each still gets its own row.
        List<String> beneficiaries = java.util.stream.IntStream.range(0, 24).mapToObj(i -> unique("G")).toList();
        String token = Tokens.caseworker();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Integer>> statuses = new java.util.ArrayList<>();
            for (String beneficiary : beneficiaries) {
                statuses.add(pool.submit(() -> given().auth().oauth2(token).get("/v1/beneficiaries/" + beneficiary + "/facts").statusCode()));
            }
            for (java.util.concurrent.Future<Integer> status : statuses) {
                org.hamcrest.MatcherAssert.assertThat(status.get(), equalTo(200));
            }
        } finally {
            pool.shutdownNow();
        }
        for (String beneficiary : beneficiaries) {
            org.hamcrest.MatcherAssert.assertThat(log(beneficiary).getList("items.path"), contains("/v1/beneficiaries/" + beneficiary + "/facts"));
        }
        // A beneficiary id no endpoint accepts is still recorded as itself, quotes and all.
        String odd = "x\"y,z\\";
        given().auth().oauth2(token).get("/v1/beneficiaries/{id}/facts", odd).then().statusCode(400);
        org.hamcrest.MatcherAssert.assertThat(Sql.count("SELECT count(*) FROM access_log WHERE beneficiary_ids = ARRAY[?::text]", odd), equalTo(1L));
    }

    @Test
    void refusedAttemptsAreRecordedToo() {
        String beneficiary = unique("B");
        given().auth().oauth2(Tokens.agency("x")).get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(403);
        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(401);
        List<Integer> statuses = log(beneficiary).getList("items.status");
        org.hamcrest.MatcherAssert.assertThat(statuses, contains(401, 403));
        org.hamcrest.MatcherAssert.assertThat(log(beneficiary).getList("items.subject"), contains("(anonymous)", "agency-1"));
    }

    @Test
    void onlyAnalystsReadTheLogAndItPagesNewestFirst() {
        given().auth().oauth2(Tokens.caseworker()).get("/v1/access-log").then().statusCode(403);
        String beneficiary = unique("B");
        for (int i = 0; i < 3; i++) {
            given().auth().oauth2(Tokens.caseworker()).get("/v1/beneficiaries/" + beneficiary + "/facts").then().statusCode(200);
        }
        JsonPath first = given().auth().oauth2(Tokens.analyst()).queryParam("beneficiary_id", beneficiary).queryParam("limit", 2)
                .get("/v1/access-log").then().statusCode(200).body("items", hasSize(2)).extract().jsonPath();
        given().auth().oauth2(Tokens.analyst()).queryParam("beneficiary_id", beneficiary).queryParam("cursor", first.getString("next_cursor"))
                .get("/v1/access-log").then().statusCode(200).body("items", hasSize(1)).body("next_cursor", equalTo(null));
        given().auth().oauth2(Tokens.analyst()).queryParam("beneficiary_id", "bad id!").get("/v1/access-log")
                .then().statusCode(400).body("errors[0].parameter", equalTo("beneficiary_id"));
        given().auth().oauth2(Tokens.analyst()).queryParam("subject", "casey").queryParam("limit", 1).get("/v1/access-log")
                .then().statusCode(200).body("items[0].subject", equalTo("casey"));
    }

    @Test
    void theLogCannotBeChangedOrDeleted() {
        given().auth().oauth2(Tokens.analyst()).get("/v1/rulesets").then().statusCode(200);
        String asService = Sql.firstFailure("SET ROLE eligo_service", "DELETE FROM access_log");
        org.hamcrest.MatcherAssert.assertThat(asService, containsString("permission denied"));
        String asOwner = Sql.firstFailure("UPDATE access_log SET subject = 'someone else'");
        org.hamcrest.MatcherAssert.assertThat(asOwner, containsString("not allowed"));
        String truncate = Sql.firstFailure("TRUNCATE access_log");
        org.hamcrest.MatcherAssert.assertThat(truncate, containsString("not allowed"));
    }
}
