package org.eligo.auth;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.eligo.testing.Sql;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/** The contract's "Who may do what", endpoint by endpoint and role by role, with authentication on. */
@QuarkusTest
@TestProfile(AuthEnabledProfile.class)
class AuthTest {

    private static final String AGENCY = "agency", CASEWORKER = "caseworker", ANALYST = "analyst";
    private static final Set<String> READERS = Set.of(CASEWORKER, ANALYST);
    private static final Set<String> ANALYSTS = Set.of(ANALYST);
    private static final Set<String> EVERYONE = Set.of(AGENCY, CASEWORKER, ANALYST);

    /** One call per endpoint, with who may make it. Bodies are minimal: an allowed call may still be a 400 or 404. */
    private record Call(String method, String template, String path, String body, Set<String> allowed) {
    }

    private static final String DET = "det_01ARZ3NDEKTSV4RRFFQ69G5FAV";
    private static final List<Call> CALLS = List.of(
            new Call("POST", "/v1/messages", "/v1/messages", "{}", Set.of(AGENCY)),
            new Call("GET", "/v1/messages", "/v1/messages?status=FAILED", null, Set.of(AGENCY, ANALYST)),
            new Call("POST", "/v1/messages/batch", "/v1/messages/batch", "{}", Set.of(AGENCY)),
            new Call("POST", "/v1/messages/import", "/v1/messages/import", "{}", Set.of(AGENCY)),
            new Call("GET", "/v1/imports", "/v1/imports", null, Set.of(AGENCY, ANALYST)),
            new Call("GET", "/v1/imports/{id}", "/v1/imports/imp_01ARZ3NDEKTSV4RRFFQ69G5FAV", null, Set.of(AGENCY, ANALYST)),
            new Call("GET", "/v1/messages/{id}", "/v1/messages/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV", null, Set.of(AGENCY, CASEWORKER, ANALYST)),
            new Call("POST", "/v1/messages/retry", "/v1/messages/retry", "{\"limit\": 1}", ANALYSTS),
            new Call("POST", "/v1/messages/{id}/retry", "/v1/messages/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV/retry", null, ANALYSTS),
            new Call("GET", "/v1/fact-types", "/v1/fact-types", null, Set.of(AGENCY, CASEWORKER, ANALYST)),
            new Call("GET", "/v1/facts/{id}", "/v1/facts/fact_01ARZ3NDEKTSV4RRFFQ69G5FAV", null, READERS),
            new Call("GET", "/v1/beneficiaries/{beneficiary_id}/facts", "/v1/beneficiaries/B-auth/facts", null, READERS),
            new Call("GET", "/v1/beneficiaries/{beneficiary_id}/messages", "/v1/beneficiaries/B-auth/messages", null, READERS),
            new Call("POST", "/v1/beneficiaries/{beneficiary_id}/determinations", "/v1/beneficiaries/B-auth/determinations", "{}", READERS),
            new Call("GET", "/v1/beneficiaries/{beneficiary_id}/determinations", "/v1/beneficiaries/B-auth/determinations", null, READERS),
            new Call("POST", "/v1/beneficiaries/{beneficiary_id}/evaluations", "/v1/beneficiaries/B-auth/evaluations", "{}", READERS),
            new Call("GET", "/v1/determinations/{id}", "/v1/determinations/" + DET, null, READERS),
            new Call("GET", "/v1/determinations/{a}/diff/{b}", "/v1/determinations/" + DET + "/diff/" + DET, null, READERS),
            new Call("POST", "/v1/determinations/queue/redrive", "/v1/determinations/queue/redrive?beneficiary_id=B-auth", null, ANALYSTS),
            new Call("GET", "/v1/rulesets", "/v1/rulesets", null, READERS),
            new Call("GET", "/v1/rulesets/{id}", "/v1/rulesets/none", null, READERS),
            new Call("GET", "/v1/rulesets/{id}/versions/{sha256}", "/v1/rulesets/none/versions/none", null, READERS),
            new Call("GET", "/v1/stats", "/v1/stats", null, ANALYSTS),
            new Call("GET", "/v1/reports/outcomes", "/v1/reports/outcomes?period=2027-06", null, ANALYSTS),
            new Call("GET", "/v1/reports/transitions", "/v1/reports/transitions?period=2027-06", null, ANALYSTS),
            new Call("POST", "/v1/reruns", "/v1/reruns", "{}", ANALYSTS),
            new Call("GET", "/v1/reruns/{id}", "/v1/reruns/run_01ARZ3NDEKTSV4RRFFQ69G5FAV", null, ANALYSTS),
            new Call("POST", "/v1/reruns/{id}/cancel", "/v1/reruns/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", null, ANALYSTS),
            new Call("POST", "/v1/reruns/{id}/retry", "/v1/reruns/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/retry", null, ANALYSTS),
            new Call("GET", "/v1/reruns/{id}/changes", "/v1/reruns/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/changes", null, ANALYSTS),
            new Call("POST", "/v1/replays", "/v1/replays", "{}", ANALYSTS),
            new Call("GET", "/v1/integrity/verify", "/v1/integrity/verify?full=false", null, ANALYSTS),
            new Call("GET", "/v1/integrity/public-key", "/v1/integrity/public-key", null, EVERYONE),
            new Call("POST", "/v1/integrity/verifications", "/v1/integrity/verifications", null, ANALYSTS),
            new Call("GET", "/v1/integrity/verifications/{id}", "/v1/integrity/verifications/ver_01ARZ3NDEKTSV4RRFFQ69G5FAV", null, ANALYSTS),
            new Call("GET", "/v1/determinations/{id}/receipt", "/v1/determinations/det_01ARZ3NDEKTSV4RRFFQ69G5FAV/receipt", null, READERS),
            new Call("GET", "/v1/access-log", "/v1/access-log", null, ANALYSTS));

    private static Response call(RequestSpecification request, Call call) {
        if (call.body() != null) {
            request = request.contentType("application/json").body(call.body());
        }
        return request.request(call.method(), call.path());
    }

    private static String tokenFor(String role) {
        return switch (role) {
            case AGENCY -> Tokens.agency("any-source");
            case CASEWORKER -> Tokens.caseworker();
            default -> Tokens.analyst();
        };
    }

    /** "METHOD /path" for every operation the OpenAPI document lists. */
    private static Set<String> documentedOperations() {
        Map<String, Map<String, Object>> paths = given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .extract().path("paths");
        Set<String> documented = new TreeSet<>();
        paths.forEach((path, operations) -> operations.keySet().stream()
                .filter(method -> Set.of("get", "post", "put", "patch", "delete").contains(method))
                .forEach(method -> documented.add(method.toUpperCase() + " " + path)));
        return documented;
    }

    @Test
    void theMatrixCoversEveryEndpointOfTheApi() {
        Set<String> documented = documentedOperations();
        Set<String> covered = new TreeSet<>();
        CALLS.forEach(call -> covered.add(call.method() + " " + call.template()));
        assertEquals(documented, covered);
    }

    @jakarta.inject.Inject
    Endpoints endpoints;

    @Test
    void theGateKnowsEveryEndpointOfTheApiAndNoOther() {
        Set<String> documented = documentedOperations();
        assertEquals(documented, new TreeSet<>(endpoints.describe()));
    }

    @Test
    void eachRoleMayDoExactlyWhatTheContractSays() {
        List<String> wrong = new ArrayList<>();
        for (Call call : CALLS) {
            for (String role : List.of(AGENCY, CASEWORKER, ANALYST)) {
                Response response = call(given().auth().oauth2(tokenFor(role)), call);
                int status = response.statusCode();
                boolean refused = status == 403;
                if (refused == call.allowed().contains(role) || status == 401 || status >= 500) {
                    wrong.add(role + " " + call.method() + " " + call.path() + " -> " + status);
                }
                if (refused) {
                    response.then().contentType("application/problem+json").body("status", equalTo(403)).body("errors", empty());
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void noTokenOrABadOneIs401() {
        String expired = Tokens.sign("auth/private.pem", Tokens.ISSUER, "old", List.of("analyst"), List.of(), Duration.ofSeconds(-3600));
        String otherIssuer = Tokens.sign("auth/private.pem", "someone-else", "x", List.of("analyst"), List.of(), Duration.ofMinutes(5));
        String otherKey = Tokens.sign("auth/other-private.pem", Tokens.ISSUER, "x", List.of("analyst"), List.of(), Duration.ofMinutes(5));
        for (Call call : CALLS) {
            call(given(), call).then().statusCode(401).contentType("application/problem+json").header("WWW-Authenticate", "Bearer")
                    .body("errors", empty());
        }
        for (String token : List.of("not-a-jwt", expired, otherIssuer, otherKey)) {
            given().auth().oauth2(token).get("/v1/rulesets").then().statusCode(401).contentType("application/problem+json");
        }
        // Operations stay reachable for probes and scraping.
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
    }

    @Test
    void aTokenWithoutAKnownRoleIs403() {
        String token = Tokens.token("nobody", List.of("admin"), List.of());
        given().auth().oauth2(token).get("/v1/rulesets").then().statusCode(403).contentType("application/problem+json");
    }

    @Test
    void anAgencySubmitsAndReadsOnlyForItsSources() {
        String mine = unique("mine"), theirs = unique("theirs");
        String agency = Tokens.agency(mine);
        String id = given().auth().oauth2(agency).contentType("application/json")
                .body(income(mine, "1", unique("B"), 2027, 6, 100, null)).post("/v1/messages")
                .then().statusCode(202).extract().path("id");
        given().auth().oauth2(agency).get("/v1/messages/" + id).then().statusCode(200).body("source", equalTo(mine));

        given().auth().oauth2(agency).contentType("application/json")
                .body(income(theirs, "1", unique("B"), 2027, 6, 100, null)).post("/v1/messages")
                .then().statusCode(403).contentType("application/problem+json");
        // One foreign item refuses the whole batch: nothing of it is stored.
        given().auth().oauth2(agency).contentType("application/json")
                .body(Map.of("messages", List.of(income(mine, "2", unique("B"), 2027, 6, 1, null), income(theirs, "2", unique("B"), 2027, 6, 1, null))))
                .post("/v1/messages/batch").then().statusCode(403);
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", theirs));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE source = ?", mine));

        String other = given().auth().oauth2(Tokens.agency(theirs)).contentType("application/json")
                .body(income(theirs, "3", unique("B"), 2027, 6, 100, null)).post("/v1/messages")
                .then().statusCode(202).extract().path("id");
        given().auth().oauth2(agency).get("/v1/messages/" + other).then().statusCode(403);
        given().auth().oauth2(Tokens.caseworker()).get("/v1/messages/" + other).then().statusCode(200);
    }

    @Test
    void anImportStoresOnlyTheLinesOfItsTokensSourcesAndOnlyItsSenderAndAnalystsReadIt() {
        String mine = unique("mine"), theirs = unique("theirs");
        String agency = Tokens.token(unique("agency"), List.of("agency"), List.of(mine));
        String file = "{\"source\":\"" + mine + "\",\"external_id\":\"1\",\"type\":\"income.monthly\",\"beneficiary_id\":\"B-imp\","
                + "\"data\":{\"year\":2027,\"month\":6,\"amount_cents\":100}}\n"
                + "{\"source\":\"" + theirs + "\",\"external_id\":\"1\",\"type\":\"income.monthly\",\"beneficiary_id\":\"B-imp\","
                + "\"data\":{\"year\":2027,\"month\":6,\"amount_cents\":100}}\n";
        String id = given().auth().oauth2(agency).contentType("application/x-ndjson").body(file.getBytes(java.nio.charset.StandardCharsets.UTF_8)).post("/v1/messages/import")
                .then().statusCode(202).extract().path("id");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
                "DONE".equals(given().auth().oauth2(agency).get("/v1/imports/" + id).path("status")));
        given().auth().oauth2(agency).get("/v1/imports/" + id).then().statusCode(200)
                .body("new_lines", equalTo(1)).body("invalid_lines", equalTo(1))
                .body("rejected[0].line", equalTo(2)).body("rejected[0].errors[0].pointer", equalTo("/source"));
        assertEquals(1, Sql.count("SELECT count(*) FROM message WHERE source = ?", mine));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", theirs));
        given().auth().oauth2(Tokens.token(unique("agency"), List.of("agency"), List.of(mine))).get("/v1/imports/" + id)
                .then().statusCode(403).contentType("application/problem+json");
        given().auth().oauth2(Tokens.analyst()).get("/v1/imports/" + id).then().statusCode(200);
        // Lists: the sender's own imports for an agency, every one for an analyst.
        List<String> own = given().auth().oauth2(agency).queryParam("limit", 500).get("/v1/imports").then().statusCode(200).extract().path("items.id");
        assertEquals(List.of(id), own);
        List<String> another = given().auth().oauth2(Tokens.token(unique("agency"), List.of("agency"), List.of(mine))).get("/v1/imports")
                .then().statusCode(200).extract().path("items.id");
        assertEquals(List.of(), another);
        given().auth().oauth2(Tokens.analyst()).queryParam("limit", 500).get("/v1/imports").then().statusCode(200)
                .body("items.id", org.hamcrest.Matchers.hasItem(id));
    }

    @Test
    void aRerunRecordsWhoAskedForIt() {
        String id = given().auth().oauth2(Tokens.analyst()).contentType("application/json")
                .body(Map.of("scope", "beneficiaries", "beneficiary_ids", List.of(unique("B")), "period", "2027-07"))
                .post("/v1/reruns").then().statusCode(202).extract().path("id");
        given().auth().oauth2(Tokens.analyst()).get("/v1/reruns/" + id).then().statusCode(200).body("requested_by", equalTo("ana"));
        given().auth().oauth2(Tokens.analyst()).get("/v1/reruns/" + id).then().header("X-Request-Id", not(oneOf("", null)));
    }
    @Test
    void anAgencyListsTheFailedMessagesOfItsOwnSourcesOnly() {
        String mine = unique("fail-mine"), theirs = unique("fail-theirs");
        List<String> ids = new ArrayList<>();
        for (String source : List.of(mine, theirs)) {
            String id = "msg_" + com.github.f4b6a3.ulid.UlidCreator.getMonotonicUlid();
            Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'p', 'income.monthly', ?, ?::jsonb)",
                    id, source, unique("BF"), "{\"year\": 2027, \"month\": \"April\", \"amount_cents\": 1}");
            org.eligo.testing.TestLedger.adoptMessages(id);
            ids.add(id);
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(
                () -> Sql.count("SELECT count(*) FROM message WHERE id IN (?, ?) AND status = 'FAILED'", ids.get(0), ids.get(1)) == 2);
        List<String> seen = given().auth().oauth2(Tokens.agency(mine)).queryParam("status", "FAILED").queryParam("limit", 500).get("/v1/messages")
                .then().statusCode(200).extract().path("items.source");
        assertEquals(Set.of(mine), new TreeSet<>(seen), "an agency sees its own sources' failed messages only");
        List<String> all = given().auth().oauth2(Tokens.analyst()).queryParam("status", "FAILED").queryParam("limit", 500).get("/v1/messages")
                .then().statusCode(200).extract().path("items.id");
        org.hamcrest.MatcherAssert.assertThat(all, org.hamcrest.Matchers.hasItems(ids.get(0), ids.get(1)));
    }
}
