package org.eligo.ledger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.eligo.determinations.Determinations;
import org.eligo.facts.Facts;
import org.eligo.ingest.Messages;
import org.eligo.support.Timestamps;
import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * The ledger as written: one entry per write transaction whose leaves are the records as stored,
 * and blocks that chain, verify with the published key, and cover every committed entry exactly
 * once however transactions interleave.
 */
@QuarkusTest
class LedgerTest {

    @Inject
    Sealer sealer;

    /** An entry: its id, tx (as text), labels, leaf hashes and root. */
    record Entry(long id, String tx, List<String> labels, List<byte[]> leaves, byte[] root) {
        byte[] leaf(String label) {
            int at = labels.indexOf(label);
            return at < 0 ? null : leaves.get(at);
        }
    }

    private static List<Entry> entriesWith(String label) throws Exception {
        // tx_text, not tx: ORDER BY tx would sort by an output column named tx, the text, before the xid8.
        return entries("SELECT id, tx::text AS tx_text, labels, leaves, root FROM ledger_entry WHERE ? = ANY(labels) ORDER BY tx, id", label);
    }

    private static List<Entry> entries(String sql, Object... parameters) throws Exception {
        List<Entry> found = new ArrayList<>();
        try (Connection connection = Sql.connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    Array labels = rs.getArray(3);
                    byte[] packed = rs.getBytes(4);
                    List<byte[]> leaves = new ArrayList<>();
                    for (int i = 0; i < packed.length; i += 32) {
                        leaves.add(java.util.Arrays.copyOfRange(packed, i, i + 32));
                    }
                    found.add(new Entry(rs.getLong(1), rs.getString(2), List.of((String[]) labels.getArray()), leaves, rs.getBytes(5)));
                }
            }
        }
        return found;
    }

    /** The one entry naming {@code label}, whose root is the Merkle root of its leaves. */
    private static Entry onlyEntryWith(String label) throws Exception {
        List<Entry> entries = entriesWith(label);
        assertEquals(1, entries.size(), label + " is in exactly one entry");
        Entry entry = entries.get(0);
        assertArrayEquals(Merkle.root(entry.leaves()), entry.root(), "the entry's root is over its leaves");
        return entry;
    }

    private static Canonical storedMessage(String id) throws Exception {
        try (Connection connection = Sql.connect(); PreparedStatement statement = connection.prepareStatement(
                "SELECT id, source, external_id, type, beneficiary_id, occurred_at, received_at, data::text, traceparent FROM message WHERE id = ?")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                assertTrue(rs.next());
                return Messages.canonical(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        Timestamps.read(rs, 6), Timestamps.read(rs, 7), rs.getString(8), rs.getString(9));
            }
        }
    }

    private static Canonical[] storedFact(String id) throws Exception {
        try (Connection connection = Sql.connect(); PreparedStatement statement = connection.prepareStatement(
                "SELECT id, beneficiary_id, message_id, created_at, replay_id, type, fact_key, withdrawn, data::text, revoked_at, revoked_by FROM fact WHERE id = ?")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                assertTrue(rs.next());
                Canonical fact = Facts.canonical(rs.getString(1), rs.getString(2), rs.getString(3), Timestamps.read(rs, 4), rs.getString(5),
                        rs.getString(6), rs.getString(7), rs.getBoolean(8), rs.getString(9));
                Canonical revocation = rs.getString(11) == null ? null : Facts.revocation(rs.getString(1), Timestamps.read(rs, 10), rs.getString(11));
                return new Canonical[] {fact, revocation};
            }
        }
    }

    private static Canonical storedDetermination(String id) throws Exception {
        try (Connection connection = Sql.connect(); PreparedStatement statement = connection.prepareStatement("""
                SELECT d.id, d.beneficiary_id, d.period, d.ruleset_id, d.ruleset_sha256, d.ruleset_version, d.evaluated_at, d.facts_as_of,
                       d.trigger, d.rerun_id, d.result, d.checks::text,
                       ARRAY(SELECT l.fact_id FROM determination_fact l WHERE l.determination_id = d.id AND l.beneficiary_id = d.beneficiary_id)
                  FROM determination d WHERE d.id = ?""")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                assertTrue(rs.next());
                return Determinations.canonical(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), Timestamps.read(rs, 7), Timestamps.read(rs, 8), rs.getString(9), rs.getString(10), rs.getString(11),
                        rs.getString(12), List.of((String[]) rs.getArray(13).getArray()));
            }
        }
    }

    @Test
    void eachWriteTransactionIsOneEntryWhoseLeavesAreItsRecordsAsStored() throws Exception {
        String beneficiary = unique("L");
        String source = unique("ledger");
        String messageId = submit(income(source, "1", beneficiary, 2027, 6, 61250, 35.50));
        String factId = awaitProcessed(messageId).path("fact_ids[0]");

        Entry ingest = onlyEntryWith("message/" + messageId);
        assertArrayEquals(Ledger.leaf("message/" + messageId, storedMessage(messageId)).hash(), ingest.leaf("message/" + messageId));

        Entry processing = onlyEntryWith("fact/" + factId);
        assertArrayEquals(Ledger.leaf("fact/" + factId, storedFact(factId)[0]).hash(), processing.leaf("fact/" + factId));
        assertFalse(processing.id() == ingest.id(), "received and processed in two transactions, so two entries");

        // The automatic determination.
        String determinationId = await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<Map<String, Object>> rows = Sql.rows("SELECT id FROM determination WHERE beneficiary_id = ?", beneficiary);
            return rows.isEmpty() ? null : (String) rows.get(0).get("id");
        }, java.util.Objects::nonNull);
        Entry determined = onlyEntryWith("determination/" + determinationId);
        assertArrayEquals(Ledger.leaf("determination/" + determinationId, storedDetermination(determinationId)).hash(),
                determined.leaf("determination/" + determinationId));

        // A correction revokes the first fact: the revocation is a leaf of the transaction that made it.
        String correction = submit(income(source, "2", beneficiary, 2027, 6, 41250, 20));
        String newFact = awaitProcessed(correction).path("fact_ids[0]");
        String label = Facts.revocationLabel(factId);
        Entry revoked = onlyEntryWith(label);
        assertArrayEquals(Ledger.leaf(label, storedFact(factId)[1]).hash(), revoked.leaf(label));
        assertNotNull(revoked.leaf("fact/" + newFact), "revoked by the new fact, in the same transaction");
    }

    @Test
    void blocksChainAndVerifyWithThePublishedKey() throws Exception {
        String messageId = submit(income(unique("ledger"), "1", unique("L"), 2027, 6, 60000, null));
        awaitProcessed(messageId);
        sealAll();

        Map<String, PublicKey> published = new java.util.HashMap<>();
        List<Map<String, Object>> keys = given().get("/v1/integrity/public-key").then().statusCode(200).extract().jsonPath().getList("$");
        for (Map<String, Object> key : keys) {
            assertEquals("Ed25519", key.get("algorithm"));
            String pem = (String) key.get("public_key");
            byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").trim());
            published.put((String) key.get("key_id"), KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
        }
        assertTrue(keys.stream().anyMatch(k -> Boolean.TRUE.equals(k.get("signing")) && k.get("in_use_from") != null && k.get("in_use_until") == null));

        byte[] previous = Sealer.GENESIS;
        String previousTo = Sealer.FIRST_TX;
        long sealed = 0;
        for (Map<String, Object> row : Sql.rows("SELECT id, from_tx::text AS from_tx, to_tx::text AS to_tx, entries, root, prev_digest, sealed_at,"
                + " digest, key_id, signature FROM ledger_block ORDER BY id")) {
            long id = ((Number) row.get("id")).longValue();
            assertEquals(previousTo, row.get("from_tx"), "block " + id + " starts where the one before ended");
            assertArrayEquals(previous, (byte[]) row.get("prev_digest"), "block " + id + " names the digest before it");
            List<Entry> covered = entries("SELECT id, tx::text AS tx_text, labels, leaves, root FROM ledger_entry"
                    + " WHERE tx >= ?::xid8 AND tx < ?::xid8 ORDER BY tx, id", row.get("from_tx"), row.get("to_tx"));
            assertEquals(((Number) row.get("entries")).intValue(), covered.size(), "block " + id + " counts its entries");
            byte[] root = Merkle.root(covered.stream().map(e -> Merkle.leafHash(e.root())).toList());
            assertArrayEquals(root, (byte[]) row.get("root"), "block " + id + " root; covered " + covered.stream().map(e -> e.id() + "@" + e.tx()).toList());
            Instant sealedAt = ((java.sql.Timestamp) row.get("sealed_at")).toInstant();
            Block block = new Block(id, (String) row.get("from_tx"), (String) row.get("to_tx"), covered.size(), root, previous, sealedAt,
                    (String) row.get("key_id"));
            assertArrayEquals(block.digest(), (byte[]) row.get("digest"), "block " + id + " digest");
            PublicKey key = published.get(row.get("key_id"));
            assertNotNull(key, "block " + id + " is signed by a published key");
            assertTrue(LedgerKeys.verifyWith(key, block.digest(), (byte[]) row.get("signature")), "block " + id + " signature");
            previous = block.digest();
            previousTo = (String) row.get("to_tx");
            sealed += covered.size();
        }
        assertTrue(sealed > 0);
        assertEquals(sealed, Sql.count("SELECT count(*) FROM ledger_entry WHERE tx < ?::xid8", previousTo), "every entry below the last bound is sealed");
        assertEquals(1, entries("SELECT id, tx::text AS tx_text, labels, leaves, root FROM ledger_entry WHERE ? = ANY(labels) AND tx < ?::xid8",
                "message/" + messageId, previousTo).size());
    }

    @Test
    void anEntryCommittedLateIsSealedOnceNotSkipped() throws Exception {
        sealAll();
        // Transaction A writes a message and its entry, as the service would, and stays open.
        String lateId = "msg_" + com.github.f4b6a3.ulid.UlidCreator.getMonotonicUlid();
        String beneficiary = unique("L");
        try (Connection a = Sql.connect()) {
            a.setAutoCommit(false);
            String lateTx;
            try (PreparedStatement statement = a.prepareStatement("""
                    WITH k AS (INSERT INTO message_key (source, external_id, message_id) VALUES ('ledger-test', ?, ?))
                    INSERT INTO message (id, source, external_id, type, beneficiary_id, data)
                    VALUES (?, 'ledger-test', ?, 'income.monthly', ?, '{"year": 2027, "month": 6, "amount_cents": 1}')
                    RETURNING received_at, pg_current_xact_id()::text""")) {
                statement.setString(1, lateId);
                statement.setString(2, lateId);
                statement.setString(3, lateId);
                statement.setString(4, lateId);
                statement.setString(5, beneficiary);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    Instant receivedAt = Timestamps.read(rs, 1);
                    lateTx = rs.getString(2);
                    byte[] leaf = Ledger.leaf("message/" + lateId, Messages.canonical(lateId, "ledger-test", lateId, "income.monthly", beneficiary,
                            null, receivedAt, "{\"year\": 2027, \"month\": 6, \"amount_cents\": 1}", null)).hash();
                    try (PreparedStatement entry = a.prepareStatement(Ledger.INSERT)) {
                        entry.setArray(1, a.createArrayOf("text", new String[] {"message/" + lateId}));
                        entry.setBytes(2, leaf);
                        entry.setBytes(3, Merkle.root(List.of(leaf)));
                        entry.executeUpdate();
                    }
                }
            }
            // Meanwhile the service commits later transactions, and two sealers run at once, repeatedly.
            String laterMessage = submit(income(unique("ledger"), "1", unique("L"), 2027, 6, 60000, null));
            awaitProcessed(laterMessage);
            ExecutorService sealers = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> runs = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    runs.add(sealers.submit(() -> {
                        for (int j = 0; j < 10; j++) {
                            sealer.seal();
                        }
                    }));
                }
                for (Future<?> run : runs) {
                    run.get();
                }
            } finally {
                sealers.shutdown();
            }
            // A is still running: neither its entry nor any later one may be sealed yet.
            String bound = lastBound();
            assertTrue(compareTx(bound, lateTx) <= 0, "the sealed range stops at the open transaction " + lateTx + ", not past it: " + bound);
            assertEquals(0, Sql.count("SELECT count(*) FROM ledger_entry e JOIN ledger_block b ON e.tx >= b.from_tx AND e.tx < b.to_tx"
                    + " WHERE 'message/' || ? = ANY(e.labels)", laterMessage));
            a.commit();
        }
        sealAll();
        // Now each is in exactly one block.
        for (String label : List.of("message/" + lateId)) {
            assertEquals(1, Sql.count("SELECT count(*) FROM ledger_entry e JOIN ledger_block b ON e.tx >= b.from_tx AND e.tx < b.to_tx"
                    + " WHERE ? = ANY(e.labels)", label), label);
        }
        assertEquals(0, Sql.count("SELECT count(*) FROM ledger_block b JOIN ledger_block c ON c.id = b.id + 1 WHERE c.from_tx <> b.to_tx"),
                "blocks are contiguous, so no entry is in two");
    }

    @Test
    void nestedJsonHashesTheSameFromTheServicesTextAndFromTheDatabasesJsonb() throws Exception {
        // The leaf is made from the text the service sends; verification recomputes it from jsonb::text.
        List<String> documents = List.of(
                "{\"hours\": 35.50, \"b\": 1e2, \"a\": 1.0e-2, \"z\": -0, \"y\": -0.0, \"big\": 123456789012345678901234567890.10}",
                "{\"nested\": {\"null\": null, \"list\": [1, \"two\", null, {\"k\": true}]}, \"dup\": 1, \"dup\": 2}",
                "{\"text\": \"\\u00e9 \\\" \\\\ \\n \\t \\u0001 \\u2028 \\ud83d\\ude00\", \"\\u00e9\": \"key\"}",
                "{\"aa\": 1, \"b\": 2, \"A\": 3, \"\": 4, \"ab\": 5}");
        try (Connection connection = Sql.connect(); PreparedStatement statement = connection.prepareStatement("SELECT ?::jsonb::text")) {
            for (String document : documents) {
                statement.setString(1, document);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    assertEquals(Canonical.object().putJson("data", document).text(), Canonical.object().putJson("data", rs.getString(1)).text(), document);
                }
            }
        }
    }

    private void sealAll() {
        // Another sealer may hold the lock for a moment: seal until a run seals nothing and the bound passes every entry.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            OptionalLong sealed = sealer.seal();
            return sealed.isEmpty() && Sql.count("SELECT count(*) FROM ledger_entry WHERE tx >= coalesce((SELECT to_tx FROM ledger_block ORDER BY id DESC LIMIT 1), '0'::xid8)") == 0;
        });
    }

    private static String lastBound() {
        List<Map<String, Object>> rows = Sql.rows("SELECT to_tx::text AS to_tx FROM ledger_block ORDER BY id DESC LIMIT 1");
        return rows.isEmpty() ? Sealer.FIRST_TX : (String) rows.get(0).get("to_tx");
    }

    private static int compareTx(String a, String b) {
        return Long.compare(Long.parseUnsignedLong(a), Long.parseUnsignedLong(b));
    }
}
