package org.eligo.facts;

import static org.eligo.testing.Api.post;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import static io.restassured.RestAssured.given;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.eligo.testing.Api;
import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.quarkus.test.junit.QuarkusTest;

/**
 * The fact types of the ruleset contract, version 2 ("Fact types it reads"), as shipped in
 * rules/fact-types/: each listed with its key kind and meaning of absence, each accepted with good
 * data (one by one and in a batch) and each refusing bad data with a 400 naming the field.
 */
@QuarkusTest
class ShippedFactTypesTest {

    private static final String SOURCE = "shipped-types-test";

    /** type, key kind, absent: the contract's table. */
    static Stream<Arguments> contractTypes() {
        return Stream.of(
                Arguments.of("person.birthdate", "person", "unknown"),
                Arguments.of("person.indian", "person", "none"),
                Arguments.of("person.former_foster_care", "person", "none"),
                Arguments.of("disability.status", "person", "none"),
                Arguments.of("income.monthly", "month", "unknown"),
                Arguments.of("activity.monthly", "month", "none"),
                Arguments.of("coverage.monthly", "month", "none"),
                Arguments.of("hardship.county", "month", "none"),
                Arguments.of("review.context", "month", "none"),
                Arguments.of("incarceration.episode", "episode", "none"),
                Arguments.of("pregnancy.episode", "episode", "none"),
                Arguments.of("caretaker.episode", "episode", "none"),
                Arguments.of("veteran.disability", "episode", "none"),
                Arguments.of("frailty.episode", "episode", "none"),
                Arguments.of("tanf.episode", "episode", "none"),
                Arguments.of("snap.episode", "episode", "none"),
                Arguments.of("treatment.episode", "episode", "none"),
                Arguments.of("inpatient.episode", "episode", "none"),
                Arguments.of("medical_travel.episode", "episode", "none"));
    }

    /** A good data object per type, with every optional field the contract names. */
    static Map<String, Map<String, Object>> good() {
        Map<String, Object> episode = Map.of("episode_id", "e-1", "start", "2027-02-01", "end", "2027-05-31");
        return Map.ofEntries(
                Map.entry("person.birthdate", Map.of("birth_date", "1990-01-01")),
                Map.entry("person.indian", Map.of("indian", true)),
                Map.entry("person.former_foster_care", Map.of("former_foster_care", true)),
                Map.entry("disability.status", Map.of("disabled", false, "medically_frail", true)),
                Map.entry("income.monthly", Map.of("year", 2027, "month", 5, "amount_cents", 40000, "hours", 31.25,
                        "allocated_income_cents", 20000, "employers", 2, "seasonal_worker", true)),
                Map.entry("activity.monthly", Map.of("year", 2027, "month", 5, "community_service_hours", 10.5, "work_program_hours", 4,
                        "education_hours", 12.25, "education_credits", 3.5, "half_time_student", false)),
                Map.entry("coverage.monthly", Map.of("year", 2027, "month", 5, "group", "section_1115", "medicare", false)),
                Map.entry("hardship.county", Map.of("year", 2027, "month", 5, "disaster", true, "high_unemployment", false)),
                Map.entry("review.context", Map.of("year", 2027, "month", 7, "kind", "renewal", "period_start", "2026-07-01")),
                Map.entry("incarceration.episode", episode),
                Map.entry("pregnancy.episode", Map.of("episode_id", "p-17", "start", "2027-03-02")),
                Map.entry("caretaker.episode", Map.of("episode_id", "c-1", "start", "2020-01-01", "dependent_birth_date", "2019-11-30",
                        "dependent_disabled", false)),
                Map.entry("veteran.disability", Map.of("episode_id", "va-1", "start", "2024-01-01", "rating_percent", 70,
                        "total_by_unemployability", true)),
                Map.entry("frailty.episode", episode),
                Map.entry("tanf.episode", episode),
                Map.entry("snap.episode", episode),
                Map.entry("treatment.episode", episode),
                Map.entry("inpatient.episode", Map.of("episode_id", "h-1", "start", "2027-04-03", "end", "2027-04-20", "requested", true)),
                Map.entry("medical_travel.episode", Map.of("episode_id", "t-1", "start", "2027-04-03", "requested", false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contractTypes")
    void everyContractTypeIsListedWithItsKeyAndMeaningOfAbsence(String type, String key, String absent) {
        given().get("/v1/fact-types").then().statusCode(200)
                .body("find { it.type == '" + type + "' }.key", equalTo(key))
                .body("find { it.type == '" + type + "' }.absent", equalTo(absent))
                .body("find { it.type == '" + type + "' }.schema.oneOf[0].additionalProperties", equalTo(false));
    }

    @Test
    void theListHoldsTheContractsTypesAndNoOthers() {
        given().get("/v1/fact-types").then().statusCode(200)
                .body("type", containsInAnyOrder(contractTypes().map(a -> a.get()[0]).toArray()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contractTypes")
    void goodDataOfEveryTypeBecomesAFact(String type, String key, String absent) {
        String beneficiary = Api.unique("B-SHIP");
        String id = Api.submit(Api.message(SOURCE, Api.unique("one"), type, beneficiary, good().get(type)));
        Api.awaitProcessed(id);
        assertEquals(1, Sql.count("SELECT count(*) FROM fact WHERE message_id = ? AND type = ? AND revoked_at IS NULL", id, type));
    }

    @Test
    void aBatchWithEveryTypeIsAccepted() {
        String beneficiary = Api.unique("B-SHIPB");
        List<Map<String, Object>> messages = contractTypes()
                .map(a -> (String) a.get()[0])
                .map(type -> Api.message(SOURCE, Api.unique("batch"), type, beneficiary, good().get(type)))
                .toList();
        List<String> ids = Api.submitBatch(messages);
        assertEquals(19, ids.size());
        ids.forEach(Api::awaitProcessed);
        assertEquals(19, Sql.count("SELECT count(DISTINCT type) FROM fact WHERE beneficiary_id = ? AND revoked_at IS NULL", beneficiary));
    }

    static Stream<Arguments> badData() {
        return Stream.of(
                Arguments.of("person.indian", Map.of("indian", "yes"), "/data/indian"),
                Arguments.of("person.indian", Map.of(), "/data/indian"),
                Arguments.of("person.former_foster_care", Map.of("former_foster_care", 1), "/data/former_foster_care"),
                Arguments.of("income.monthly", Map.of("year", 2027, "month", 5, "amount_cents", 1, "allocated_income_cents", -1), "/data/allocated_income_cents"),
                Arguments.of("income.monthly", Map.of("year", 2027, "month", 5, "amount_cents", 1, "seasonal_worker", "no"), "/data/seasonal_worker"),
                Arguments.of("activity.monthly", Map.of("year", 2027, "month", 5, "community_service_hours", 744.01), "/data/community_service_hours"),
                Arguments.of("activity.monthly", Map.of("year", 2027, "month", 5, "education_credits", 60.5), "/data/education_credits"),
                Arguments.of("activity.monthly", Map.of("year", 2027, "month", 5, "education_credits", 1.005), "/data/education_credits"),
                Arguments.of("activity.monthly", Map.of("year", 2027, "month", 5, "work_program_hours", -1), "/data/work_program_hours"),
                Arguments.of("coverage.monthly", Map.of("year", 2027, "month", 5, "group", "expansion", "medicare", false), "/data/group"),
                Arguments.of("coverage.monthly", Map.of("year", 2027, "month", 5, "group", "adult"), "/data/medicare"),
                Arguments.of("hardship.county", Map.of("year", 2027, "month", 5, "disaster", true), "/data/high_unemployment"),
                Arguments.of("review.context", Map.of("year", 2027, "month", 7, "kind", "redetermination"), "/data/kind"),
                Arguments.of("review.context", Map.of("year", 2027, "month", 7, "kind", "renewal"), "/data/period_start"),
                Arguments.of("review.context", Map.of("year", 2027, "month", 7, "kind", "change", "period_start", "2027-02-30"), "/data/period_start"),
                Arguments.of("incarceration.episode", Map.of("episode_id", "i-1", "start", "2027-05-01", "end", "2027-04-30"), "/data/end"),
                Arguments.of("incarceration.episode", Map.of("episode_id", "i-1", "start", "2099-01-01"), "/data/start"),
                Arguments.of("pregnancy.episode", Map.of("start", "2027-01-01"), "/data/episode_id"),
                Arguments.of("pregnancy.episode", Map.of("episode_id", "", "start", "2027-01-01"), "/data/episode_id"),
                Arguments.of("caretaker.episode", Map.of("episode_id", "c-1", "start", "2027-01-01"), "/data"),
                Arguments.of("caretaker.episode", Map.of("episode_id", "c-1", "start", "2027-01-01", "dependent_birth_date", "soon"), "/data/dependent_birth_date"),
                Arguments.of("veteran.disability", Map.of("episode_id", "va-1", "start", "2027-01-01", "rating_percent", 101), "/data/rating_percent"),
                Arguments.of("veteran.disability", Map.of("episode_id", "va-1", "start", "2027-01-01"), "/data/rating_percent"),
                Arguments.of("frailty.episode", Map.of("episode_id", "f-1", "start", "2027-01-01", "severity", 3), "/data/severity"),
                Arguments.of("tanf.episode", Map.of("episode_id", "t-1"), "/data/start"),
                Arguments.of("snap.episode", Map.of("episode_id", "s-1", "start", 20270101), "/data/start"),
                Arguments.of("treatment.episode", Map.of("episode_id", "x".repeat(101), "start", "2027-01-01"), "/data/episode_id"),
                Arguments.of("inpatient.episode", Map.of("episode_id", "h-1", "start", "2027-01-01", "requested", "yes"), "/data/requested"),
                Arguments.of("medical_travel.episode", Map.of("episode_id", "m-1", "start", "2027-01-01", "end", "2026-12-31"), "/data/end"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badData")
    void badDataIsA400NamingTheField(String type, Map<String, Object> data, String pointer) {
        String beneficiary = Api.unique("B-SHIPX");
        post("/v1/messages", Api.message(SOURCE, Api.unique("bad"), type, beneficiary, data)).then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("errors.pointer", hasItem(pointer));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE beneficiary_id = ?", beneficiary));
    }

    @Test
    void aReviewAtApplicationNeedsNoPeriodStartAndACaretakerEpisodeIsWithdrawnByItsIdAlone() {
        String beneficiary = Api.unique("B-SHIPR");
        Api.awaitProcessed(Api.submit(Api.message(SOURCE, Api.unique("app"), "review.context", beneficiary,
                Map.of("year", 2027, "month", 7, "kind", "application"))));
        Api.awaitProcessed(Api.submit(Api.message(SOURCE, Api.unique("care"), "caretaker.episode", beneficiary,
                Map.of("episode_id", "c-9", "start", "2026-01-01", "dependent_disabled", true))));
        Api.awaitProcessed(Api.submit(Api.message(SOURCE, Api.unique("care-w"), "caretaker.episode", beneficiary,
                Map.of("episode_id", "c-9", "withdrawn", true))));
        assertEquals(1, Sql.count("SELECT count(*) FROM fact WHERE beneficiary_id = ? AND type = 'review.context' AND revoked_at IS NULL", beneficiary));
        assertEquals(1, Sql.count("SELECT count(*) FROM fact WHERE beneficiary_id = ? AND type = 'caretaker.episode' AND revoked_at IS NOT NULL", beneficiary));
    }

    @Test
    void theSchemasSayWhatCrossFieldRequirementsHold() {
        given().get("/v1/fact-types").then().statusCode(200)
                .body("find { it.type == 'caretaker.episode' }.schema.oneOf[0].allOf[0].anyOf.required",
                        containsInAnyOrder(List.of("dependent_birth_date"), List.of("dependent_disabled")))
                .body("find { it.type == 'review.context' }.schema.oneOf[0].allOf[0].anyOf[0].required", equalTo(List.of("period_start")))
                .body("find { it.type == 'review.context' }.schema.oneOf[0].allOf[0].anyOf[1].properties.kind.const", equalTo("application"));
    }
}
