package org.eligo.facts;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.awaitStatus;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.submitBatch;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Supersession exactly as the contract says, whatever order messages are processed in. */
@QuarkusTest
class FactSupersessionTest {

    @Inject
    Facts facts;

    private static Response fact(String id) {
        return given().get("/v1/facts/" + id).then().statusCode(200).extract().response();
    }

    private static String factOf(String messageId) {
        List<String> ids = awaitProcessed(messageId).path("fact_ids");
        assertEquals(1, ids.size(), "one fact per message");
        return ids.get(0);
    }

    @Test
    void aLaterMessageRevokesTheEarlierFact() {
        String source = unique("wage");
        String beneficiary = unique("B");
        String first = factOf(submit(income(source, "1", beneficiary, 2027, 4, 100, null)));
        String second = factOf(submit(income(source, "2", beneficiary, 2027, 4, 200, null)));

        Response revoked = fact(first);
        Response active = fact(second);
        assertEquals(second, revoked.path("revoked_by"));
        assertEquals((String) active.path("created_at"), revoked.path("revoked_at"), "revoked at the instant its successor was created");
        assertNull(active.path("revoked_at"));

        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.id", contains(second));
        given().queryParam("include_revoked", true).get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.id", containsInAnyOrder(first, second));
        // Time travel: just before the correction the first fact was the active one.
        given().queryParam("as_of", (String) revoked.path("created_at")).get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.id", contains(first))
                .body("facts[0].data.amount_cents", equalTo(100));
        given().queryParam("as_of", "2000-01-01T00:00:00Z").get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts", hasSize(0));
    }

    @Test
    void anOlderMessageProcessedAfterANewerOneIsRevokedFromBirth() {
        String source = unique("wage");
        String beneficiary = unique("B");
        String newer = submit(income(source, "new", beneficiary, 2027, 5, 200, null));
        String newerFact = factOf(newer);

        // An older message (smaller id) whose insert committed late: the case processing order must not decide.
        String older = "msg_" + UlidCreator.getUlid(System.currentTimeMillis() - 3_600_000L);
        assertTrue(older.compareTo(newer) < 0);
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'old', 'income.monthly', ?, ?::jsonb)",
                older, source, beneficiary, "{\"year\": 2027, \"month\": 5, \"amount_cents\": 100}");
        TestLedger.adoptMessages(older);
        String olderFact = factOf(older);

        Response bornRevoked = fact(olderFact);
        assertEquals(newerFact, bornRevoked.path("revoked_by"));
        assertEquals((String) bornRevoked.path("created_at"), bornRevoked.path("revoked_at"), "never active at any instant");
        assertNull(fact(newerFact).path("revoked_at"));
        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.id", contains(newerFact))
                .body("facts[0].data.amount_cents", equalTo(200));
    }

    @Test
    void correctionsInOneBatchLeaveTheLatestActive() {
        String source = unique("wage");
        String beneficiary = unique("B");
        List<String> ids = submitBatch(List.of(
                income(source, "a", beneficiary, 2027, 6, 1, null),
                income(source, "b", beneficiary, 2027, 6, 2, null),
                income(source, "c", beneficiary, 2027, 6, 3, null),
                income(source, "d", beneficiary, 2027, 7, 4, null)));
        String latest = factOf(ids.get(2));
        for (String id : ids.subList(0, 2)) {
            assertEquals(latest, fact(factOf(id)).path("revoked_by"));
        }
        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.data.amount_cents", contains(3, 4));
    }

    @Test
    void processingAMessageAgainNeverMakesASecondFact() {
        String source = unique("wage");
        String beneficiary = unique("B");
        String id = submit(income(source, "again", beneficiary, 2027, 8, 5, null));
        String factId = factOf(id);

        // As if the message had been handed out again (it cannot be through the queue): it must converge.
        Sql.update("UPDATE message SET status = 'RECEIVED' WHERE id = ?", id);
        awaitStatus(id, "PROCESSED").then()
                .body("attempts", equalTo(2))
                .body("fact_ids", contains(factId));
        assertEquals(1, Sql.count("SELECT count(*) FROM fact_income_monthly WHERE message_id = ?", id));
    }

    @Test
    void aMessagesFactsAreTheOnesItsMessageShows() {
        String source = unique("wage");
        String beneficiary = unique("B");
        String first = submit(income(source, "1", beneficiary, 2027, 10, 5, null));
        String second = submit(income(source, "2", beneficiary, 2027, 10, 6, null));
        String firstFact = factOf(first);
        String secondFact = factOf(second);
        assertEquals(secondFact, fact(firstFact).path("revoked_by"));
        assertEquals(List.of(firstFact), facts.idsOfMessage(first), "revoked by the second, still the first message's");
        assertEquals(List.of(secondFact), facts.idsOfMessage(second));
        assertEquals(List.of(), facts.idsOfMessage("msg_" + UlidCreator.getUlid()));
    }

    @Test
    void theDatabaseRefusesASecondActiveFactForAKey() {
        String source = unique("wage");
        String beneficiary = unique("B");
        String id = submit(income(source, "k", beneficiary, 2027, 9, 5, null));
        factOf(id);
        // A second message for the key, kept out of the queue, and a fact for it forced in as active.
        String other = "msg_" + UlidCreator.getUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data, status) "
                + "VALUES (?, ?, 'k2', 'income.monthly', ?, '{}'::jsonb, 'PROCESSED')", other, source, beneficiary);
        TestLedger.adoptMessages(other);

        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> Sql.update(
                "INSERT INTO fact (id, beneficiary_id, message_id, created_at, type, fact_key, data) "
                        + "VALUES ('fact_' || ?, ?, ?, now(), 'income.monthly', '2027-09', '{\"year\": 2027, \"month\": 9, \"amount_cents\": 1}')", UlidCreator.getUlid().toString(), beneficiary, other));
        assertTrue(refused.getMessage().contains("fact_active"), refused.getMessage());
    }

    @Test
    void badParametersAre400() {
        given().queryParam("as_of", "yesterday").get("/v1/beneficiaries/B-1/facts").then()
                .statusCode(400).contentType("application/problem+json").body("errors[0].parameter", equalTo("as_of"));
        given().queryParam("include_revoked", "maybe").get("/v1/beneficiaries/B-1/facts").then()
                .statusCode(400).body("errors[0].parameter", equalTo("include_revoked"));
        given().get("/v1/beneficiaries/" + "x".repeat(65) + "/facts").then()
                .statusCode(400).body("errors[0].parameter", equalTo("beneficiary_id"));
    }
}
