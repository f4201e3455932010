package org.eligo.rules;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** A determination names its ruleset version by sha256; that version, with its parameters, can be read back whether or not it is loaded. */
@QuarkusTest
class RulesetVersionsTest {

    private static final String RULESET = "medicaid-community-engagement";

    @Test
    void theVersionADeterminationNamesIsReadBackWithItsDefinition() {
        String determination = post("/v1/beneficiaries/" + unique("RV") + "/determinations", Map.of("period", "2027-07"))
                .then().statusCode(201).extract().path("id");
        Response made = given().get("/v1/determinations/" + determination).then().statusCode(200).extract().response();
        String sha256 = made.path("ruleset.sha256");

        Response loaded = given().get("/v1/rulesets/" + RULESET).then().statusCode(200).extract().response();
        Response version = given().get("/v1/rulesets/" + RULESET + "/versions/" + sha256).then().statusCode(200)
                .body("id", equalTo(RULESET)).body("sha256", equalTo(sha256)).body("version", equalTo(made.path("ruleset.version")))
                .extract().response();
        assertEquals(loaded.jsonPath().getMap("definition"), version.jsonPath().getMap("definition"),
                "the recorded definition is the loaded one's, parameters included");

        for (String missing : new String[] {"0".repeat(64), "not-a-sha", sha256.toUpperCase()}) {
            given().get("/v1/rulesets/" + RULESET + "/versions/" + missing).then().statusCode(404).contentType("application/problem+json");
        }
        given().get("/v1/rulesets/another-ruleset/versions/" + sha256).then().statusCode(404);
    }
}
