package org.eligo.auth;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.eligo.testing.Sql;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Refused attempts are recorded, but a request without a token cannot make its row as large as it
 * likes, nor leave a credential in it: path and header values are cut to stated lengths, values of
 * credential-looking query parameters are never stored, and a traceparent only when it is a valid W3C
 * trace context.
 */
@QuarkusTest
@TestProfile(AuthEnabledProfile.class)
class AccessLogBoundsTest {

    private static Map<String, Object> row(String requestId) {
        List<Map<String, Object>> rows = Sql.rows("SELECT subject, method, path, status, traceparent, beneficiary_ids::text AS beneficiaries "
                + "FROM access_log WHERE request_id = ?", requestId);
        assertEquals(1, rows.size(), "one row for " + requestId);
        return rows.get(0);
    }

    @Test
    void aLongPathAndQueryAreCutToTheStatedLength() {
        String id = unique("long");
        String beneficiary = unique("B");
        given().urlEncodingEnabled(false).header("X-Request-Id", id).header("traceparent", "0".repeat(15_000))
                .get("/v1/beneficiaries/" + beneficiary + "/facts?q=" + "x".repeat(3_900))
                .then().statusCode(401).contentType("application/problem+json");
        Map<String, Object> row = row(id);
        String path = (String) row.get("path");
        assertThat(path.length(), lessThanOrEqualTo(AccessLog.MAX_PATH));
        assertThat(path, startsWith("/v1/beneficiaries/" + beneficiary + "/facts?q=xxx"));
        assertThat(path, org.hamcrest.Matchers.endsWith(AccessLog.CUT));
        assertThat(row.get("traceparent"), nullValue());
        assertThat(row.get("status"), equalTo(401));
        // The refusal still says whom it was about.
        assertThat((String) row.get("beneficiaries"), equalTo("{" + beneficiary + "}"));
    }

    @Test
    void credentialLookingQueryValuesAreNeverStored() {
        String token = Tokens.caseworker();
        String id = unique("cred");
        given().urlEncodingEnabled(false).header("X-Request-Id", id)
                .get("/v1/rulesets?access_token=" + token + "&limit=5&Password=hunter2&api-key=k3y&id_token=" + token + "&token")
                .then().statusCode(401);
        String path = (String) row(id).get("path");
        assertEquals("/v1/rulesets?access_token=" + AccessLog.REDACTED + "&limit=5&Password=" + AccessLog.REDACTED
                + "&api-key=" + AccessLog.REDACTED + "&id_token=" + AccessLog.REDACTED + "&token=" + AccessLog.REDACTED, path);
        // However the name is spelled or encoded.
        assertEquals("/v1/x?access%5Ftoken=" + AccessLog.REDACTED + "&ACCESS-TOKEN=" + AccessLog.REDACTED + "&client_secret="
                + AccessLog.REDACTED + "&a=b&=c", AccessLog.path("/v1/x", "access%5Ftoken=abc&ACCESS-TOKEN=abc&client_secret=s&a=b&=c"));
        assertEquals("/v1/x", AccessLog.path("/v1/x", null));
        // Nor can an analyst read it back through the API.
        String log = given().auth().oauth2(Tokens.analyst()).queryParam("subject", Admission.ANONYMOUS).queryParam("limit", 500)
                .get("/v1/access-log").then().statusCode(200).extract().asString();
        assertThat(log, not(containsString(token)));
        assertThat(log, not(containsString("hunter2")));
    }

    @Test
    void aTraceparentIsStoredOnlyWhenItIsAValidTraceContext() {
        String valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        Map<String, String> sent = new java.util.LinkedHashMap<>();
        sent.put(valid, valid);
        sent.put("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", null);   // upper case
        sent.put("00-00000000000000000000000000000000-00f067aa0ba902b7-01", null);   // zero trace id
        sent.put("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", null);   // zero parent id
        sent.put("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);   // reserved version
        sent.put(valid + "-and-more", null);
        sent.put("x".repeat(15_000), null);
        for (Map.Entry<String, String> trace : sent.entrySet()) {
            String id = unique("trace");
            given().header("X-Request-Id", id).header("traceparent", trace.getKey()).get("/v1/rulesets").then().statusCode(401);
            assertEquals(trace.getValue(), row(id).get("traceparent"), trace.getKey().substring(0, Math.min(60, trace.getKey().length())));
        }
    }

    @Test
    void aSubjectTooLongOrWithControlCharactersIsRefusedAndNeverStored() {
        for (String subject : List.of("s".repeat(AccessLog.MAX_TEXT + 1), "ana\u0000", "ana\nroot", "")) {
            String id = unique("subject");
            given().auth().oauth2(Tokens.token(subject, List.of("analyst"), List.of())).header("X-Request-Id", id)
                    .get("/v1/rulesets").then().statusCode(401).contentType("application/problem+json");
            assertEquals(Admission.ANONYMOUS, row(id).get("subject"));
        }
        // And whatever reaches the log is cut and made storable there too.
        assertEquals(AccessLog.MAX_TEXT, AccessLog.text("s".repeat(5_000), AccessLog.MAX_TEXT).length());
        assertEquals("a\uFFFDb", AccessLog.text("a\u0000b", AccessLog.MAX_TEXT));
    }

    @Test
    void aThousandRefusedRequestsWithHugeQueriesAndHeadersAddBoundedRows() {
        String prefix = unique("flood");
        String query = "?q=" + "z".repeat(3_900);
        String trace = "t".repeat(15_000);
        for (int i = 0; i < 1000; i++) {
            given().urlEncodingEnabled(false).header("X-Request-Id", prefix + "-" + i).header("traceparent", trace)
                    .get("/v1/stats" + query).then().statusCode(401);
        }
        List<Map<String, Object>> totals = Sql.rows("SELECT count(*) AS n, max(length(path)) AS longest, count(traceparent) AS traces "
                + "FROM access_log WHERE request_id LIKE ?", prefix + "-%");
        assertEquals(1000L, ((Number) totals.get(0).get("n")).longValue());
        assertThat(((Number) totals.get(0).get("longest")).intValue(), lessThanOrEqualTo(AccessLog.MAX_PATH));
        assertEquals(0L, ((Number) totals.get(0).get("traces")).longValue());
    }
}
