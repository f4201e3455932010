package org.eligo.reruns;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.disability;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.submitBatch;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Reruns: large ones beside ingest, the changed scope, cancel, resuming after a crash, and failed items redriven. */
@QuarkusTest
class RerunTest {

    private static Response rerun(String id) {
        return given().get("/v1/reruns/" + id).then().statusCode(200).extract().response();
    }

    private static void awaitStatus(String id, String status) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100)).until(() -> status.equals(rerun(id).path("status")));
    }

    private static List<String> madeUp(String prefix, int n) {
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(prefix + "-" + i);
        }
        return ids;
    }

    @Test
    void aRerunOfTenThousandBeneficiariesFinishesOnceEachWhileIngestStaysResponsive() {
        String source = unique("pop");
        String prefix = unique("P");
        List<String> beneficiaries = madeUp(prefix, 10_000);
        for (int from = 0; from < beneficiaries.size(); from += 1000) {
            List<Map<String, Object>> batch = new ArrayList<>();
            for (String b : beneficiaries.subList(from, from + 1000)) {
                batch.add(birthdate(source, b, b, "1980-01-01"));
            }
            submitBatch(batch);
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> Sql.count("SELECT count(*) FROM message WHERE source = ? AND status <> 'PROCESSED'", source) == 0);

        Response accepted = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", beneficiaries, "period", "2027-07",
                "reason", "new interpretation"));
        accepted.then().statusCode(202).body("id", matchesPattern("run_[0-9A-Z]{26}")).body("status", equalTo("QUEUED")).body("total", equalTo(10_000));
        String id = accepted.path("id");

        // Ingest during the rerun: processed long before the rerun is through.
        String message = submit(income(unique("live"), "1", unique("L"), 2027, 6, 1, null));
        awaitProcessed(message);
        Response during = rerun(id);
        during.then().body("scope", equalTo("beneficiaries")).body("period", equalTo("2027-07")).body("reason", equalTo("new interpretation"))
                .body("ruleset", equalTo("medicaid-community-engagement"));

        awaitStatus(id, "DONE");
        rerun(id).then().body("done", equalTo(10_000)).body("failed", equalTo(0)).body("eta_s", equalTo(0))
                .body("rate_per_s", notNullValue()).body("started_at", notNullValue()).body("finished_at", notNullValue());
        assertEquals(10_000, Sql.count("SELECT count(DISTINCT beneficiary_id) FROM determination WHERE rerun_id = ? AND trigger = 'rerun'", id));
        assertEquals(10_000, Sql.count("SELECT count(*) FROM determination WHERE rerun_id = ?", id));
        assertTrue(Sql.count("SELECT count(*) FROM message m, rerun r WHERE m.id = ? AND r.id = ? AND m.processed_at < r.finished_at", message, id) == 1,
                "the message submitted during the rerun was processed before it finished");
        // Same facts, same rules: no result changed.
        given().get("/v1/reruns/" + id + "/changes").then().statusCode(200).body("items.size()", equalTo(0));
    }

    @Test
    void scopeChangedTakesWhoseFactsChangedSinceTheirLatestDeterminationAndReportsTheChanges() {
        String source = unique("chg");
        String changed = unique("X");
        String unchanged = unique("Y");
        for (String b : List.of(changed, unchanged)) {
            awaitProcessed(submit(birthdate(source, "b-" + b, b, "1980-01-01")));
            awaitProcessed(submit(disability(source, "d-" + b, b, false, false)));
            post("/v1/beneficiaries/" + b + "/determinations", Map.of("period", "2027-06")).then().statusCode(201).body("result", equalTo("NO_DATA"));
        }
        String before = (String) Sql.rows("SELECT id FROM determination WHERE beneficiary_id = ? AND period = '2027-06'", changed).get(0).get("id");
        awaitProcessed(submit(income(source, "i-" + changed, changed, 2027, 5, 90000, null)));

        String id = post("/v1/reruns", Map.of("scope", "changed", "period", "2027-06")).then().statusCode(202).extract().path("id");
        assertEquals(1, Sql.count("SELECT count(*) FROM rerun_item WHERE rerun_id = ? AND beneficiary_id = ?", id, changed));
        assertEquals(0, Sql.count("SELECT count(*) FROM rerun_item WHERE rerun_id = ? AND beneficiary_id = ?", id, unchanged));
        awaitStatus(id, "DONE");

        Map<String, Object> item = Sql.rows("SELECT * FROM rerun_item WHERE rerun_id = ? AND beneficiary_id = ?", id, changed).get(0);
        assertEquals(before, item.get("previous_determination_id"));
        assertEquals("NO_DATA", item.get("previous_result"));
        assertEquals("PASSED", item.get("result"));
        given().get("/v1/determinations/" + item.get("determination_id")).then().body("trigger", equalTo("rerun")).body("rerun_id", equalTo(id));
        rerun(id).then().body("changed_results", org.hamcrest.Matchers.greaterThanOrEqualTo(1));
        String request = "changes-" + id;
        Response page = given().header("X-Request-Id", request).queryParam("limit", 500).get("/v1/reruns/" + id + "/changes");
        page.then().statusCode(200).body("items[0].beneficiary_id", notNullValue()).body("items[0].determination_id", notNullValue());
        // The beneficiaries a page of changes names are in its access-log row.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> Sql.count(
                "SELECT count(*) FROM access_log WHERE request_id = ? AND ?::text = ANY(beneficiary_ids)", request, changed) == 1);
    }

    @Test
    void cancelStopsARerunPromptlyWithNothingHalfWritten() {
        String id = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", madeUp(unique("C"), 50_000), "period", "2027-07"))
                .then().statusCode(202).extract().path("id");
        // Progress is readable at every stage, including started-with-nothing-done-yet (rate 0, no ETA).
        for (int i = 0; i < 20; i++) {
            rerun(id);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> ((Number) rerun(id).path("done")).intValue() > 0);

        given().post("/v1/reruns/" + id + "/cancel").then().statusCode(202).body("status", equalTo("CANCELLED")).body("finished_at", notNullValue());
        long determined = Sql.count("SELECT count(*) FROM determination WHERE rerun_id = ?", id);
        assertEquals(determined, Sql.count("SELECT count(*) FROM rerun_item WHERE rerun_id = ? AND state = 'DONE'", id),
                "every item marked done has its determination, and no more");
        assertTrue(determined < 50_000, "stopped before the end: " + determined);
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(3))
                .until(() -> Sql.count("SELECT count(*) FROM determination WHERE rerun_id = ?", id) == determined);
        rerun(id).then().body("status", equalTo("CANCELLED")).body("eta_s", nullValue());
    }

    @Inject
    RerunService reruns;

    @Test
    void aRunWithNothingToDoIsDoneAtOnceAndSaysSoConsistently() {
        // The API refuses an empty list of beneficiaries, and "changed" may find others' work in this
        // shared database, so the service is asked directly for a run with nothing in it.
        RerunView.Accepted accepted = reruns.create(RerunScope.BENEFICIARIES, List.of(), "2027-07", "medicaid-community-engagement", "nothing to do", "test");
        assertEquals(RerunStatus.DONE, accepted.status());
        assertEquals(0, accepted.total());
        Response status = rerun(accepted.id());
        status.then().body("total", equalTo(0)).body("done", equalTo(0)).body("started_at", notNullValue())
                .body("finished_at", equalTo(status.path("started_at")))
                .body("rate_per_s", nullValue()).body("eta_s", equalTo(0));
    }

    @Test
    void progressSaysOnlyWhatIsTrue() {
        java.time.Instant start = java.time.Instant.parse("2027-07-01T00:00:00Z");
        java.time.Instant tenSecondsLater = start.plusSeconds(10);
        assertEquals(new RerunService.Progress(null, null), RerunService.progress(RerunStatus.QUEUED, 100, 0, null, null, tenSecondsLater));
        assertEquals(new RerunService.Progress(0.0, null), RerunService.progress(RerunStatus.RUNNING, 100, 0, start, null, tenSecondsLater));
        assertEquals(new RerunService.Progress(4.0, 15L), RerunService.progress(RerunStatus.RUNNING, 100, 40, start, null, tenSecondsLater));
        assertEquals(new RerunService.Progress(10.0, 0L), RerunService.progress(RerunStatus.DONE, 100, 100, start, tenSecondsLater, tenSecondsLater));
        assertEquals(new RerunService.Progress(null, 0L), RerunService.progress(RerunStatus.DONE, 0, 0, start, start, tenSecondsLater));
        assertEquals(new RerunService.Progress(4.0, null), RerunService.progress(RerunStatus.CANCELLED, 100, 40, start, tenSecondsLater, tenSecondsLater));
    }

    @Test
    void aWorkerThatDiesMidChunkLosesNothingAndNoBeneficiaryIsDeterminedTwice() throws Exception {
        List<String> beneficiaries = madeUp(unique("K"), 600);
        String id = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", beneficiaries, "period", "2027-07"))
                .then().statusCode(202).extract().path("id");
        // A "worker" claims a chunk and dies with it: its connection is terminated mid-transaction.
        try (Connection dying = Sql.connect(); Connection killer = Sql.connect()) {
            dying.setAutoCommit(false);
            int pid;
            try (PreparedStatement statement = dying.prepareStatement("SELECT pg_backend_pid()"); ResultSet rs = statement.executeQuery()) {
                rs.next();
                pid = rs.getInt(1);
            }
            try (PreparedStatement statement = dying.prepareStatement(
                    "SELECT beneficiary_id FROM rerun_item WHERE rerun_id = ? AND state = 'PENDING' ORDER BY beneficiary_id DESC LIMIT 100 FOR UPDATE SKIP LOCKED")) {
                statement.setString(1, id);
                statement.executeQuery().close();
            }
            try (PreparedStatement statement = killer.prepareStatement("SELECT pg_terminate_backend(?)")) {
                statement.setInt(1, pid);
                statement.executeQuery().close();
            }
        }
        awaitStatus(id, "DONE");
        assertEquals(600, Sql.count("SELECT count(*) FROM determination WHERE rerun_id = ?", id));
        assertEquals(600, Sql.count("SELECT count(DISTINCT beneficiary_id) FROM determination WHERE rerun_id = ?", id));
        rerun(id).then().body("done", equalTo(600));

        // And the database itself refuses a second determination of a beneficiary in the same run.
        Map<String, Object> one = Sql.rows("SELECT * FROM determination WHERE rerun_id = ? LIMIT 1", id).get(0);
        String failure = Sql.firstFailure("INSERT INTO determination (id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version, evaluated_at, "
                + "facts_as_of, trigger, rerun_id, result, checks) VALUES ('det_01ARZ3NDEKTSV4RRFFQ69G5FAV', '" + one.get("beneficiary_id") + "', '2027-07', '"
                + one.get("ruleset_id") + "', '" + one.get("ruleset_sha256") + "', 'x', now(), now(), 'rerun', '" + id + "', 'PASSED', '[]')");
        assertTrue(failure != null && failure.contains("determination_once_per_rerun"), failure);
    }

    @Test
    void aBeneficiaryThatFailsIsFailedInItsRunWithItsErrorAndTheRunCanBeRetried() {
        // A run for a month that does not exist, as only a bug could store it: each of its
        // beneficiaries fails by itself.
        String id = "run_" + UlidCreator.getMonotonicUlid();
        List<String> beneficiaries = madeUp(unique("F"), 3);
        // The run and its items in one statement: a run seen without its items is finished at once (as DONE, with nothing to do).
        Sql.update("""
                WITH run AS (INSERT INTO rerun (id, scope, period, ruleset_id, reason, status, total)
                             VALUES (?, 'beneficiaries', '2027-13', ?, 'test', 'QUEUED', 3) RETURNING id)
                INSERT INTO rerun_item (rerun_id, beneficiary_id) SELECT run.id, b FROM run, unnest(string_to_array(?, ',')) AS b""",
                id, "medicaid-community-engagement", String.join(",", beneficiaries));
        awaitStatus(id, "DONE");
        rerun(id).then().body("done", equalTo(0)).body("failed", equalTo(3));
        assertEquals(3, Sql.count("SELECT count(*) FROM rerun_item WHERE rerun_id = ? AND state = 'FAILED' AND error LIKE '%2027-13%'", id),
                "each failed item keeps its error");

        // Redriven: pending again and the run running; its cause is not fixed here, so they fail again.
        given().post("/v1/reruns/" + id + "/retry").then().statusCode(202).body("id", equalTo(id));
        awaitStatus(id, "DONE");
        rerun(id).then().body("done", equalTo(0)).body("failed", equalTo(3)).body("finished_at", notNullValue());
        assertEquals(0, Sql.count("SELECT count(*) FROM determination WHERE rerun_id = ?", id));

        String fine = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", List.of(unique("R")), "period", "2027-07"))
                .then().statusCode(202).extract().path("id");
        awaitStatus(fine, "DONE");
        given().post("/v1/reruns/" + fine + "/retry").then().statusCode(409).contentType("application/problem+json");
        given().post("/v1/reruns/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/retry").then().statusCode(404);
    }

    @Test
    void badRerunRequestsAreProblems() {
        post("/v1/reruns", Map.of("scope", "some", "period", "2027-07")).then().statusCode(400).body("errors[0].pointer", equalTo("/scope"));
        post("/v1/reruns", Map.of("scope", "all", "period", "2027-7")).then().statusCode(400).body("errors[0].pointer", equalTo("/period"));
        post("/v1/reruns", Map.of("scope", "beneficiaries", "period", "2027-07")).then().statusCode(400).body("errors[0].pointer", equalTo("/beneficiary_ids"));
        post("/v1/reruns", Map.of("scope", "all", "period", "2027-07", "beneficiary_ids", List.of("a"))).then().statusCode(400);
        given().get("/v1/reruns/run_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(404).contentType("application/problem+json");
        String id = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", List.of(unique("Z")), "period", "2027-07"))
                .then().statusCode(202).extract().path("id");
        for (String cursor : List.of("AA", "not base64!", "")) {
            given().queryParam("cursor", cursor).get("/v1/reruns/" + id + "/changes").then().statusCode(cursor.isEmpty() ? 200 : 400);
        }
        given().post("/v1/reruns/nope/cancel").then().statusCode(404);
    }

}
