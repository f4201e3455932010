package org.eligo.reports;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.disability;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * Population reports: counted by the database, they agree with the determinations the API shows;
 * each beneficiary's latest determination is kept right however determinations are written. Each
 * test has a period of its own (automatic determinations are only for the current one, 2027-07).
 */
@QuarkusTest
class ReportTest {

    private static final String RULESET = "medicaid-community-engagement";

    /** A beneficiary with a birth date and no disability, and, if {@code income}, income in the month before {@code period}. */
    private static void person(String source, String beneficiary, int year, int monthBefore, boolean income) {
        awaitProcessed(submit(birthdate(source, "b-" + beneficiary, beneficiary, "1980-01-01")));
        awaitProcessed(submit(disability(source, "d-" + beneficiary, beneficiary, false, false)));
        if (income) {
            addIncome(source, beneficiary, year, monthBefore);
        }
    }

    private static void addIncome(String source, String beneficiary, int year, int month) {
        awaitProcessed(submit(income(source, "i-" + beneficiary, beneficiary, year, month, 90_000, null)));
    }

    private static String determine(String beneficiary, String period) {
        return post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", period)).then().statusCode(201).extract().path("id");
    }

    private static Response outcomes(String query) {
        return given().accept("application/json").get("/v1/reports/outcomes?" + query).then().statusCode(200).extract().response();
    }

    private static Map<String, Integer> transitions(String query) {
        Response report = given().accept("application/json").get("/v1/reports/transitions?" + query).then().statusCode(200).extract().response();
        Map<String, Integer> pairs = new TreeMap<>();
        List<Map<String, Object>> rows = report.path("transitions");
        for (Map<String, Object> row : rows) {
            pairs.put(row.get("from") + ">" + row.get("to"), (Integer) row.get("count"));
        }
        return pairs;
    }

    /** What the report should say of these determinations, counted from the API's own view of each. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> expected(List<String> determinationIds) {
        Map<String, Integer> checks = new TreeMap<>();
        Map<String, Integer> reasons = new TreeMap<>();
        for (String id : determinationIds) {
            Response determination = given().get("/v1/determinations/" + id).then().statusCode(200).extract().response();
            for (Map<String, Object> check : (List<Map<String, Object>>) determination.path("checks")) {
                checks.merge(check.get("id") + "=" + check.get("result"), 1, Integer::sum);
                for (Map<String, Object> subcheck : (List<Map<String, Object>>) check.get("subchecks")) {
                    checks.merge(check.get("id") + "/" + subcheck.get("id") + "=" + subcheck.get("result"), 1, Integer::sum);
                }
                if (check.get("reason") != null) {
                    reasons.merge(check.get("id") + "/" + check.get("reason"), 1, Integer::sum);
                }
            }
        }
        return Map.of("checks", checks, "reasons", reasons);
    }

    /** The same counts, read from a report (zero counts left out, as the API's view has none). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> reported(Response report) {
        Map<String, Integer> checks = new TreeMap<>();
        Map<String, Integer> reasons = new TreeMap<>();
        for (Map<String, Object> check : (List<Map<String, Object>>) report.path("checks")) {
            ((Map<String, Integer>) check.get("results")).forEach((result, n) -> {
                if (n > 0) {
                    checks.put(check.get("id") + "=" + result, n);
                }
            });
            for (Map<String, Object> subcheck : (List<Map<String, Object>>) check.get("subchecks")) {
                ((Map<String, Integer>) subcheck.get("results")).forEach((result, n) -> {
                    if (n > 0) {
                        checks.put(check.get("id") + "/" + subcheck.get("id") + "=" + result, n);
                    }
                });
            }
        }
        for (Map<String, Object> reason : (List<Map<String, Object>>) report.path("reasons")) {
            reasons.put(reason.get("check") + "/" + reason.get("reason"), (Integer) reason.get("count"));
        }
        return Map.of("checks", checks, "reasons", reasons);
    }

    @Test
    void outcomesAndTransitionsCountEachBeneficiarysLatestDetermination() {
        String period = "2027-04";
        String source = unique("rep");
        String passes = unique("RA"), lacksData = unique("RB"), changes = unique("RC");
        person(source, passes, 2027, 3, true);
        person(source, lacksData, 2027, 3, false);
        person(source, changes, 2027, 3, false);
        String first = determine(changes, period);
        given().get("/v1/determinations/" + first).then().body("result", equalTo("NO_DATA"));
        addIncome(source, changes, 2027, 3);
        List<String> latest = List.of(determine(passes, period), determine(lacksData, period), determine(changes, period));

        Response report = outcomes("ruleset=" + RULESET + "&period=" + period);
        report.then().body("ruleset", equalTo(RULESET)).body("period", equalTo(period)).body("$", hasKey("rerun_id")).body("rerun_id", equalTo(null))
                .body("beneficiaries", equalTo(3))
                .body("results", equalTo(Map.of("PASSED", 2, "NOT_PASSED", 0, "NO_DATA", 1, "ERROR", 0, "SKIPPED", 0)));
        assertEquals(expected(latest), reported(report), "the report counts exactly what the latest determinations say");
        List<String> checkIds = report.path("checks.id");
        List<String> shownIds = given().get("/v1/determinations/" + latest.get(0)).then().extract().path("checks.id");
        assertEquals(shownIds, checkIds, "checks in the ruleset's order");
        // The ruleset may be left out while one is loaded.
        Map<String, Integer> withRuleset = report.path("results");
        Map<String, Integer> withoutRuleset = outcomes("period=" + period).path("results");
        assertEquals(withRuleset, withoutRuleset);

        // Without an Accept header, or with */* (curl's), the answer is JSON.
        given().get("/v1/reports/outcomes?period=" + period).then().statusCode(200).contentType(startsWith("application/json"));
        given().accept("*/*").get("/v1/reports/transitions?period=" + period).then().statusCode(200).contentType(startsWith("application/json"));
        given().accept("text/csv").get("/v1/reports/outcomes?period=" + period).then().statusCode(200)
                .contentType(startsWith("text/csv"))
                .body(startsWith("section,check,subcheck,result,count\r\nbeneficiaries,,,,3\r\n"))
                .body(containsString("\r\nresult,,,PASSED,2\r\n")).body(containsString("\r\nresult,,,NO_DATA,1\r\n"));

        assertEquals(Map.of("null>PASSED", 1, "null>NO_DATA", 1, "NO_DATA>PASSED", 1), transitions("period=" + period));
        given().accept("text/csv").get("/v1/reports/transitions?period=" + period).then().statusCode(200)
                .contentType(startsWith("text/csv")).body(equalTo("from,to,count\r\n,PASSED,1\r\n,NO_DATA,1\r\nNO_DATA,PASSED,1\r\n"));
    }

    @Test
    void aRerunsOutcomesAndTheTransitionsBetweenTwoReruns() {
        String period = "2027-05";
        String source = unique("rer");
        String passes = unique("RD"), laterPasses = unique("RE");
        person(source, passes, 2027, 4, true);
        person(source, laterPasses, 2027, 4, false);
        List<String> both = List.of(passes, laterPasses);
        String before = rerun(both, period);
        addIncome(source, laterPasses, 2027, 4);
        String after = rerun(both, period);

        Response first = outcomes("period=" + period + "&rerun_id=" + before);
        first.then().body("rerun_id", equalTo(before)).body("beneficiaries", equalTo(2))
                .body("results.PASSED", equalTo(1)).body("results.NO_DATA", equalTo(1));
        List<String> made = new ArrayList<>();
        Sql.rows("SELECT id FROM determination WHERE rerun_id = ?", before).forEach(row -> made.add((String) row.get("id")));
        assertEquals(expected(made), reported(first));
        outcomes("period=" + period + "&rerun_id=" + after).then().body("beneficiaries", equalTo(2)).body("results.PASSED", equalTo(2));
        // Without a rerun, the latest: the second rerun's.
        outcomes("period=" + period).then().body("beneficiaries", equalTo(2)).body("results.PASSED", equalTo(2));

        Map<String, Integer> moved = Map.of("PASSED>PASSED", 1, "NO_DATA>PASSED", 1);
        assertEquals(moved, transitions("period=" + period + "&from_rerun=" + before + "&to_rerun=" + after));
        assertEquals(moved, transitions("period=" + period + "&to_rerun=" + after), "from the latest before the rerun: the first rerun's");
        assertEquals(moved, transitions("period=" + period + "&from_rerun=" + before), "to the latest: the second rerun's");
        assertEquals(moved, transitions("period=" + period), "each latest from the one it replaced");
        assertEquals(Map.of("null>PASSED", 1, "null>NO_DATA", 1), transitions("period=" + period + "&to_rerun=" + before));
        assertEquals(Map.of("PASSED>null", 1, "NO_DATA>null", 1, "null>NO_DATA", 1),
                transitions("period=" + period + "&from_rerun=" + before + "&to_rerun=" + rerun(List.of(unique("RZ")), period)),
                "a beneficiary on one side only: the first run's two, the third run's new one");
    }

    private static String rerun(List<String> beneficiaries, String period) {
        String id = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", beneficiaries, "period", period))
                .then().statusCode(202).extract().path("id");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50))
                .until(() -> "DONE".equals(given().get("/v1/reruns/" + id).path("status")));
        return id;
    }

    @Test
    void badParametersAre400NamingTheParameter() {
        String other = rerun(List.of(unique("RX")), "2027-02");
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("/v1/reports/outcomes", "period");
        bad.put("/v1/reports/outcomes?period=2027-13", "period");
        bad.put("/v1/reports/outcomes?period=2027-05&ruleset=nope", "ruleset");
        bad.put("/v1/reports/outcomes?period=2027-05&rerun_id=run_01ARZ3NDEKTSV4RRFFQ69G5FAV", "rerun_id");
        bad.put("/v1/reports/outcomes?period=2027-05&rerun_id=" + other, "rerun_id");
        bad.put("/v1/reports/transitions?period=x", "period");
        bad.put("/v1/reports/transitions?period=2027-05&from_rerun=" + other, "from_rerun");
        bad.put("/v1/reports/transitions?period=2027-05&to_rerun=nothing", "to_rerun");
        bad.forEach((path, parameter) -> {
            for (String accept : List.of("application/json", "text/csv")) {
                given().accept(accept).get(path).then().statusCode(400).contentType("application/problem+json")
                        .body("errors.parameter", hasItem(parameter));
            }
        });
    }

    /**
     * Each beneficiary's latest determination is the one with the greatest id, whoever wrote it: a
     * rerun and caseworkers' requests (two threads per beneficiary) determine the same beneficiaries
     * at once, and afterwards determination_latest agrees with the determinations, everywhere in the
     * database. (Writers of one beneficiary take turns under its lock, so the trigger's upserts of one
     * key are serialised by design; what this checks is that no interleaving of the writers leaves a
     * row behind, and that the service cannot write the table itself.)
     */
    @Test
    void theLatestDeterminationIsKeptRightUnderRacingWriters() throws Exception {
        String period = "2027-03";
        List<String> beneficiaries = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            beneficiaries.add(unique("RL"));
        }
        String run = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", beneficiaries, "period", period))
                .then().statusCode(202).extract().path("id");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> requests = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                requests.add(pool.submit(() -> {
                    for (int i = offset; i < beneficiaries.size(); i += 2) {
                        determine(beneficiaries.get(i), period);
                    }
                }));
            }
            for (Future<?> request : requests) {
                request.get();
            }
        } finally {
            pool.shutdown();
        }
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50))
                .until(() -> "DONE".equals(given().get("/v1/reruns/" + run).path("status")));

        assertEquals(0, Sql.count("""
                SELECT count(*) FROM (SELECT ruleset_id, period, beneficiary_id, max(id) AS newest FROM determination GROUP BY 1, 2, 3) d
                  FULL JOIN determination_latest l USING (ruleset_id, period, beneficiary_id)
                 WHERE l.determination_id IS DISTINCT FROM d.newest"""));
        assertEquals(0, Sql.count("""
                SELECT count(*) FROM determination_latest l JOIN determination d ON d.beneficiary_id = l.beneficiary_id AND d.id = l.determination_id
                 WHERE l.result <> d.result OR l.outcomes <> d.outcomes"""));
        assertEquals(0, Sql.count("""
                SELECT count(*) FROM determination_latest l
                 WHERE l.previous_determination_id IS DISTINCT FROM (SELECT max(d.id) FROM determination d WHERE d.ruleset_id = l.ruleset_id
                       AND d.period = l.period AND d.beneficiary_id = l.beneficiary_id AND d.id < l.determination_id)"""));
        outcomes("period=" + period).then().body("beneficiaries", equalTo(beneficiaries.size()));
        String refused = Sql.firstFailure("SET ROLE eligo_service", "UPDATE determination_latest SET result = 'PASSED'");
        assertTrue(refused != null && refused.contains("permission denied"), "the service may only read it: " + refused);
        assertTrue(transitions("period=" + period).values().stream().mapToInt(Integer::intValue).sum() == beneficiaries.size());
    }
}
