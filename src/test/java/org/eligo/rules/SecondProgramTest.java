package org.eligo.rules;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submitBatch;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A new program is a new folder of rule files, not new Java: the running service, given a rules
 * folder holding a second ruleset beside the Medicaid one, loads it, lists it and decides with it.
 * The test clock is 2027-07-15.
 */
@QuarkusTest
@TestProfile(TwoProgramsProfile.class)
class SecondProgramTest {

    private static final String HEATING = "senior-heating-assistance";
    private static final String MEDICAID = "medicaid-community-engagement";

    @Test
    void theServiceListsBothPrograms() {
        given().get("/v1/rulesets").then().statusCode(200)
                .body("id", contains(MEDICAID, HEATING))
                .body("find { it.id == '" + HEATING + "' }.version", equalTo("1"))
                .body("find { it.id == '" + HEATING + "' }.title", equalTo("Heating assistance for seniors (example)"))
                .body("find { it.id == '" + HEATING + "' }.sha256", matchesPattern("[0-9a-f]{64}"));
        given().get("/v1/rulesets/" + HEATING).then().statusCode(200)
                .body("id", equalTo(HEATING))
                .body("definition", notNullValue());
    }

    @Test
    void aBeneficiaryIsEvaluatedAndDeterminedUnderTheSecondProgram() {
        String source = unique("heating");
        String beneficiary = unique("B-heat");
        submitBatch(List.of(
                birthdate(source, "b", beneficiary, "1960-03-01"),
                income(source, "i6", beneficiary, 2027, 6, 90000, null),
                income(source, "i5", beneficiary, 2027, 5, 149999, null))).forEach(id -> awaitProcessed(id));

        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "ruleset", HEATING)).then().statusCode(200)
                .body("id", nullValue())
                .body("ruleset.id", equalTo(HEATING))
                .body("result", equalTo("PASSED"))
                .body("checks.id", contains("age", "low_income"))
                .body("checks[0].subchecks[0].detail", equalTo("age 67 ≥ 60 years on 2027-07-01"))
                .body("checks[1].subchecks.id", contains("income_2027_06", "income_2027_05"))
                .body("checks[1].subchecks[1].detail", equalTo("income 149999 < 150000 cents for 2027-05"));

        post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07", "ruleset", HEATING)).then().statusCode(201)
                .body("id", matchesPattern("det_[0-9A-HJKMNP-TV-Z]{26}"))
                .body("ruleset.id", equalTo(HEATING))
                .body("trigger", equalTo("request"))
                .body("result", equalTo("PASSED"));

        // The same facts under the other program, in the same service.
        post("/v1/beneficiaries/" + beneficiary + "/evaluations", Map.of("period", "2027-07", "ruleset", MEDICAID)).then().statusCode(200)
                .body("ruleset.id", equalTo(MEDICAID))
                .body("result", equalTo("PASSED"));
    }

    @Test
    void withTwoProgramsLoadedARequestMustNameOne() {
        post("/v1/beneficiaries/B-either/evaluations", Map.of("period", "2027-07")).then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors.pointer", hasItem("/ruleset"));
    }
}
