package org.eligo.auth;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.eligo.testing.Sql;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * Whatever a request under {@code /v1} looks like, it gets a request id, exactly one access-log
 * row, and an answer that is not a 5xx: a 4xx problem (or, for OPTIONS, 204 with {@code Allow}).
 * Outside {@code /v1} nothing is recorded, and nothing is warned about.
 */
@QuarkusTest
@TestProfile(AuthEnabledProfile.class)
class OddRequestsTest {

    /** Sends the request with a fresh X-Request-Id and checks the promises every answer keeps; returns it. */
    private static Response walk(List<String> wrong, String what, RequestSpecification request, String method, String path, int expected) {
        String id = unique("odd");
        Response response = request.urlEncodingEnabled(false).header("X-Request-Id", id).request(method, path);
        int status = response.statusCode();
        long rows = Sql.count("SELECT count(*) FROM access_log WHERE request_id = ?", id);
        String type = response.contentType();
        boolean problem = status < 400 || "HEAD".equals(method) || (type != null && type.startsWith("application/problem+json"));
        if (status != expected || rows != 1 || !id.equals(response.header("X-Request-Id")) || !problem) {
            wrong.add(what + ": " + method + " " + path.substring(0, Math.min(path.length(), 80)) + " -> " + status + " " + type
                    + ", rows " + rows + ", request id " + response.header("X-Request-Id"));
        }
        return response;
    }

    @Test
    void oddMethodsAndPathsAreAnsweredAndRecorded() {
        List<String> wrong = new ArrayList<>();
        String analyst = Tokens.analyst();
        walk(wrong, "OPTIONS without a token", given(), "OPTIONS", "/v1/stats", 401);
        Response options = walk(wrong, "OPTIONS", given().auth().oauth2(analyst), "OPTIONS", "/v1/stats", 204);
        assertEquals("GET, HEAD, OPTIONS", options.header("Allow"));
        walk(wrong, "OPTIONS of an unknown path", given().auth().oauth2(analyst), "OPTIONS", "/v1/nothing-here", 404);
        walk(wrong, "unknown path", given().auth().oauth2(analyst), "GET", "/v1/nothing-here", 404);
        walk(wrong, "unknown path without a token", given(), "GET", "/v1/nothing/here", 401);
        walk(wrong, "the root of /v1", given().auth().oauth2(analyst), "GET", "/v1", 404);
        Response delete = walk(wrong, "wrong method", given().auth().oauth2(analyst), "DELETE", "/v1/stats", 405);
        assertEquals("GET, HEAD, OPTIONS", delete.header("Allow"));
        walk(wrong, "wrong method with a body", given().auth().oauth2(analyst).contentType("application/json").body("{}"), "PUT",
                "/v1/reruns", 405);
        walk(wrong, "a method HTTP does not define", given().auth().oauth2(analyst), "BREW", "/v1/stats", 405);
        walk(wrong, "HEAD", given().auth().oauth2(analyst), "HEAD", "/v1/rulesets", 200);
        walk(wrong, "trailing slash", given().auth().oauth2(analyst), "GET", "/v1/rulesets/", 200);
        walk(wrong, "encoded slash in an id", given().auth().oauth2(analyst), "GET", "/v1/facts/a%2Fb", 404);
        walk(wrong, "dot segments", given().auth().oauth2(analyst), "GET", "/v1/rulesets/../stats", 200);
        walk(wrong, "an unacceptable Accept", given().auth().oauth2(analyst).accept("image/png"), "GET", "/v1/rulesets", 406);
        walk(wrong, "a Bearer with nothing", given().header("Authorization", "Bearer "), "GET", "/v1/stats", 401);
        walk(wrong, "Basic credentials", given().header("Authorization", "Basic YTpi"), "GET", "/v1/stats", 401);
        walk(wrong, "a request line too long", given().auth().oauth2(analyst), "GET", "/v1/stats?q=" + "q".repeat(5_000), 414);
        walk(wrong, "headers too large", given().auth().oauth2(analyst).header("X-Pad", "p".repeat(30_000)), "GET", "/v1/stats", 431);
        assertEquals(List.of(), wrong);
    }

    @Test
    void everyClaimOfTheWrongJsonTypeIsA401NeverA500() {
        List<String> wrong = new ArrayList<>();
        List<Object> oddValues = List.of(42, 1.5, true, Map.of("a", 1), List.of(1, 2), List.of(List.of("analyst")), "");
        for (String claim : List.of("iss", "sub", "upn", "preferred_username", "groups", "sources", "exp", "iat", "nbf", "aud", "jti")) {
            for (Object value : oddValues) {
                Map<String, Object> claims = Tokens.analystClaims();
                claims.put(claim, value);
                Response response = given().auth().oauth2(Tokens.signClaims(claims)).urlEncodingEnabled(false)
                        .get("/v1/stats");
                int status = response.statusCode();
                String type = response.contentType();
                boolean problem = status < 400 || (type != null && type.startsWith("application/problem+json"));
                if (status >= 500 || !problem || (status != 200 && status != 401 && status != 403)) {
                    wrong.add(claim + "=" + value + " -> " + status + " " + response.asString());
                }
            }
            // The claims the service reads must be of their type: a number is never accepted.
            if (List.of("iss", "sub", "upn", "groups", "sources", "exp").contains(claim)) {
                Map<String, Object> claims = Tokens.analystClaims();
                claims.put(claim, 42);
                given().auth().oauth2(Tokens.signClaims(claims)).get("/v1/stats").then().statusCode(401)
                        .contentType("application/problem+json").body("errors", empty());
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void controlCharactersAndBrokenUtf8InAnyParameterAre400NamingIt() {
        List<String> wrong = new ArrayList<>();
        String analyst = Tokens.analyst();
        Map<String, String> parameters = Map.of(
                "subject", "%00", "beneficiary_id", "B%01", "cursor", "%7F", "limit", "1%0A", "period", "2027-07%1B",
                "as_of", "%C0%AF", "include_revoked", "%ED%A0%80", "expand", "%E2%82");
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            Response response = walk(wrong, parameter.getKey(), given().auth().oauth2(analyst), "GET",
                    "/v1/access-log?" + parameter.getKey() + "=" + parameter.getValue(), 400);
            if (response.statusCode() == 400 && !parameter.getKey().equals(response.path("errors[0].parameter"))) {
                wrong.add(parameter.getKey() + " not named: " + response.asString());
            }
        }
        Response name = walk(wrong, "a name with NUL", given().auth().oauth2(analyst), "GET", "/v1/rulesets?a%00b=1", 400);
        assertThat(name.asString(), containsString("parameter"));
        Response path = walk(wrong, "NUL in the path", given().auth().oauth2(Tokens.caseworker()), "GET", "/v1/beneficiaries/B%00/facts", 400);
        assertEquals("path", path.path("errors[0].parameter"));
        walk(wrong, "NUL in a message id", given().auth().oauth2(analyst), "GET", "/v1/messages/msg_%00", 400);
        assertEquals(List.of(), wrong);
    }

    @Test
    void aBodyThatIsNotStrictUtf8Is400AndNothingIsStored() {
        String source = unique("utf");
        String agency = Tokens.agency(source);
        List<byte[]> broken = List.of(
                new byte[] {(byte) 0xC0, (byte) 0xAF},                 // overlong '/'
                new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},    // overlong '/', three bytes
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},    // a surrogate
                new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // past U+10FFFF
                new byte[] {(byte) 0xE2, (byte) 0x82},                 // truncated
                new byte[] {(byte) 0xFF});                             // never UTF-8
        for (byte[] bad : broken) {
            byte[] head = ("{\"source\": \"" + source + "\", \"external_id\": \"a").getBytes(StandardCharsets.UTF_8);
            byte[] tail = ("b\", \"type\": \"income.monthly\", \"beneficiary_id\": \"U-1\", \"data\": {\"year\": 2027, \"month\": 4, "
                    + "\"amount_cents\": 1, \"hours\": 1, \"employers\": 1}}").getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[head.length + bad.length + tail.length];
            System.arraycopy(head, 0, body, 0, head.length);
            System.arraycopy(bad, 0, body, head.length, bad.length);
            System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
            given().auth().oauth2(agency).contentType("application/json").body(body).post("/v1/messages")
                    .then().statusCode(400).contentType("application/problem+json")
                    .body("errors[0].pointer", org.hamcrest.Matchers.equalTo("")).body("errors[0].message", containsString("UTF-8"));
            given().auth().oauth2(Tokens.analyst()).contentType("application/json").body(body).post("/v1/reruns")
                    .then().statusCode(400).body("errors[0].message", containsString("UTF-8"));
        }
        // A valid message in UTF-16 or UTF-32 (its ASCII is valid UTF-8 with NULs between): the parser
        // would detect the encoding and store it (scripts/Faults.java found it); it is refused like the rest.
        String message = "{\"source\": \"" + source + "\", \"external_id\": \"w-1\", \"type\": \"income.monthly\", \"beneficiary_id\": \"U-1\", "
                + "\"data\": {\"year\": 2027, \"month\": 4, \"amount_cents\": 1, \"hours\": 1, \"employers\": 1}}";
        for (java.nio.charset.Charset charset : List.of(StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE, java.nio.charset.Charset.forName("UTF-32BE"),
                java.nio.charset.Charset.forName("UTF-32LE"))) {
            given().auth().oauth2(agency).contentType("application/json").body(message.getBytes(charset)).post("/v1/messages")
                    .then().statusCode(400).contentType("application/problem+json").body("errors[0].message", containsString("UTF-8"));
        }
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void outsideV1NothingIsRecordedAndNothingWarned() {
        List<LogRecord> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.addHandler(handler);
        try {
            // The handler sees the service's warnings: a probe goes through it.
            org.jboss.logging.Logger.getLogger("org.eligo.probe").warn("probe");
            assertEquals(1, warnings.size(), "the log handler does not see warnings");
            warnings.clear();
            long before = Sql.count("SELECT count(*) FROM access_log");
            given().get("/q/health/live").then().statusCode(200);
            given().get("/q/health/ready").then().statusCode(200);
            given().get("/q/swagger-ui").then().statusCode(org.hamcrest.Matchers.lessThan(500));
            // "/" itself is not recorded; the console it leads to is (ConsoleTest), as every page view is.
            given().redirects().follow(false).get("/").then().statusCode(303);
            given().get("/not/an/api").then().statusCode(404);
            given().request("OPTIONS", "/q/health").then().statusCode(org.hamcrest.Matchers.lessThan(500));
            given().header("X-Pad", "p".repeat(30_000)).get("/q/health/live").then().statusCode(431).contentType("application/problem+json");
            assertEquals(before, Sql.count("SELECT count(*) FROM access_log"));
        } finally {
            root.removeHandler(handler);
        }
        assertTrue(warnings.isEmpty(), () -> warnings.stream().map(r -> r.getLoggerName() + ": " + r.getMessage()).toList().toString());
    }
}
