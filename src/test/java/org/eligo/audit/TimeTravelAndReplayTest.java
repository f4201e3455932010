package org.eligo.audit;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.eligo.facts.Facts;
import org.eligo.rules.RulesetLoader;
import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** What we knew and decided at T, how two decisions differ, and re-deriving facts after a parser fix. */
@QuarkusTest
class TimeTravelAndReplayTest {

    private static final String RULESET = "medicaid-community-engagement";

    @Test
    void anEvaluationAsOfTUsesTheRulesetVersionInForceAtT() throws Exception {
        String beneficiary = unique("T");
        awaitProcessed(submit(income(unique("tt"), "1", beneficiary, 2027, 6, 60000, null)));
        String before = given().get("/v1/beneficiaries/" + beneficiary + "/facts").then().extract().path("as_of");

        // Another version of the rules comes into force after `before` (same rules, another version label).
        // The files a recorded version holds: the ruleset's own and the declarations of the fact types it reads.
        Map<String, String> files = new TreeMap<>(RulesetLoader.loadAll(Path.of("rules")).stream()
                .filter(r -> r.id().equals(RULESET)).findFirst().orElseThrow().files());
        files.put("ruleset.yaml", files.get("ruleset.yaml").replace("version: \"2027.2\"", "version: \"2027.2-test\""));
        String sha = RulesetLoader.sha256(files);
        Sql.update("INSERT INTO ruleset_version (ruleset_id, sha256, version, title, definition, files) VALUES (?, ?, '2027.2-test', 'test', '{}'::jsonb, ?::jsonb)"
                + " ON CONFLICT DO NOTHING", RULESET, sha, new ObjectMapper().writeValueAsString(files));
        Sql.update("INSERT INTO ruleset_activation (ruleset_id, sha256) VALUES (?, ?)", RULESET, sha);
        String after = given().get("/v1/beneficiaries/" + beneficiary + "/facts").then().extract().path("as_of");

        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "as_of", before)).then().statusCode(200)
                .body("ruleset.version", equalTo("2027.2"))
                .body("result", equalTo("PASSED"));
        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "as_of", after)).then().statusCode(200)
                .body("ruleset.version", equalTo("2027.2-test"))
                .body("ruleset.sha256", equalTo(sha))
                .body("result", equalTo("PASSED"));
        given().get("/v1/rulesets/" + RULESET).then().statusCode(200)
                .body("history.version", org.hamcrest.Matchers.hasItems("2027.2", "2027.2-test"))
                .body("history[0].activated_at", notNullValue());
    }

    @Test
    void anEvaluationAsOfAnInstantBeforeVersion2WasInForceUsesVersion1() throws Exception {
        String beneficiary = unique("V");
        awaitProcessed(submit(income(unique("v1"), "1", beneficiary, 2027, 6, 60000, null)));
        // Version 1 as it was recorded (test resources rules-v1/): its files and the declarations of the types it read.
        Map<String, String> version1 = RulesetLoader.loadAll(Path.of("src/test/resources/rules-v1"),
                org.eligo.facts.FactTypes.load(Path.of("rules", org.eligo.facts.FactTypes.FOLDER))).get(0).files();
        String sha1 = RulesetLoader.sha256(version1);
        String sha2 = given().get("/v1/rulesets/" + RULESET).then().statusCode(200).body("version", equalTo("2027.2")).extract().path("sha256");
        Sql.update("INSERT INTO ruleset_version (ruleset_id, sha256, version, title, definition, files) VALUES (?, ?, '2027.1', 'version 1', '{}'::jsonb, ?::jsonb)"
                + " ON CONFLICT DO NOTHING", RULESET, sha1, new ObjectMapper().writeValueAsString(version1));
        Sql.update("INSERT INTO ruleset_activation (ruleset_id, sha256) VALUES (?, ?)", RULESET, sha1);
        String duringVersion1 = given().get("/v1/beneficiaries/" + beneficiary + "/facts").then().extract().path("as_of");
        Sql.update("INSERT INTO ruleset_activation (ruleset_id, sha256) VALUES (?, ?)", RULESET, sha2);
        String afterVersion2 = given().get("/v1/beneficiaries/" + beneficiary + "/facts").then().extract().path("as_of");

        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "as_of", duringVersion1)).then().statusCode(200)
                .body("ruleset.version", equalTo("2027.1"))
                .body("ruleset.sha256", equalTo(sha1))
                .body("checks.id", contains("age_exemption", "disability_exemption", "community_engagement"))
                .body("result", equalTo("PASSED"));
        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "as_of", afterVersion2)).then().statusCode(200)
                .body("ruleset.version", equalTo("2027.2"))
                .body("ruleset.sha256", equalTo(sha2))
                .body("checks.id", contains("not_applicable", "month_2027_06"))
                .body("result", equalTo("PASSED"));
    }

    @Test
    void theDiffOfTwoDeterminationsNamesTheChangedSubchecksAndFacts() {
        String source = unique("diff");
        String beneficiary = unique("D");
        String low = awaitProcessed(submit(income(source, "1", beneficiary, 2027, 6, 100, null))).path("fact_ids[0]");
        String a = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07")).then().statusCode(201).extract().path("id");
        String high = awaitProcessed(submit(income(source, "2", beneficiary, 2027, 6, 90000, null))).path("fact_ids[0]");
        String b = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07")).then().statusCode(201).extract().path("id");

        given().get("/v1/determinations/" + a + "/diff/" + b).then().statusCode(200)
                .body("a", equalTo(a)).body("b", equalTo(b))
                .body("result.a", equalTo("NO_DATA")).body("result.b", equalTo("PASSED"))
                .body("subchecks", hasSize(1))
                .body("subchecks[0].check_id", equalTo("month_2027_06"))
                .body("subchecks[0].subcheck_id", equalTo("income"))
                .body("subchecks[0].a", equalTo("NOT_PASSED")).body("subchecks[0].b", equalTo("PASSED"))
                .body("facts.only_in_a", contains(low)).body("facts.only_in_b", contains(high));
        given().get("/v1/determinations/" + a + "/diff/det_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(404);
    }

    /** A message stored with the fact an older, buggy parser made of it (behind the service: as history would have it). */
    private static String[] processedWithWrongFact(String beneficiary, String externalId, int month, long cents, int wrongMonth, long wrongCents,
                                                   String supersedes) {
        String message = "msg_" + UlidCreator.getMonotonicUlid();
        String fact = "fact_" + UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data, status, attempts) VALUES (?, 'old-feed', ?, 'income.monthly', ?, ?::jsonb, 'PROCESSED', 1)",
                message, externalId, beneficiary, "{\"year\": 2027, \"month\": " + month + ", \"amount_cents\": " + cents + "}");
        TestLedger.adoptMessages(message);
        String failure = Sql.firstFailure("BEGIN",
                supersedes == null ? "SELECT 1" : "UPDATE fact SET revoked_at = now(), revoked_by = '" + fact + "' WHERE id = '" + supersedes + "'",
                "INSERT INTO fact (id, beneficiary_id, message_id, created_at, type, fact_key, data) VALUES ('" + fact + "', '"
                        + beneficiary + "', '" + message + "', clock_timestamp(), 'income.monthly', '2027-" + String.format("%02d", wrongMonth)
                        + "', '{\"year\": 2027, \"month\": " + wrongMonth + ", \"amount_cents\": " + wrongCents + "}')",
                "COMMIT");
        assertEquals(null, failure);
        // In the ledger as the service would have recorded them: the message as received; then the processing transaction's revocation and new fact.
        if (supersedes == null) {
            TestLedger.adoptFacts(fact);
        } else {
            TestLedger.adopt(Facts.revocationLabel(supersedes), Facts.LEDGER_TABLE + "/" + fact);
        }
        return new String[] {message, fact};
    }

    @Test
    void aReplayAfterAParserFixSupersedesTheWrongFactsAndNothingIsDeleted() {
        String beneficiary = unique("R");
        String[] wrongAmount = processedWithWrongFact(beneficiary, unique("x"), 6, 61250, 6, 6125, null);

        Response dry = post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary), "dry_run", true, "reason", "amount parser fix"));
        dry.then().statusCode(200)
                .body("id", nullValue())
                .body("dry_run", equalTo(true))
                .body("changes", hasSize(1))
                .body("changes[0].message_id", equalTo(wrongAmount[0]))
                .body("changes[0].kind", equalTo("values"))
                .body("changes[0].previous_fact_id", equalTo(wrongAmount[1]))
                .body("changes[0].previous.amount_cents", equalTo(6125))
                .body("changes[0].rederived.amount_cents", equalTo(61250))
                .body("changes[0].new_fact_id", nullValue());
        assertEquals(1, Sql.count("SELECT count(*) FROM fact_income_monthly WHERE beneficiary_id = ?", beneficiary), "a dry run writes nothing");

        Response done = post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary), "reason", "amount parser fix"));
        done.then().statusCode(201).body("id", matchesPattern("rpl_[0-9A-Z]{26}")).body("changes", hasSize(1));
        String replay = done.path("id");
        String corrected = done.path("changes[0].new_fact_id");
        given().get("/v1/facts/" + corrected).then().statusCode(200)
                .body("message_id", equalTo(wrongAmount[0]))
                .body("replay_id", equalTo(replay))
                .body("revoked_at", nullValue())
                .body("data.amount_cents", equalTo(61250));
        given().get("/v1/facts/" + wrongAmount[1]).then().body("revoked_by", equalTo(corrected)).body("replay_id", nullValue());
        given().get("/v1/messages/" + wrongAmount[0]).then().body("fact_ids", containsInAnyOrder(wrongAmount[1], corrected));

        // The beneficiary gets a new determination on the corrected facts.
        await().atMost(Duration.ofSeconds(30)).until(() -> Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ?", beneficiary) == 1);
        String determination = (String) Sql.rows("SELECT id FROM determination WHERE beneficiary_id = ?", beneficiary).get(0).get("id");
        given().get("/v1/determinations/" + determination).then().body("checks[1].subchecks[4].result", equalTo("PASSED"))
                .body("checks[1].subchecks[4].fact_ids", contains(corrected));

        // A second replay finds nothing left to change.
        post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary))).then().statusCode(200).body("id", nullValue()).body("changes", hasSize(0));
        given().get("/v1/integrity/verify").then().body("ok", equalTo(true));
    }

    @Test
    void aReplayThatMovesAFactToItsRightKeyGivesTheOldKeyItsRightfulFactBack() {
        String beneficiary = unique("K");
        // June: an earlier message, superseded by a later one that the buggy parser put in June too.
        String june = awaitProcessed(submit(income(unique("feed"), "june", beneficiary, 2027, 6, 100, null))).path("fact_ids[0]");
        String[] misfiled = processedWithWrongFact(beneficiary, unique("m"), 5, 70000, 6, 70000, june);

        Response done = post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary), "types", List.of("income.monthly"), "reason", "month parser fix"));
        done.then().statusCode(201).body("changes.kind", containsInAnyOrder("key", "reactivated"));

        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.data.month", contains(5, 6))
                .body("facts.data.amount_cents", contains(70000, 100))
                .body("facts.replay_id", contains((String) done.path("id"), (String) done.path("id")));
        given().get("/v1/facts/" + misfiled[1]).then().body("revoked_by", notNullValue());
        given().get("/v1/integrity/verify").then().body("ok", equalTo(true));
    }

    @Test
    void aReplayUntanglesTwoFactsFiledInEachOthersMonth() {
        String beneficiary = unique("S");
        String[] mayAsJune = processedWithWrongFact(beneficiary, unique("a"), 5, 50000, 6, 50000, null);
        String[] juneAsMay = processedWithWrongFact(beneficiary, unique("b"), 6, 60000, 5, 60000, null);
        post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary))).then().statusCode(201).body("changes.kind", contains("key", "key"));
        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.data.month", contains(5, 6))
                .body("facts.data.amount_cents", contains(50000, 60000))
                .body("facts.message_id", contains(mayAsJune[0], juneAsMay[0]));
        given().get("/v1/integrity/verify").then().body("ok", equalTo(true));
    }

    @Test
    void aReplayKeepsTheRightfulFactActiveWhenANewerMessageLeavesItsKey() {
        String beneficiary = unique("Q");
        // An older June message with a wrong amount, then a newer one (really May) filed as June over it.
        String[] june = processedWithWrongFact(beneficiary, unique("j"), 6, 61250, 6, 6125, null);
        String[] may = processedWithWrongFact(beneficiary, unique("m"), 5, 70000, 6, 70000, june[1]);
        post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary))).then().statusCode(201);
        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.data.month", contains(5, 6))
                .body("facts.data.amount_cents", contains(70000, 61250))
                .body("facts.message_id", contains(may[0], june[0]));
        post("/v1/replays", Map.of("beneficiary_ids", List.of(beneficiary))).then().statusCode(200).body("changes", hasSize(0));
    }

    @Test
    void aReplayByTypeRecordsEveryBeneficiaryItReadInTheAccessLog() {
        String first = unique("I"), second = unique("I");
        for (String beneficiary : List.of(first, second)) {
            awaitProcessed(submit(org.eligo.testing.Api.message(unique("tribal-feed"), "1", "person.indian", beneficiary, Map.of("indian", true))));
        }
        String request = unique("replay-by-type");
        given().contentType("application/json").header("X-Request-Id", request)
                .body(Map.of("types", List.of("person.indian"), "dry_run", true, "reason", "who a replay by type reads"))
                .post("/v1/replays").then().statusCode(200).body("beneficiary_ids", hasSize(0));
        // The request names no beneficiary, but it read both records: its row names them.
        List<Map<String, Object>> rows = Sql.rows("SELECT ?::text = ANY (beneficiary_ids) AS first, ?::text = ANY (beneficiary_ids) AS second"
                + " FROM access_log WHERE request_id = ?", first, second, request);
        assertEquals(List.of(Map.of("first", true, "second", true)), rows);
    }

    @Test
    void badReplayRequestsAreProblems() {
        post("/v1/replays", Map.of()).then().statusCode(400).body("errors[0].pointer", equalTo("/beneficiary_ids"));
        post("/v1/replays", Map.of("types", List.of("income.weekly"))).then().statusCode(400).body("errors[0].pointer", equalTo("/types/0"));
        post("/v1/replays", Map.of("beneficiary_ids", List.of("B 1"), "dry_run", "yes")).then().statusCode(400)
                .body("errors.pointer", contains("/beneficiary_ids/0", "/dry_run"));
    }
}
