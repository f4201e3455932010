package org.eligo.testing;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.restassured.http.ContentType;
import io.restassured.response.Response;

/** Builds messages and talks to the API the way an integrator would. */
public final class Api {

    private Api() {
    }

    /** A prefix that keeps one test's sources and beneficiaries apart from every other test's. */
    public static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    public static Map<String, Object> income(String source, String externalId, String beneficiary, int year, int month, long cents, Number hours) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("year", year);
        data.put("month", month);
        data.put("amount_cents", cents);
        if (hours != null) {
            data.put("hours", hours);
        }
        return message(source, externalId, "income.monthly", beneficiary, data);
    }

    public static Map<String, Object> birthdate(String source, String externalId, String beneficiary, String date) {
        return message(source, externalId, "person.birthdate", beneficiary, Map.of("birth_date", date));
    }

    public static Map<String, Object> disability(String source, String externalId, String beneficiary, boolean disabled, Boolean frail) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("disabled", disabled);
        if (frail != null) {
            data.put("medically_frail", frail);
        }
        return message(source, externalId, "disability.status", beneficiary, data);
    }

    public static Map<String, Object> message(String source, String externalId, String type, String beneficiary, Object data) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("source", source);
        message.put("external_id", externalId);
        message.put("type", type);
        message.put("beneficiary_id", beneficiary);
        message.put("data", data);
        return message;
    }

    public static Response post(String path, Object body) {
        return given().contentType(ContentType.JSON).body(body).when().post(path);
    }

    /** Submits one message, expects 202, returns its id. */
    public static String submit(Map<String, Object> message) {
        return post("/v1/messages", message).then().statusCode(202).extract().path("id");
    }

    /** Submits a batch, expects 202, returns the ids in input order. */
    public static List<String> submitBatch(List<Map<String, Object>> messages) {
        return post("/v1/messages/batch", Map.of("messages", messages)).then().statusCode(202).extract().path("results.id");
    }

    /**
     * Submits a batch as a well-behaved integrator does: a 503 (the database busy, say a
     * beneficiary's lock held past the ingest lock timeout on a loaded machine) stored nothing, so
     * the batch is sent again until it is accepted. Returns the ids in input order.
     */
    public static List<String> submitBatchUntilAccepted(List<Map<String, Object>> messages) {
        java.util.concurrent.atomic.AtomicReference<Response> accepted = new java.util.concurrent.atomic.AtomicReference<>();
        await().atMost(java.time.Duration.ofMinutes(2)).pollInterval(java.time.Duration.ofMillis(100)).until(() -> {
            Response response = post("/v1/messages/batch", Map.of("messages", messages));
            if (response.statusCode() == 503) {
                return false;
            }
            response.then().statusCode(202);
            accepted.set(response);
            return true;
        });
        return accepted.get().path("results.id");
    }

    /** Waits until the message is PROCESSED and returns it. */
    public static Response awaitProcessed(String messageId) {
        return awaitStatus(messageId, "PROCESSED");
    }

    public static Response awaitStatus(String messageId, String status) {
        return awaitStatus(messageId, status, null);
    }

    /** With {@code token} (when authentication is on), read with it. */
    public static Response awaitStatus(String messageId, String status, String token) {
        List<Response> last = new ArrayList<>(1);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            Response response = (token == null ? given() : given().auth().oauth2(token)).get("/v1/messages/" + messageId);
            last.clear();
            last.add(response);
            return status.equals(response.path("status"));
        });
        return last.get(0);
    }
}
