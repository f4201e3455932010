package org.eligo.queue;

import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.birthdate;
import static org.eligo.testing.Api.disability;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submitBatchUntilAccepted;
import static org.eligo.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * Four workers (the test profile) race over 10,000 messages about 300 beneficiaries, most of them
 * corrections of an earlier message for the same key, submitted by four concurrent clients while
 * the workers run. Every message must be processed exactly once and every key must end with exactly
 * one active fact: the one from its latest message.
 */
@QuarkusTest
class ConcurrentProcessingTest {

    private static final int MESSAGES = 10_000;
    private static final int BENEFICIARIES = 300;
    private static final int CLIENTS = 4;
    private static final int BATCH = 500;

    @Test
    void everyMessageIsProcessedOnceAndEachKeyEndsWithItsLatestFact() throws Exception {
        String source = unique("race");
        String prefix = unique("R") + "-";
        Random random = new Random(42);
        List<Map<String, Object>> messages = new ArrayList<>(MESSAGES);
        for (int i = 0; i < MESSAGES; i++) {
            String beneficiary = prefix + random.nextInt(BENEFICIARIES);
            String externalId = "m-" + i;
            int kind = random.nextInt(10);
            if (kind < 8) {
                messages.add(income(source, externalId, beneficiary, 2027, 1 + random.nextInt(6), random.nextInt(100_000), random.nextInt(120)));
            } else if (kind == 8) {
                messages.add(birthdate(source, externalId, beneficiary, LocalDate.of(1950, 1, 1).plusDays(random.nextInt(20_000)).toString()));
            } else {
                messages.add(disability(source, externalId, beneficiary, random.nextBoolean(), random.nextBoolean()));
            }
        }

        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<List<String>>> submitted = new ArrayList<>();
            for (int from = 0; from < MESSAGES; from += BATCH) {
                List<Map<String, Object>> batch = messages.subList(from, Math.min(MESSAGES, from + BATCH));
                submitted.add(clients.submit(() -> submitBatchUntilAccepted(batch)));
            }
            for (Future<List<String>> future : submitted) {
                assertEquals(BATCH, future.get().size());
            }
        } finally {
            clients.shutdown();
        }

        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                .until(() -> Sql.count("SELECT count(*) FROM message WHERE source = ? AND status <> 'PROCESSED'", source) == 0);

        assertEquals(MESSAGES, Sql.count("SELECT count(*) FROM message WHERE source = ? AND status = 'PROCESSED' AND attempts = 1", source),
                "every message processed on its first and only attempt");
        assertEquals(0, Sql.count("""
                SELECT count(*) FROM message m
                  LEFT JOIN (SELECT f.message_id, count(*) AS facts
                               FROM (SELECT message_id FROM fact_income_monthly WHERE beneficiary_id LIKE ?
                                     UNION ALL SELECT message_id FROM fact_person_birthdate WHERE beneficiary_id LIKE ?
                                     UNION ALL SELECT message_id FROM fact_disability_status WHERE beneficiary_id LIKE ?) AS f
                              GROUP BY f.message_id) AS c ON c.message_id = m.id
                 WHERE m.source = ? AND coalesce(c.facts, 0) <> 1
                """, prefix + "%", prefix + "%", prefix + "%", source), "exactly one fact per message");

        for (String[] table : new String[][] {
                {"fact_income_monthly", "beneficiary_id, year, month"},
                {"fact_person_birthdate", "beneficiary_id"},
                {"fact_disability_status", "beneficiary_id"}}) {
            String keys = table[1];
            List<Map<String, Object>> wrong = Sql.rows("SELECT " + keys + ", count(*) FILTER (WHERE revoked_at IS NULL) AS active,"
                    + " max(message_id) AS latest, max(message_id) FILTER (WHERE revoked_at IS NULL) AS active_message"
                    + " FROM " + table[0] + " WHERE beneficiary_id LIKE ? GROUP BY " + keys
                    + " HAVING count(*) FILTER (WHERE revoked_at IS NULL) <> 1"
                    + " OR max(message_id) IS DISTINCT FROM max(message_id) FILTER (WHERE revoked_at IS NULL)", prefix + "%");
            assertTrue(wrong.isEmpty(), table[0] + ": keys without exactly one active fact from their latest message: " + wrong);

            // A revoked fact names the fact that superseded it: one of the same key from a later message.
            String join = String.join(" AND ", java.util.Arrays.stream(keys.split(", ")).map(k -> "s." + k + " = r." + k).toList());
            assertEquals(0, Sql.count("SELECT count(*) FROM " + table[0] + " r LEFT JOIN " + table[0] + " s ON s.id = r.revoked_by AND " + join
                    + " AND s.message_id > r.message_id WHERE r.beneficiary_id LIKE ? AND r.revoked_at IS NOT NULL AND s.id IS NULL", prefix + "%"),
                    table[0] + ": every revoked fact names a later fact of its key");
        }
        long corrections = Sql.count("SELECT count(*) FROM fact_income_monthly WHERE beneficiary_id LIKE ? AND revoked_at IS NOT NULL", prefix + "%");
        assertTrue(corrections > 5_000, "the run had many corrections: " + corrections);
    }
}
