package org.eligo.support;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * Throws generated malformed bodies at every write endpoint: broken JSON, wrong types, huge numbers,
 * deep nesting, invalid UTF-8, nulls, unknown fields. Every mutation is invalid by construction, so
 * every answer must be a 4xx problem+json, and nothing may be stored.
 */
@QuarkusTest
class MalformedInputTest {

    private static final String SOURCE = "fuzz-source";
    private static final String MESSAGE = "{\"source\": \"" + SOURCE + "\", \"external_id\": \"f-1\", \"type\": \"income.monthly\", \"beneficiary_id\": \"F-1\", "
            + "\"occurred_at\": \"2027-05-02T10:00:00Z\", \"data\": {\"year\": 2027, \"month\": 4, \"amount_cents\": 61250, \"hours\": 35.5, \"employers\": 1}}";
    private static final List<String[]> ENDPOINTS = List.of(
            new String[] {"/v1/messages", MESSAGE},
            new String[] {"/v1/messages/batch", "{\"messages\": [" + MESSAGE + "]}"},
            new String[] {"/v1/beneficiaries/F-1/determinations", "{\"period\": \"2027-07\", \"ruleset\": \"medicaid-community-engagement\"}"},
            new String[] {"/v1/beneficiaries/F-1/evaluations", "{\"period\": \"2027-07\", \"as_of\": \"2027-01-01T00:00:00Z\"}"},
            new String[] {"/v1/replays", "{\"beneficiary_ids\": [\"F-1\"], \"dry_run\": true, \"reason\": \"x\"}"},
            new String[] {"/v1/reruns", "{\"scope\": \"beneficiaries\", \"beneficiary_ids\": [\"F-1\"], \"period\": \"2027-07\"}"});

    /** Mutations that each make a body invalid, whatever the endpoint. */
    private static final List<Function<Random, Function<String, byte[]>>> MUTATIONS = List.of(
            r -> body -> utf8(body.substring(0, 1 + r.nextInt(body.length() - 2))),                  // broken JSON
            r -> body -> utf8(body + "}"),                                                          // trailing garbage
            r -> body -> utf8(body.replaceFirst("\"[a-z_]+\": \"[^\"]*\"", "\"period\": 12345678901234567890123456789")), // wrong type, huge
            r -> body -> utf8(body.replaceFirst("\"[a-z_]+\": ", "\"" + "x".repeat(1 + r.nextInt(40)) + "\": ")),       // unknown field
            r -> body -> utf8(body.replaceFirst(": \"[^\"]*\"", ": null").replaceFirst("\\{", "{\"zz_unknown\": null, ")), // nulls
            r -> body -> utf8("[".repeat(2000 + r.nextInt(3000)) + "]".repeat(2000)),                // deep nesting
            r -> body -> utf8(body.replaceFirst("\\{", "{\"zz\": " + "{\"a\": ".repeat(100) + "1" + "}".repeat(100) + ", ")), // nested unknown
            r -> body -> invalidUtf8(body, r),                                                      // invalid UTF-8
            r -> body -> utf8(body.replaceFirst("\\{", "{\"data\": 1e999999, \"zz\": -0.0e-99999, ")),   // huge exponents
            r -> body -> utf8(body.replace("\"", "'")),                                            // not JSON quoting
            r -> body -> utf8(body.replaceFirst("\\{", "{\"" + "\\ud800" + "\": 1, ")),                // lone surrogate key
            r -> body -> new byte[0],                                                               // empty
            r -> body -> utf8("\"" + body.replace("\"", "\\\"") + "\""),                            // a string, not an object
            r -> body -> utf8(body.replaceFirst("\\{", "{\"zz\": [" + "1,".repeat(5000) + "1], ")));     // long array, unknown

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] invalidUtf8(String body, Random random) {
        byte[] bytes = utf8(body);
        int at = 1 + random.nextInt(bytes.length - 2);
        byte[] broken = new byte[bytes.length + 2];
        System.arraycopy(bytes, 0, broken, 0, at);
        broken[at] = (byte) 0xC3;
        broken[at + 1] = (byte) 0x28;
        System.arraycopy(bytes, at, broken, at + 2, bytes.length - at);
        return broken;
    }

    @Test
    void aThousandMalformedBodiesAreAll4xxProblemsAndNothingIsStored() {
        Random random = new Random(7);
        long determinationsBefore = Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = 'F-1'");
        long rerunsBefore = Sql.count("SELECT count(*) FROM rerun");
        List<String> failures = new ArrayList<>();
        int sent = 0;
        for (int i = 0; i < 1200; i++) {
            String[] endpoint = ENDPOINTS.get(i % ENDPOINTS.size());
            byte[] body = MUTATIONS.get(random.nextInt(MUTATIONS.size())).apply(random).apply(endpoint[1]);
            Response response = given().contentType("application/json").body(body).post(endpoint[0]);
            sent++;
            int status = response.statusCode();
            String type = response.contentType();
            if (status < 400 || status >= 500 || type == null || !type.startsWith("application/problem+json")) {
                failures.add(endpoint[0] + " -> " + status + " " + type + " for " + new String(body, StandardCharsets.UTF_8)
                        .substring(0, Math.min(200, body.length)));
            }
        }
        assertEquals(1200, sent);
        assertTrue(failures.isEmpty(), failures.size() + " answers were not 4xx problem+json, e.g. " + failures.stream().limit(5).toList());
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", SOURCE), "no message stored");
        assertEquals(determinationsBefore, Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = 'F-1'"), "no determination stored");
        assertEquals(rerunsBefore, Sql.count("SELECT count(*) FROM rerun"), "no rerun stored");
    }
}
