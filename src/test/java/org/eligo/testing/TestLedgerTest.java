package org.eligo.testing;

import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.eligo.facts.Facts;
import org.eligo.ingest.Messages;
import org.eligo.ledger.Ledger;
import org.eligo.ledger.Merkle;
import org.eligo.support.Timestamps;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;

/** {@link TestLedger} records a row a test stored as the service would have: the same leaf, in an entry of its own. */
@QuarkusTest
class TestLedgerTest {

    /** An entry: its labels, leaf hashes and root. */
    private record Entry(List<String> labels, List<byte[]> leaves, byte[] root) {
    }

    private static List<Entry> entriesWith(String label) throws Exception {
        List<Entry> found = new ArrayList<>();
        try (Connection connection = Sql.connect();
             PreparedStatement statement = connection.prepareStatement("SELECT labels, leaves, root FROM ledger_entry WHERE ? = ANY(labels) ORDER BY id")) {
            statement.setString(1, label);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    byte[] packed = rs.getBytes(2);
                    List<byte[]> leaves = new ArrayList<>();
                    for (int i = 0; i < packed.length; i += 32) {
                        leaves.add(Arrays.copyOfRange(packed, i, i + 32));
                    }
                    found.add(new Entry(List.of((String[]) rs.getArray(1).getArray()), leaves, rs.getBytes(3)));
                }
            }
        }
        return found;
    }

    @Test
    void anAdoptedMessageIsOneEntryWhoseLeafIsTheMessageAsStored() throws Exception {
        String id = "msg_" + UlidCreator.getMonotonicUlid();
        // Every member of the canonical content set, times with microseconds, numbers jsonb normalises.
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, occurred_at, data, traceparent, status, attempts)"
                        + " VALUES (?, ?, 'e', 'income.monthly', ?, '2027-06-30T23:59:59.123456Z'::timestamptz, ?::jsonb, ?, 'PROCESSED', 1)",
                id, unique("adopted"), unique("A"), "{\"year\": 2027, \"month\": 6, \"amount_cents\": 1e2, \"hours\": 35.50}",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        String label = "message/" + id;
        assertEquals(List.of(), entriesWith(label), "not in the ledger before");

        TestLedger.adoptMessages(id);

        byte[] expected;
        try (Connection connection = Sql.connect(); PreparedStatement statement = connection.prepareStatement(
                "SELECT id, source, external_id, type, beneficiary_id, occurred_at, received_at, data::text, traceparent FROM message WHERE id = ?")) {
            statement.setString(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                assertTrue(rs.next());
                expected = Ledger.leaf(label, Messages.canonical(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        Timestamps.read(rs, 6), Timestamps.read(rs, 7), rs.getString(8), rs.getString(9))).hash();
            }
        }
        List<Entry> entries = entriesWith(label);
        assertEquals(1, entries.size(), label + " is in exactly one entry");
        Entry entry = entries.get(0);
        assertEquals(List.of(label), entry.labels(), "one call, one entry: of this record alone");
        assertArrayEquals(expected, entry.leaves().get(0), "the leaf is the message as stored");
        assertArrayEquals(Merkle.root(entry.leaves()), entry.root(), "the root is over its leaves");

        // A record is adopted once; one the service wrote, never.
        assertThrows(IllegalStateException.class, () -> TestLedger.adoptMessages(id));
        assertEquals(1, entriesWith(label).size());
    }

    @Test
    void itsLeavesAreTheOnesTheServiceRecordsForEachKindOfRecord() throws Exception {
        String beneficiary = unique("A");
        String source = unique("adopted");
        String message = submit(income(source, "1", beneficiary, 2027, 6, 61250, 35.50));
        String first = awaitProcessed(message).path("fact_ids[0]");
        String determination = await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<Map<String, Object>> rows = Sql.rows("SELECT id FROM determination WHERE beneficiary_id = ?", beneficiary);
            return rows.isEmpty() ? null : (String) rows.get(0).get("id");
        }, java.util.Objects::nonNull);
        // A correction revokes the first fact.
        awaitProcessed(submit(income(source, "2", beneficiary, 2027, 6, 41250, 20)));

        List<String> labels = List.of("message/" + message, "fact/" + first, Facts.revocationLabel(first), "determination/" + determination);
        List<Ledger.Leaf> computed;
        try (Connection connection = Sql.connect()) {
            computed = TestLedger.leaves(connection, labels.toArray(String[]::new));
        }
        for (int i = 0; i < labels.size(); i++) {
            List<Entry> recorded = entriesWith(labels.get(i));
            assertEquals(1, recorded.size(), labels.get(i));
            Entry entry = recorded.get(0);
            assertArrayEquals(entry.leaves().get(entry.labels().indexOf(labels.get(i))), computed.get(i).hash(), labels.get(i));
        }
        assertThrows(IllegalStateException.class, () -> TestLedger.adoptFacts(first), "the service recorded it");
    }
}
