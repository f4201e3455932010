package org.eligo.facts;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.message;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * A fact type added by a declaration file and nothing else (test resources fact-types/: no Java, no
 * migration): submitted, validated, stored with a typed view, superseded, withdrawn, and read by a
 * rule of a made-up program.
 */
@QuarkusTest
@TestProfile(DeclaredTypesProfile.class)
class FactTypeDeclarationTest {

    private static final String TYPE = "example.volunteering";

    @Test
    void aDeclaredMonthTypeIsValidatedStoredSupersededWithdrawnAndReadByARule() {
        String source = unique("volunteer-feed");
        String beneficiary = unique("B");
        given().get("/v1/fact-types").then().statusCode(200)
                .body("type", hasItems(TYPE, "example.stay", "income.monthly"))
                .body("find { it.type == 'example.volunteering' }.schema.oneOf[0].properties.kind.enum", contains("community", "school"));

        // Validated from the declaration, every problem with its pointer.
        post("/v1/messages", message(source, "bad", TYPE, beneficiary, Map.of("year", 2027, "month", 13, "hours", 1.234, "kind", "garden")))
                .then().statusCode(400)
                .body("errors.pointer", contains("/data/month", "/data/hours", "/data/kind"));

        // Stored, and the rule reads it: 12 hours in the community in June pass July's check.
        String first = submit(message(source, "v-1", TYPE, beneficiary, Map.of("year", 2027, "month", 6, "hours", 12.5, "kind", "community")));
        String firstFact = factOf(first);
        given().get("/v1/facts/" + firstFact).then().statusCode(200)
                .body("type", equalTo(TYPE))
                .body("data.hours", equalTo(12.5f))
                .body("data.kind", equalTo("community"))
                .body("data.verified", equalTo(false));
        Map<String, Object> row = Sql.rows("SELECT hours, kind, verified, year, month FROM fact_example_volunteering WHERE id = ?", firstFact).get(0);
        assertEquals(0, new BigDecimal("12.5").compareTo((BigDecimal) row.get("hours")), "the typed view shows the field as a column: " + row);
        assertEquals("community", row.get("kind"));
        assertEquals(6, row.get("month"));
        Response determination = determine(beneficiary);
        determination.then()
                .body("result", equalTo("PASSED"))
                .body("checks[0].subchecks[0].id", equalTo("month_2027_06"))
                .body("checks[0].subchecks[0].fact_ids", contains(firstFact));

        // Superseded: a correction for the same month revokes the first, and the rule reads the correction.
        String second = submit(message(source, "v-2", TYPE, beneficiary, Map.of("year", 2027, "month", 6, "hours", 12.5, "kind", "school")));
        String secondFact = factOf(second);
        given().get("/v1/facts/" + firstFact).then().body("revoked_by", equalTo(secondFact));
        determine(beneficiary).then()
                .body("result", equalTo("NOT_PASSED"))
                .body("checks[0].subchecks[0].fact_ids", contains(secondFact));

        // Withdrawn: the key's fields and "withdrawn": true supersede the fact, and the month reads as having none.
        post("/v1/messages", message(source, "w-bad", TYPE, beneficiary, Map.of("year", 2027, "month", 6, "withdrawn", true, "hours", 1)))
                .then().statusCode(400).body("errors.pointer", contains("/data/hours"));
        String withdrawal = submit(message(source, "w-1", TYPE, beneficiary, Map.of("year", 2027, "month", 6, "withdrawn", true)));
        String withdrawalFact = factOf(withdrawal);
        given().get("/v1/facts/" + secondFact).then().body("revoked_by", equalTo(withdrawalFact));
        given().get("/v1/facts/" + withdrawalFact).then()
                .body("data.withdrawn", equalTo(true))
                .body("data.year", equalTo(2027))
                .body("data.hours", nullValue());
        determine(beneficiary).then()
                .body("result", equalTo("NO_DATA"))
                .body("checks[0].subchecks[0].fact_ids", empty());
        assertEquals(List.of(true), Sql.rows("SELECT withdrawn FROM fact_example_volunteering WHERE id = ?", withdrawalFact).stream()
                .map(r -> r.get("withdrawn")).toList());
    }

    @Test
    void aDeclaredEpisodeTypeIsKeyedByEpisodeIdAndCanBeWithdrawn() {
        String source = unique("stay-feed");
        String beneficiary = unique("B");
        post("/v1/messages", message(source, "bad", "example.stay", beneficiary,
                Map.of("episode_id", "s-1", "start", "2027-03-02", "end", "2027-03-01")))
                .then().statusCode(400).body("errors.pointer", contains("/data/end"));

        String open = factOf(submit(message(source, "s-1", "example.stay", beneficiary, Map.of("episode_id", "s-1", "start", "2027-03-02", "place", "A"))));
        String other = factOf(submit(message(source, "s-2", "example.stay", beneficiary, Map.of("episode_id", "s-2", "start", "2027-04-01"))));
        String closed = factOf(submit(message(source, "s-1b", "example.stay", beneficiary,
                Map.of("episode_id", "s-1", "start", "2027-03-02", "end", "2027-05-31", "place", "A"))));
        given().get("/v1/facts/" + open).then().body("revoked_by", equalTo(closed));
        given().get("/v1/facts/" + other).then().body("revoked_at", nullValue());
        assertEquals("2027-05-31", String.valueOf(Sql.rows("SELECT \"end\" FROM fact_example_stay WHERE id = ?", closed).get(0).get("end")));

        String withdrawn = factOf(submit(message(source, "s-2w", "example.stay", beneficiary, Map.of("episode_id", "s-2", "withdrawn", true))));
        given().get("/v1/facts/" + other).then().body("revoked_by", equalTo(withdrawn));
        given().get("/v1/beneficiaries/" + beneficiary + "/facts").then()
                .body("facts.id", contains(closed, withdrawn))
                .body("facts[1].data.withdrawn", equalTo(true));
    }

    private static String factOf(String messageId) {
        List<String> ids = awaitProcessed(messageId).path("fact_ids");
        assertEquals(1, ids.size(), "one fact per message");
        return ids.get(0);
    }

    private static Response determine(String beneficiary) {
        return post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07", "ruleset", "volunteering-credit"))
                .then().statusCode(201).extract().response();
    }
}
