package org.eligo.operations;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.eligo.testing.DatabaseProxy;
import org.eligo.testing.Sql;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * PostgreSQL goes away during ingest: the service answers 503 with Retry-After (never 500), its
 * readiness goes down, and when the database is back both recover by themselves, with every message
 * accepted before, during and after processed.
 */
@QuarkusTest
@TestProfile(DatabaseOutageProfile.class)
class DatabaseOutageTest {

    @AfterEach
    void reconnect() {
        DatabaseProxy.instance().restore();
    }

    @Test
    void ingestAnswers503WhileTheDatabaseIsAwayAndEverythingRecoversWhenItIsBack() {
        String source = unique("outage");
        String beneficiary = unique("B");
        List<String> accepted = new ArrayList<>();
        // A backlog in flight when the database goes.
        List<Map<String, Object>> batch = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            batch.add(income(source, "before-" + i, beneficiary + "-" + i, 2027, 6, i, null));
        }
        accepted.addAll(given().contentType("application/json").body(Map.of("messages", batch)).post("/v1/messages/batch")
                .then().statusCode(202).extract().<List<String>>path("results.id"));
        given().get("/q/health/ready").then().statusCode(200);

        DatabaseProxy.instance().cut();

        for (int i = 0; i < 5; i++) {
            Response response = given().contentType("application/json").body(income(source, "during-" + i, beneficiary, 2027, 6, 1, null))
                    .post("/v1/messages");
            if (response.statusCode() == 202) {
                accepted.add(response.path("id"));
                continue;
            }
            response.then().statusCode(503).contentType("application/problem+json").header("Retry-After", notNullValue());
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().get("/q/health/ready").statusCode() == 503);
        given().get("/q/health/ready").then().body("status", equalTo("DOWN"));
        given().get("/q/health/live").then().statusCode(200);

        DatabaseProxy.instance().restore();

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().get("/q/health/ready").statusCode() == 200);
        // Ingest is back without a restart; the message a retrying client sends is stored once.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().contentType("application/json").body(income(source, "after", beneficiary, 2027, 6, 1, null))
                        .post("/v1/messages").statusCode() == 202);
        accepted.add(given().contentType("application/json").body(income(source, "after", beneficiary, 2027, 6, 1, null)).post("/v1/messages")
                .then().statusCode(200).body("duplicate", equalTo(true)).extract().path("id"));
        for (String id : accepted) {
            awaitProcessed(id);
        }
        assertEquals(accepted.size(), Sql.count("SELECT count(*) FROM message WHERE source = ? AND status = 'PROCESSED'", source));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ? AND status <> 'PROCESSED'", source));
    }

    /** The value of a metric line ({@code name} with no tags, or its first line) in the Prometheus text. */
    private static double metric(String name) {
        String text = given().get("/q/metrics").then().statusCode(200).extract().asString();
        java.util.regex.Matcher line = java.util.regex.Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
        return line.find() ? Double.parseDouble(line.group(1)) : Double.NaN;
    }

    /**
     * The backlog-age alert can fire in an outage (issue 20): while the database cannot be asked, the
     * oldest message's age keeps growing from its last measurement instead of freezing, the failures
     * are counted, and how stale the gauges are is a gauge of its own.
     */
    @Test
    void theOldestMessagesAgeKeepsGrowingWhileTheDatabaseIsAway() {
        String source = unique("held");
        // Ready first, as a probed service is before any outage.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> given().get("/q/health/ready").statusCode() == 200);
        // A message held back (due only in the far future): it waits in the backlog through the test.
        String held = "msg_" + com.github.f4b6a3.ulid.UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data, next_attempt_at) "
                + "VALUES (?, ?, 'held', 'income.monthly', ?, ?::jsonb, 'infinity')", held, source, unique("B"),
                "{\"year\": 2027, \"month\": 6, \"amount_cents\": 1}");
        org.eligo.testing.TestLedger.adoptMessages(held);
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                    .until(() -> metric("eligo_messages_oldest_backlog_age_seconds") > 0 && metric("eligo_queue_metrics_age_seconds") < 6);
            double failuresBefore = metric("eligo_queue_metrics_failures_total");

            DatabaseProxy.instance().cut();
            double ageAtCut = metric("eligo_messages_oldest_backlog_age_seconds");
            // Past two measurement intervals with no answer from the database: the age has still grown.
            await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
                    .until(() -> metric("eligo_queue_metrics_failures_total") > failuresBefore && metric("eligo_queue_metrics_age_seconds") > 10);
            double ageLater = metric("eligo_messages_oldest_backlog_age_seconds");
            org.junit.jupiter.api.Assertions.assertTrue(ageLater >= ageAtCut + 5, "the age grew during the outage: " + ageAtCut + " -> " + ageLater);

            DatabaseProxy.instance().restore();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> metric("eligo_queue_metrics_age_seconds") < 6);
        } finally {
            DatabaseProxy.instance().restore();
            // Released: it is processed like any message, so it leaves no backlog behind.
            Sql.update("UPDATE message SET next_attempt_at = clock_timestamp() WHERE id = ?", held);
        }
        awaitProcessed(held);
        java.util.concurrent.atomic.AtomicReference<String> health = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                io.restassured.response.Response ready = given().get("/q/health/ready");
                health.set(ready.asString());
                return ready.statusCode() == 200;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("not ready again: " + health.get(), e);
        }
    }

    /**
     * A database that hangs (issue 20): connections stay open but nothing comes back, as from a
     * server stopped with SIGSTOP. Every request still gets an answer, 503 with Retry-After, within
     * the socket time-out and the pool's wait (about 5 s here), instead of hanging until the database
     * wakes; concurrent requests do not queue behind one stuck backlog count (each would otherwise
     * wait its turn: 8 requests, 24 s); health answers too. Nothing is lost when it wakes.
     */
    @Test
    void requestsAnswerWithinTheTimeOutsWhileTheDatabaseHangs() throws Exception {
        String source = unique("hang");
        String beneficiary = unique("B");
        given().contentType("application/json").body(income(source, "before", beneficiary, 2027, 6, 1, null)).post("/v1/messages")
                .then().statusCode(202);
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        String base = "http://localhost:" + io.restassured.RestAssured.port;
        Duration bound = DatabaseOutageProfile.SOCKET_TIMEOUT.multipliedBy(3);
        List<String> accepted = new ArrayList<>();
        DatabaseProxy.instance().freeze();
        try {
            List<java.util.concurrent.CompletableFuture<String>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String body = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(income(source, "during-" + i, beneficiary, 2027, 6, 1, null));
                long started = System.nanoTime();
                answers.add(client.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/messages"))
                                .timeout(Duration.ofSeconds(40)).header("Content-Type", "application/json")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString())
                        .thenApply(response -> response.statusCode() + " " + response.headers().firstValue("Retry-After").orElse("-") + " "
                                + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms"));
            }
            long healthStarted = System.nanoTime();
            int health = given().get("/q/health/ready").statusCode();
            Duration healthTook = Duration.ofNanos(System.nanoTime() - healthStarted);
            assertEquals(503, health, "readiness while the database hangs");
            org.junit.jupiter.api.Assertions.assertTrue(healthTook.compareTo(bound) < 0, "readiness answered in " + healthTook);
            for (java.util.concurrent.CompletableFuture<String> answer : answers) {
                String[] seen = answer.get(60, java.util.concurrent.TimeUnit.SECONDS).split(" ");
                assertEquals("503", seen[0], String.join(" ", seen));
                org.junit.jupiter.api.Assertions.assertNotEquals("-", seen[1], "Retry-After");
                org.junit.jupiter.api.Assertions.assertTrue(Long.parseLong(seen[2]) < bound.toMillis(), "answered in " + seen[2] + " ms, over " + bound);
            }
        } finally {
            DatabaseProxy.instance().thaw();
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().contentType("application/json").body(income(source, "after", beneficiary, 2027, 6, 1, null))
                        .post("/v1/messages").statusCode() == 202);
        // What the service let through before and after the hang is stored once; nothing from during it.
        assertEquals(2, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
        assertEquals(0, Sql.count("SELECT count(*) FROM message WHERE source = ? AND external_id LIKE 'during-%'", source));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().get("/q/health/ready").statusCode() == 200);
    }
}
