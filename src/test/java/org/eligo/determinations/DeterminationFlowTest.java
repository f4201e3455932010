package org.eligo.determinations;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.disability;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submitBatch;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * From message to stored determination, and the audit trail back: every fact id a subcheck names
 * resolves to a fact, and every fact to the message it came from. The test clock is 2027-07-15.
 */
@QuarkusTest
class DeterminationFlowTest {

    private static final String RULESET = "medicaid-community-engagement";

    /** Submits the facts of a working adult and waits for them to be processed. */
    private static List<String> workingAdult(String source, String beneficiary) {
        List<String> ids = submitBatch(List.of(
                birthdate(source, "b", beneficiary, "1980-03-15"),
                disability(source, "d", beneficiary, false, false),
                income(source, "i6", beneficiary, 2027, 6, 58000, 12),
                income(source, "i5", beneficiary, 2027, 5, 100, null)));
        ids.forEach(id -> awaitProcessed(id));
        return ids;
    }

    private static Response history(String beneficiary) {
        return given().get("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(200).extract().response();
    }

    private static void awaitQueueEmptyFor(String beneficiary) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ?", beneficiary) == 0);
    }

    @Test
    void processingMessagesLeadsToOneAutomaticDeterminationWithAFullAuditTrail() {
        String source = unique("flow");
        String beneficiary = unique("B");
        workingAdult(source, beneficiary);
        awaitQueueEmptyFor(beneficiary);

        Response page = history(beneficiary);
        page.then().body("items", hasSize(1)).body("next_cursor", nullValue());
        String id = page.path("items[0].id");

        Response determination = given().get("/v1/determinations/" + id).then().statusCode(200)
                .body("id", matchesPattern("det_[0-9A-HJKMNP-TV-Z]{26}"))
                .body("beneficiary_id", equalTo(beneficiary))
                .body("period", equalTo("2027-07"))
                .body("ruleset.id", equalTo(RULESET))
                .body("ruleset.version", equalTo("2027.2"))
                .body("ruleset.sha256", matchesPattern("[0-9a-f]{64}"))
                .body("trigger", equalTo("ingest"))
                .body("rerun_id", nullValue())
                .body("evaluated_at", notNullValue())
                .body("facts_as_of", notNullValue())
                .body("result", equalTo("PASSED"))
                // At application (no review.context) one review month, the month before the period.
                .body("checks.id", contains("not_applicable", "month_2027_06"))
                .body("checks.result", contains("NOT_PASSED", "PASSED"))
                // reason: the first subcheck that passed, for a PASSED check; null otherwise (the key is there).
                .body("checks.reason", contains(null, "income"))
                .body("checks[0]", org.hamcrest.Matchers.hasKey("reason"))
                .body("checks[1].subchecks.id", contains("excepted", "hardship", "hours", "half_time_student", "income", "seasonal_income"))
                .body("checks[1].subchecks.result", contains("NOT_PASSED", "NOT_PASSED", "NOT_PASSED", "NOT_PASSED", "PASSED", "NOT_PASSED"))
                .body("checks[1].subchecks[4].detail", equalTo("income 58000 ≥ 58000 cents for 2027-06"))
                .body("checks[1].subchecks[1].fact_ids", hasSize(0))
                .extract().response();

        // The trail: subcheck -> fact -> message.
        Set<String> factIds = new HashSet<>();
        List<List<String>> perCheck = determination.path("checks.subchecks.fact_ids.flatten()");
        assertNotNull(perCheck);
        for (Object factId : determination.jsonPath().getList("checks.subchecks.fact_ids.flatten()")) {
            factIds.add((String) factId);
        }
        assertEquals(2, factIds.size(), "the birth date (age tests) and June's income (hours, income, seasonal income): " + factIds);
        for (String factId : factIds) {
            String messageId = given().get("/v1/facts/" + factId).then().statusCode(200).extract().path("message_id");
            given().get("/v1/messages/" + messageId).then().statusCode(200).body("fact_ids", contains(factId));
        }
        given().queryParam("expand", "facts").get("/v1/determinations/" + id).then().statusCode(200)
                .body("facts", hasSize(2))
                .body("facts.message_id", org.hamcrest.Matchers.everyItem(matchesPattern("msg_[0-9A-Z]{26}")));

        // Stored as one row: the facts it read are also rows of their own, so that "which determinations
        // read fact F" is one indexed query; each check's and subcheck's result is stored as text to count.
        assertEquals(factIds, Set.copyOf(Sql.rows("SELECT fact_id FROM determination_fact WHERE determination_id = ?", id).stream()
                .map(row -> (String) row.get("fact_id")).toList()));
        for (String factId : factIds) {
            assertEquals(List.of(id), readersOf(factId));
        }
        List<String> outcomes = new ArrayList<>();
        List<Map<String, Object>> checks = determination.path("checks");
        for (Map<String, Object> check : checks) {
            outcomes.add(check.get("id") + "=" + check.get("result"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> subchecks = (List<Map<String, Object>>) check.get("subchecks");
            subchecks.forEach(subcheck -> outcomes.add(check.get("id") + "/" + subcheck.get("id") + "=" + subcheck.get("result")));
        }
        assertEquals(List.of("not_applicable=NOT_PASSED", "not_applicable/under_19=NOT_PASSED", "not_applicable/age_65_or_older=NOT_PASSED"),
                outcomes.subList(0, 3));
        assertEquals(outcomes, Sql.rows("SELECT o FROM determination, unnest(outcomes) WITH ORDINALITY AS u (o, n) WHERE id = ? ORDER BY n", id)
                .stream().map(row -> (String) row.get("o")).toList());
    }

    /** "Which determinations read fact F", as a report or an audit would ask; an index probe per month, never a scan. */
    private static List<String> readersOf(String factId) {
        String query = "SELECT determination_id FROM determination_fact WHERE fact_id = ? ORDER BY determination_id DESC";
        try (java.sql.Connection connection = Sql.connect(); java.sql.Statement settings = connection.createStatement()) {
            settings.execute("SET enable_seqscan = off");
            StringBuilder plan = new StringBuilder();
            try (java.sql.PreparedStatement explain = connection.prepareStatement("EXPLAIN " + query)) {
                explain.setString(1, factId);
                try (java.sql.ResultSet rs = explain.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
            }
            assertFalse(plan.toString().contains("Seq Scan"), plan.toString());
            List<String> readers = new ArrayList<>();
            try (java.sql.PreparedStatement statement = connection.prepareStatement(query)) {
                statement.setString(1, factId);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        readers.add(rs.getString(1));
                    }
                }
            }
            return readers;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aBurstOfMessagesForOneBeneficiaryCoalescesIntoOneDetermination() {
        String source = unique("burst");
        String beneficiary = unique("B");
        List<Map<String, Object>> burst = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            burst.add(income(source, "m" + i, beneficiary, 2027, 1 + i % 6, 1000L * i, null));
        }
        submitBatch(burst).forEach(id -> awaitProcessed(id));
        awaitQueueEmptyFor(beneficiary);
        assertEquals(1, Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ? AND trigger = 'ingest'", beneficiary));
    }

    @Test
    void aBurstSpreadOverSeveralWorkerBatchesStillEndsInOneDeterminationThatSeesAllOfIt() {
        // 200 messages, claimed 50 at a time by four workers: the beneficiary's first and last
        // messages land in different worker batches, processed at different moments.
        String source = unique("spread");
        String beneficiary = unique("B");
        List<Map<String, Object>> burst = new ArrayList<>();
        burst.add(income(source, "first", beneficiary, 2027, 6, 100, null));
        for (int i = 0; i < 198; i++) {
            burst.add(birthdate(source, "other-" + i, unique("O"), "1970-01-01"));
        }
        burst.add(org.eligo.testing.Api.message(source, "last", "activity.monthly", beneficiary,
                Map.of("year", 2027, "month", 6, "community_service_hours", 80)));
        submitBatch(burst);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> Sql.count("SELECT count(*) FROM message WHERE source = ? AND status <> 'PROCESSED'", source) == 0);
        awaitQueueEmptyFor(beneficiary);

        List<Map<String, Object>> made = Sql.rows("SELECT id FROM determination WHERE beneficiary_id = ? AND trigger = 'ingest'", beneficiary);
        assertEquals(1, made.size(), "one determination for the whole burst");
        // June's income (the first message) is short, and its community service (the last) reaches 80 hours.
        given().get("/v1/determinations/" + made.get(0).get("id")).then()
                .body("checks[1].subchecks.find { it.id == 'income' }.result", equalTo("NOT_PASSED"))
                .body("checks[1].subchecks.find { it.id == 'hours' }.result", equalTo("PASSED"));
    }

    @Test
    void aRequestedDeterminationIsStoredAndReadBack() {
        String source = unique("req");
        String beneficiary = unique("B");
        workingAdult(source, beneficiary);

        Response made = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-08", "ruleset", RULESET));
        made.then().statusCode(201)
                .header("Location", org.hamcrest.Matchers.endsWith("/v1/determinations/" + made.path("id")))
                .body("trigger", equalTo("request"))
                .body("period", equalTo("2027-08"))
                .body("result", equalTo("NO_DATA"))
                .body("checks.id", contains("not_applicable", "month_2027_07"));
        String id = made.path("id");
        given().get("/v1/determinations/" + id).then().statusCode(200)
                .body("id", equalTo(id))
                .body("checks[1].subchecks.result", contains("NOT_PASSED", "NOT_PASSED", "NO_DATA", "NOT_PASSED", "NO_DATA", "NO_DATA"));

        // The ruleset may be left out when one is loaded.
        post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2026-12")).then()
                .statusCode(201).body("result", equalTo("SKIPPED"));
    }

    @Test
    void anEvaluationAsOfAnEarlierInstantUsesTheFactsKnownThenAndIsNotStored() {
        String source = unique("tt");
        String beneficiary = unique("B");
        String before = given().get("/v1/beneficiaries/" + beneficiary + "/facts").then().extract().path("as_of");
        String firstMessage = org.eligo.testing.Api.submit(income(source, "low", beneficiary, 2027, 6, 100, null));
        awaitProcessed(firstMessage);
        String factCreated = given().get("/v1/facts/" + awaitProcessed(firstMessage).path("fact_ids[0]")).then().extract().path("created_at");
        awaitProcessed(org.eligo.testing.Api.submit(income(source, "corrected", beneficiary, 2027, 6, 90000, null)));
        awaitQueueEmptyFor(beneficiary);
        long stored = Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ?", beneficiary);

        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07")).then().statusCode(200)
                .body("id", nullValue())
                .body("checks[1].subchecks[4].result", equalTo("PASSED"));
        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "as_of", factCreated)).then().statusCode(200)
                .body("id", nullValue())
                .body("facts_as_of", equalTo(factCreated))
                .body("checks[1].subchecks[4].result", equalTo("NOT_PASSED"))
                .body("checks[1].subchecks[4].detail", equalTo("income 100 < 58000 cents for 2027-06"));
        assertFalse(before.isEmpty());
        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "as_of", "2020-01-01T00:00:00Z")).then()
                .statusCode(200).body("result", equalTo("NO_DATA"));
        assertEquals(stored, Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ?", beneficiary), "evaluations are not stored");
    }

    @Test
    void historyPagesNewestFirst() {
        String beneficiary = unique("B");
        List<String> made = new ArrayList<>();
        for (String period : List.of("2027-07", "2027-08", "2027-09")) {
            made.add(post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", period)).then().statusCode(201).extract().path("id"));
        }
        Response first = given().queryParam("limit", 2).get("/v1/beneficiaries/" + beneficiary + "/determinations");
        first.then().statusCode(200).body("items.id", contains(made.get(2), made.get(1))).body("next_cursor", notNullValue());
        given().queryParam("limit", 2).queryParam("cursor", (String) first.path("next_cursor")).get("/v1/beneficiaries/" + beneficiary + "/determinations")
                .then().statusCode(200).body("items.id", contains(made.get(0))).body("next_cursor", nullValue());
        given().queryParam("period", "2027-08").get("/v1/beneficiaries/" + beneficiary + "/determinations")
                .then().statusCode(200).body("items.id", contains(made.get(1)));
    }

    @Test
    void badRequestsAreProblems() {
        post("/v1/beneficiaries/B-1/determinations", Map.of("period", "2027-13")).then()
                .statusCode(400).contentType("application/problem+json").body("errors[0].pointer", equalTo("/period"));
        post("/v1/beneficiaries/B-1/determinations", Map.of("period", "2027-07", "ruleset", "snap")).then()
                .statusCode(400).body("errors[0].pointer", equalTo("/ruleset"));
        post("/v1/beneficiaries/B-1/determinations", Map.of("period", "2027-07", "perod", "x")).then()
                .statusCode(400).body("errors.pointer", contains("/perod"));
        post("/v1/beneficiaries/B-1/determinations", "[]").then().statusCode(400);
        post("/v1/beneficiaries/B-1/evaluations", Map.of("period", "2027-07", "as_of", "yesterday")).then()
                .statusCode(400).body("errors[0].pointer", equalTo("/as_of"));
        post("/v1/beneficiaries/B-1/evaluations", Map.of("period", "2027-07", "as_of", "2099-01-01T00:00:00Z")).then()
                .statusCode(400).body("errors[0].pointer", equalTo("/as_of"));
        given().get("/v1/determinations/det_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(404).contentType("application/problem+json");
        given().queryParam("expand", "everything").get("/v1/determinations/det_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(400);
        given().queryParam("limit", 0).get("/v1/beneficiaries/B-1/determinations").then().statusCode(400).body("errors[0].parameter", equalTo("limit"));
        given().queryParam("limit", 501).get("/v1/beneficiaries/B-1/determinations").then().statusCode(400);
        given().queryParam("cursor", "not-a-cursor").get("/v1/beneficiaries/B-1/determinations").then().statusCode(400)
                .body("errors[0].parameter", equalTo("cursor"));
    }

    @Test
    void rulesetsAreListedWithTheirHashAndDefinition() {
        given().get("/v1/rulesets").then().statusCode(200)
                .body("id", contains(RULESET))
                .body("[0].version", equalTo("2027.2"))
                .body("[0].sha256", matchesPattern("[0-9a-f]{64}"))
                .body("[0].title", notNullValue())
                .body("[0].definition", nullValue());
        given().get("/v1/rulesets/" + RULESET).then().statusCode(200)
                .body("definition.ruleset.checks[0].id", equalTo("not_applicable"))
                .body("definition.ruleset.checks[1].each_review_month.id", equalTo("month_{yyyy}_{mm}"))
                .body("definition.parameters.monthly_hours_threshold.reference", notNullValue());
        given().get("/v1/rulesets/unknown").then().statusCode(404).contentType("application/problem+json");
        String sha = given().get("/v1/rulesets/" + RULESET).then().extract().path("sha256");
        assertEquals(1, Sql.count("SELECT count(*) FROM ruleset_version WHERE ruleset_id = ? AND sha256 = ? AND files IS NOT NULL", RULESET, sha),
                "the loaded version is recorded with its files");
    }

    @Test
    void statsCountWhatThereIs() {
        String source = unique("stats");
        String beneficiary = unique("B");
        workingAdult(source, beneficiary);
        Response stats = given().get("/v1/stats").then().statusCode(200)
                .body("messages.received", notNullValue())
                .body("messages.backlog", notNullValue())
                .body("facts.active", notNullValue())
                .body("determinations.pending", notNullValue())
                .extract().response();
        long received = ((Number) stats.path("messages.received")).longValue();
        long processed = ((Number) stats.path("messages.processed")).longValue();
        long failed = ((Number) stats.path("messages.failed")).longValue();
        long backlog = ((Number) stats.path("messages.backlog")).longValue();
        assertEquals(received, processed + failed + backlog);
        assertEquals(Sql.count("SELECT count(*) FROM determination"), ((Number) stats.path("determinations.total")).longValue(), 1000);
        if (backlog == 0) {
            assertNull(stats.path("oldest_backlog_received_at"));
        }
    }
}
