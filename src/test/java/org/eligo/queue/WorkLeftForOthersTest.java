package org.eligo.queue;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;

/**
 * Work this instance cannot do — a message of a fact type it does not declare, an automatic
 * determination or a rerun of a ruleset it has not loaded, as a rolling deploy that adds either
 * leaves behind — is left for an instance that can: never claimed, started, failed or dropped here,
 * and shown in the stats. (The failsafe test {@code TwoRulesFoldersIT} shows the instance that can
 * then doing it.)
 */
@QuarkusTest
class WorkLeftForOthersTest {

    @Test
    void workOfAnUndeclaredTypeOrUnloadedRulesetIsLeftUntouchedAndShown() {
        String foreignRun = "run_" + UlidCreator.getMonotonicUlid();
        String beneficiary = unique("B");
        // Older than anything submitted below: the workers would reach it first if they could take it.
        String foreignMessage = "msg_" + UlidCreator.getUlid(System.currentTimeMillis() - 60_000L);
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, 'newer-version', ?, 'newer.type', ?, '{}'::jsonb)",
                foreignMessage, foreignMessage, beneficiary);
        TestLedger.adoptMessages(foreignMessage);
        Sql.update("INSERT INTO determination_queue (beneficiary_id, period, ruleset_id, requested_at, next_attempt_at)"
                + " VALUES (?, '2027-07', 'a-newer-program', clock_timestamp() - interval '1 minute', clock_timestamp() - interval '1 minute')", beneficiary);
        // A run of one beneficiary, created first: the workers would take it before any run of the same size.
        Sql.update("INSERT INTO rerun (id, scope, period, ruleset_id, reason, status, total, created_at)"
                + " VALUES (?, 'beneficiaries', '2027-07', 'a-newer-program', 'test', 'QUEUED', 1, clock_timestamp() - interval '1 minute')", foreignRun);
        Sql.update("INSERT INTO rerun_item (rerun_id, beneficiary_id) VALUES (?, ?)", foreignRun, beneficiary);
        try {
            // Work this instance can do, queued after: once it is done, the workers have passed the foreign work by.
            String other = unique("B");
            String known = submit(income(unique("wage"), "w-1", other, 2027, 6, 100_000, 90));
            awaitProcessed(known);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ?", other) == 1);
            String knownRun = given().contentType("application/json")
                    .body(Map.of("scope", "beneficiaries", "beneficiary_ids", java.util.List.of(other), "period", "2027-07"))
                    .post("/v1/reruns").then().statusCode(202).extract().path("id");
            await().atMost(Duration.ofSeconds(30)).until(() -> "DONE".equals(given().get("/v1/reruns/" + knownRun).path("status")));

            Map<String, Object> message = Sql.rows("SELECT status, attempts, last_error FROM message WHERE id = ?", foreignMessage).get(0);
            assertEquals("RECEIVED", message.get("status"), "never failed for a type this instance does not know");
            assertEquals(0, ((Number) message.get("attempts")).intValue(), "never claimed");
            assertEquals(1, Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ? AND ruleset_id = 'a-newer-program' AND attempts = 0",
                    beneficiary), "never dropped, never tried");
            assertEquals(0, Sql.count("SELECT count(*) FROM determination WHERE beneficiary_id = ?", beneficiary));
            assertEquals(1, Sql.count("SELECT count(*) FROM rerun WHERE id = ? AND status = 'QUEUED' AND started_at IS NULL", foreignRun),
                    "never started here");
            assertEquals(1, Sql.count("SELECT count(*) FROM rerun_item WHERE rerun_id = ? AND state = 'PENDING' AND error IS NULL", foreignRun));

            Number messages = given().get("/v1/stats").then().statusCode(200).extract().path("left_for_other_instances.messages");
            Number determinations = given().get("/v1/stats").then().statusCode(200).extract().path("left_for_other_instances.determinations");
            assertTrue(messages.longValue() >= 1, "shown in the stats: " + messages);
            assertTrue(determinations.longValue() >= 1, "shown in the stats: " + determinations);
            Number reruns = given().get("/v1/stats").then().statusCode(200).extract().path("left_for_other_instances.reruns");
            assertTrue(reruns.longValue() >= 1, "shown in the stats: " + reruns);
        } finally {
            // Other tests count the backlog and the queue: this instance's leftovers go as an operator would settle them.
            Sql.update("UPDATE message SET status = 'FAILED', last_error = 'test cleanup: no instance declares newer.type' WHERE id = ?", foreignMessage);
            Sql.update("DELETE FROM determination_queue WHERE beneficiary_id = ? AND ruleset_id = 'a-newer-program'", beneficiary);
            Sql.update("UPDATE rerun SET status = 'CANCELLED', finished_at = clock_timestamp() WHERE id = ?", foreignRun);
        }
    }
}
