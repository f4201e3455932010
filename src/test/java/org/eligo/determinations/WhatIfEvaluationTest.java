package org.eligo.determinations;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * A what-if evaluation: the ruleset's parameters (a state option, a date, a switch) taking other
 * values for one answer that is not stored, and the answer saying which it used.
 */
@QuarkusTest
class WhatIfEvaluationTest {

    private static String evaluations(String beneficiary) {
        return "/v1/beneficiaries/" + beneficiary + "/evaluations";
    }

    @Test
    void aThreeMonthApplicationReviewLooksAtThreeMonthsAndNamesTheChoice() {
        String beneficiary = unique("W");
        awaitProcessed(submit(income(unique("wi"), "1", beneficiary, 2027, 6, 60000, null)));

        post(evaluations(beneficiary), Map.of("period", "2027-07")).then().statusCode(200)
                .body("checks.id", contains("not_applicable", "month_2027_06"))
                .body("result", equalTo("PASSED"))
                .body("ruleset", not(hasKey("parameters")));

        post(evaluations(beneficiary), Map.of("period", "2027-07", "parameters", Map.of("application_review_months", 3))).then().statusCode(200)
                .body("id", nullValue())
                .body("ruleset.id", equalTo("medicaid-community-engagement"))
                .body("ruleset.version", equalTo("2027.2"))
                .body("ruleset.parameters.application_review_months", equalTo(3))
                .body("checks.id", contains("not_applicable", "month_2027_06", "month_2027_05", "month_2027_04"))
                .body("checks.find { it.id == 'month_2027_06' }.result", equalTo("PASSED"))
                .body("checks.find { it.id == 'month_2027_05' }.result", equalTo("NO_DATA"))
                .body("result", equalTo("NO_DATA"));

        // Not stored: the beneficiary's history holds only what ingest made.
        given().get("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(200)
                .body("items.trigger", everyItem(equalTo("ingest")));
    }

    @Test
    void aDateAndASwitchTakeValuesOfTheirKind() {
        String beneficiary = unique("W");
        awaitProcessed(submit(income(unique("wi"), "1", beneficiary, 2027, 6, 60000, null)));

        // A later implementation date: July 2027 is before the requirement, so nothing is assessed.
        post(evaluations(beneficiary), Map.of("period", "2027-07", "parameters", Map.of("implementation_date", "2027-09-01"))).then().statusCode(200)
                .body("ruleset.parameters.implementation_date", equalTo("2027-09-01"))
                .body("result", equalTo("SKIPPED"));
        post(evaluations(beneficiary), Map.of("period", "2027-07", "parameters", Map.of("hardship_exception", false, "income_as_hours", true)))
                .then().statusCode(200)
                .body("ruleset.parameters.hardship_exception", equalTo(false))
                .body("ruleset.parameters.income_as_hours", equalTo(true))
                .body("result", equalTo("PASSED"));
    }

    @Test
    void aWrongParameterIsA400NamingIt() {
        String beneficiary = unique("W");
        expect400(beneficiary, Map.of("no_such_parameter", 1), "/parameters/no_such_parameter", "is not a parameter of medicaid-community-engagement");
        expect400(beneficiary, Map.of("monthly_income_threshold_cents", 1), "/parameters/monthly_income_threshold_cents", "worked out from other parameters");
        expect400(beneficiary, Map.of("hardship_exception", 1), "/parameters/hardship_exception", "true or false");
        expect400(beneficiary, Map.of("implementation_date", "next year"), "/parameters/implementation_date", "YYYY-MM-DD");
        expect400(beneficiary, Map.of("application_review_months", "3"), "/parameters/application_review_months", "must be a number");
        expect400(beneficiary, Map.of("application_review_months", 2.5), "/parameters/application_review_months", "whole number");
        expect400(beneficiary, Map.of("application_review_months", -1), "/parameters/application_review_months", "from 0");
        expect400(beneficiary, Map.of("application_review_months", 13), "/parameters/application_review_months", "at most 12 months");
        post(evaluations(beneficiary), Map.of("period", "2027-07", "parameters", 3)).then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors.pointer", contains("/parameters"));
    }

    private static void expect400(String beneficiary, Map<String, Object> parameters, String pointer, String message) {
        post(evaluations(beneficiary), Map.of("period", "2027-07", "parameters", parameters)).then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors.pointer", contains(pointer))
                .body("errors[0].message", containsString(message));
    }
}
