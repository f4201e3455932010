package org.eligo.ingest;

import static org.eligo.testing.Api.post;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDate;
import java.util.regex.Matcher;
import java.util.stream.Stream;

import org.eligo.testing.Sql;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.quarkus.test.junit.QuarkusTest;

/** Each class of bad input is a 400 problem+json naming the field, and stores nothing. */
@QuarkusTest
class MessageValidationTest {

    private static final String SOURCE = "validation-test";

    private static String income(String data) {
        return "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"income.monthly\", \"beneficiary_id\": \"B-1\", \"data\": " + data + "}";
    }

    private static String with(String field, String value) {
        String base = "\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"income.monthly\", \"beneficiary_id\": \"B-1\", "
                + "\"data\": {\"year\": 2027, \"month\": 4, \"amount_cents\": 1}";
        return "{" + base.replaceAll("\"" + field + "\": (\"[^\"]*\"|\\{[^}]*\\})", Matcher.quoteReplacement("\"" + field + "\": " + value)) + "}";
    }

    static Stream<Arguments> badMessages() {
        // After the test clock (eligo.clock, 2027-07-15) and after the real day too.
        String tomorrow = "2099-12-31";
        return Stream.of(
                Arguments.of("not JSON", "{\"source\": ", ""),
                Arguments.of("not an object", "[1, 2]", ""),
                Arguments.of("a string", "\"hello\"", ""),
                Arguments.of("empty body", "", ""),
                Arguments.of("trailing garbage", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1}") + " x", ""),
                Arguments.of("duplicate member", "{\"source\": \"a\", \"source\": \"b\"}", ""),
                Arguments.of("unknown type", with("type", "\"income.weekly\""), "/type"),
                Arguments.of("type not a string", with("type", "7"), "/type"),
                Arguments.of("unknown top-level field", with("source", "\"" + SOURCE + "\", \"extra\": 1"), "/extra"),
                Arguments.of("missing source", "{\"external_id\": \"x\", \"type\": \"income.monthly\", \"beneficiary_id\": \"B-1\", \"data\": {\"year\": 2027, \"month\": 4, \"amount_cents\": 1}}", "/source"),
                Arguments.of("bad source", with("source", "\"Upper\""), "/source"),
                Arguments.of("empty external_id", with("external_id", "\"\""), "/external_id"),
                Arguments.of("external_id too long", with("external_id", "\"" + "x".repeat(201) + "\""), "/external_id"),
                Arguments.of("external_id with NUL", with("external_id", "\"a\\u0000b\""), "/external_id"),
                Arguments.of("external_id with a lone surrogate", with("external_id", "\"a\\ud800b\""), "/external_id"),
                Arguments.of("bad beneficiary_id", with("beneficiary_id", "\"B 1\""), "/beneficiary_id"),
                Arguments.of("null beneficiary_id", with("beneficiary_id", "null"), "/beneficiary_id"),
                Arguments.of("bad occurred_at", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"yesterday\""), "/occurred_at"),
                Arguments.of("occurred_at without offset", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"2027-05-02T10:00:00\""), "/occurred_at"),
                Arguments.of("occurred_at year 0", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"0000-01-01T00:00:00Z\""), "/occurred_at"),
                Arguments.of("occurred_at year 10000", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"+10000-01-01T00:00:00Z\""), "/occurred_at"),
                Arguments.of("occurred_at offset into year 0", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"0001-01-01T00:00:00+18:00\""), "/occurred_at"),
                Arguments.of("occurred_at without seconds", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"2027-05-02T10:00Z\""), "/occurred_at"),
                Arguments.of("occurred_at in nanoseconds", with("source", "\"" + SOURCE + "\", \"occurred_at\": \"2027-05-02T10:00:00.1234567Z\""), "/occurred_at"),
                Arguments.of("data missing", "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"income.monthly\", \"beneficiary_id\": \"B-1\"}", "/data"),
                Arguments.of("data not an object", income("[]"), "/data"),
                Arguments.of("unknown data field", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"bonus\": 2}"), "/data/bonus"),
                Arguments.of("month a string", income("{\"year\": 2027, \"month\": \"4\", \"amount_cents\": 1}"), "/data/month"),
                Arguments.of("month 13", income("{\"year\": 2027, \"month\": 13, \"amount_cents\": 1}"), "/data/month"),
                Arguments.of("month 0", income("{\"year\": 2027, \"month\": 0, \"amount_cents\": 1}"), "/data/month"),
                Arguments.of("month fractional", income("{\"year\": 2027, \"month\": 4.5, \"amount_cents\": 1}"), "/data/month"),
                Arguments.of("year 1899", income("{\"year\": 1899, \"month\": 4, \"amount_cents\": 1}"), "/data/year"),
                Arguments.of("year 2201", income("{\"year\": 2201, \"month\": 4, \"amount_cents\": 1}"), "/data/year"),
                Arguments.of("year missing", income("{\"month\": 4, \"amount_cents\": 1}"), "/data/year"),
                Arguments.of("negative amount", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": -1}"), "/data/amount_cents"),
                Arguments.of("amount over 10^12", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1000000000001}"), "/data/amount_cents"),
                Arguments.of("huge amount", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 99999999999999999999999999999999}"), "/data/amount_cents"),
                Arguments.of("amount null", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": null}"), "/data/amount_cents"),
                Arguments.of("hours over 744", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"hours\": 744.5}"), "/data/hours"),
                Arguments.of("hours negative", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"hours\": -0.5}"), "/data/hours"),
                Arguments.of("hours too precise", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"hours\": 1e-999999}"), "/data/hours"),
                Arguments.of("hours a string", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"hours\": \"35\"}"), "/data/hours"),
                Arguments.of("employers negative", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"employers\": -1}"), "/data/employers"),
                Arguments.of("employers fractional", income("{\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"employers\": 1.5}"), "/data/employers"),
                Arguments.of("birth_date in the future",
                        "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"person.birthdate\", \"beneficiary_id\": \"B-1\", \"data\": {\"birth_date\": \"" + tomorrow + "\"}}",
                        "/data/birth_date"),
                Arguments.of("birth_date not a date",
                        "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"person.birthdate\", \"beneficiary_id\": \"B-1\", \"data\": {\"birth_date\": \"2001-13-01\"}}",
                        "/data/birth_date"),
                Arguments.of("birth_date a number",
                        "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"person.birthdate\", \"beneficiary_id\": \"B-1\", \"data\": {\"birth_date\": 20010101}}",
                        "/data/birth_date"),
                Arguments.of("disabled missing",
                        "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"disability.status\", \"beneficiary_id\": \"B-1\", \"data\": {\"medically_frail\": true}}",
                        "/data/disabled"),
                Arguments.of("disabled a string",
                        "{\"source\": \"" + SOURCE + "\", \"external_id\": \"x\", \"type\": \"disability.status\", \"beneficiary_id\": \"B-1\", \"data\": {\"disabled\": \"yes\"}}",
                        "/data/disabled"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badMessages")
    void badInputIsA400NamingTheField(String description, String body, String pointer) {
        post("/v1/messages", body).then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("status", equalTo(400))
                .body("title", notNullValue())
                .body("errors.pointer", hasItem(pointer));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", SOURCE));
    }
}
