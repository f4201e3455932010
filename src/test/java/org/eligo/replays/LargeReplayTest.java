package org.eligo.replays;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.eligo.testing.EmbeddedPostgresResource;
import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * A replay of more beneficiaries than one transaction should lock one by one (issue 20): it takes
 * the one lock of all beneficiaries instead of a lock each (thousands of locks in one transaction
 * outgrow PostgreSQL's shared lock table: "out of shared memory"), and reconciles them in chunks
 * (ReplayService.CHUNK), so memory holds one chunk's messages at a time; the outcome is one replay.
 */
@QuarkusTest
class LargeReplayTest {

    static final int BENEFICIARIES = ReplayService.LOCK_EACH_UP_TO + 200;

    /** Advisory locks of class {@code classId} held (granted) by another backend than the caller's. */
    private static long grantedTo(int pid, int classId) {
        return Sql.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND granted AND pid = ?", classId, pid);
    }

    @Test
    void aReplayOfManyBeneficiariesHoldsOneLockAndReplaysThemAll() throws Exception {
        String source = unique("large-replay");
        List<String> beneficiaries = new ArrayList<>();
        List<String> messageIds = new ArrayList<>();
        for (int i = 0; i < BENEFICIARIES; i++) {
            beneficiaries.add(unique("LR"));
            messageIds.add("msg_" + UlidCreator.getMonotonicUlid());
        }
        // Stored and settled without facts, as after a parser that failed them: the replay derives each.
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data, status, attempts) "
                + "SELECT m.id, ?, m.id, 'income.monthly', m.b, '{\"year\": 2027, \"month\": 6, \"amount_cents\": 1}'::jsonb, 'FAILED', 3 "
                + "FROM unnest(?::text[], ?::text[]) AS m(id, b)", source, messageIds.toArray(new String[0]), beneficiaries.toArray(new String[0]));
        TestLedger.adoptMessages(messageIds.toArray(new String[0]));

        // A writer holds one of the beneficiaries while the replay starts: the replay waits, and what it holds meanwhile shows.
        try (Connection writer = DriverManager.getConnection(EmbeddedPostgresResource.jdbcUrl(), "postgres", "")) {
            writer.setAutoCommit(false);
            try (PreparedStatement lock = writer.prepareStatement("SELECT eligo_lock_beneficiaries(ARRAY[?])")) {
                lock.setString(1, beneficiaries.get(BENEFICIARIES / 2));
                lock.execute();
            }
            CompletableFuture<Response> replay = CompletableFuture.supplyAsync(() -> given().contentType("application/json")
                    .body(Map.of("beneficiary_ids", beneficiaries, "types", List.of("income.monthly"), "reason", "a parser fix, at scale"))
                    .post("/v1/replays"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Sql.count(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid IN (17772, 17778) AND NOT granted") > 0);
            int waiting = ((Number) Sql.rows("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid IN (17772, 17778) AND NOT granted")
                    .get(0).get("pid")).intValue();
            assertEquals(0, grantedTo(waiting, 17772), "beneficiary locks held by the waiting replay (one each, before)");
            writer.commit();

            Response answer = replay.get(120, java.util.concurrent.TimeUnit.SECONDS);
            answer.then().statusCode(201);
            String replayId = answer.path("id");
            assertEquals(BENEFICIARIES, (int) answer.path("messages_replayed"));
            assertEquals(BENEFICIARIES, (int) answer.path("beneficiaries_changed"));
            // Every chunk wrote under the one replay.
            assertEquals(BENEFICIARIES, Sql.count("SELECT count(*) FROM fact WHERE replay_id = ? AND revoked_at IS NULL", replayId));
            assertEquals(BENEFICIARIES, Sql.count("SELECT count(*) FROM message WHERE source = ? AND status = 'PROCESSED'", source));
        }
    }
}
