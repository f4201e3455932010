package org.eligo.facts;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/** The declared fact types as the API and the OpenAPI document show them. */
@QuarkusTest
class FactTypeApiTest {

    @Test
    void everyDeclaredTypeIsListedWithItsKeyMeaningOfAbsenceAndDataSchema() {
        given().get("/v1/fact-types").then()
                .statusCode(200)
                .body("type", hasItems("income.monthly", "person.birthdate", "disability.status"))
                .body("find { it.type == 'income.monthly' }.key", equalTo("month"))
                .body("find { it.type == 'income.monthly' }.absent", equalTo("unknown"))
                .body("find { it.type == 'income.monthly' }.reference", org.hamcrest.Matchers.containsString("435.552"))
                .body("find { it.type == 'income.monthly' }.schema.oneOf[0].required", containsInAnyOrder("year", "month", "amount_cents"))
                .body("find { it.type == 'income.monthly' }.schema.oneOf[0].additionalProperties", equalTo(false))
                .body("find { it.type == 'income.monthly' }.schema.oneOf[0].properties.hours.multipleOf", equalTo(0.01f))
                .body("find { it.type == 'income.monthly' }.schema.oneOf[0].properties.month.maximum", equalTo(12))
                .body("find { it.type == 'person.birthdate' }.key", equalTo("person"))
                .body("find { it.type == 'person.birthdate' }.schema.oneOf[0].properties.birth_date.format", equalTo("date"))
                .body("find { it.type == 'disability.status' }.absent", equalTo("none"))
                .body("find { it.type == 'disability.status' }.schema.oneOf[0].properties.medically_frail.default", equalTo(false))
                // The second alternative: a withdrawal, the key's fields and "withdrawn": true.
                .body("find { it.type == 'income.monthly' }.schema.oneOf[1].required", containsInAnyOrder("year", "month", "withdrawn"))
                .body("find { it.type == 'income.monthly' }.schema.oneOf[1].properties.keySet()", containsInAnyOrder("year", "month", "withdrawn"))
                .body("find { it.type == 'person.birthdate' }.schema.oneOf[1].required", contains("withdrawn"));
    }

    @Test
    void theOpenApiDocumentDescribesEachTypesDataFromItsDeclaration() {
        given().get("/q/openapi?format=json").then()
                .statusCode(200)
                .body("components.schemas.FactTypeName.enum", hasItems("income.monthly", "person.birthdate", "disability.status"))
                .body("components.schemas.FactData.oneOf.'$ref'", hasItems("#/components/schemas/IncomeMonthlyData",
                        "#/components/schemas/PersonBirthdateData", "#/components/schemas/DisabilityStatusData"))
                .body("components.schemas.IncomeMonthlyData.oneOf[0].required", contains("year", "month", "amount_cents"))
                .body("components.schemas.IncomeMonthlyData.oneOf[0].properties.amount_cents.maximum", equalTo(1000000000000L))
                .body("components.schemas.IncomeMonthlyData.oneOf[1].properties.withdrawn.enum", contains(true))
                .body("components.schemas.MessageSubmission.properties.type.'$ref'", equalTo("#/components/schemas/FactTypeName"))
                .body("components.schemas.MessageSubmission.properties.data.'$ref'", equalTo("#/components/schemas/FactData"))
                .body("paths.'/v1/fact-types'.get", org.hamcrest.Matchers.notNullValue());
    }

    @Test
    void hoursKeepTwoDecimalPlacesAsTheDeclarationSays() {
        given().contentType("application/json")
                .body("{\"source\": \"decl-test\", \"external_id\": \"x-1\", \"type\": \"income.monthly\", \"beneficiary_id\": \"B-DECL-1\","
                        + " \"data\": {\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"hours\": 1.005}}")
                .post("/v1/messages").then()
                .statusCode(400)
                .body("errors.pointer", contains("/data/hours"));
    }
}
