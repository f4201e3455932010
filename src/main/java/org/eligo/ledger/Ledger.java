package org.eligo.ledger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

import org.eligo.support.Db;

/**
 * The owner of {@code ledger_entry}: each write transaction's records, hashed in the service and
 * stored as one entry when the transaction commits.
 *
 * <p>A table's owner calls {@link #record} for every record it writes (with its canonical content,
 * the values as stored); the leaves gather per transaction, and just before the transaction
 * commits one row is inserted on its connection: the labels, the leaf hashes and their Merkle root.
 * So the entry commits or rolls back with the records it names, and a transaction that writes no
 * record writes no entry. Why at commit rather than per call: one row per transaction however many
 * statements it ran (a message batch writes messages; processing writes facts, revocations and
 * determinations in one transaction).
 */
@ApplicationScoped
public class Ledger {

    /** The entry insert: labels, the leaf hashes packed in label order, their Merkle root (public for tests that adopt rows they stored). */
    public static final String INSERT = "INSERT INTO ledger_entry (labels, leaves, root) VALUES (?::text[], ?, ?)";

    /** A leaf: its label and hash. */
    public record Leaf(String label, byte[] hash) {
    }

    private final TransactionSynchronizationRegistry registry;
    private final Db db;

    public Ledger(TransactionSynchronizationRegistry registry, Db db) {
        this.registry = registry;
        this.db = db;
    }

    /** The leaf of a record: SHA-256(0x00 || label || 0x00 || canonical content), label '&lt;table&gt;/&lt;id&gt;'. */
    public static Leaf leaf(String label, byte[] canonical) {
        MessageDigest sha = Merkle.sha256();
        sha.update((byte) 0x00);
        sha.update(label.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0x00);
        sha.update(canonical);
        return new Leaf(label, sha.digest());
    }

    /** Adds a record to the current transaction's entry (which must be an active transaction). */
    public void record(String label, byte[] canonical) {
        pending().add(leaf(label, canonical));
    }

    private Pending pending() {
        Pending pending = (Pending) registry.getResource(Pending.class);
        if (pending == null) {
            if (registry.getTransactionStatus() != Status.STATUS_ACTIVE) {
                throw new IllegalStateException("A record is written outside an active transaction: it would be in no ledger entry");
            }
            pending = new Pending();
            registry.putResource(Pending.class, pending);
            registry.registerInterposedSynchronization(pending);
        }
        return pending;
    }

    /** One transaction's leaves; inserts the entry before the transaction completes. */
    private final class Pending implements Synchronization {

        private final List<Leaf> leaves = new ArrayList<>();

        void add(Leaf leaf) {
            leaves.add(leaf);
        }

        @Override
        public void beforeCompletion() {
            if (leaves.isEmpty() || registry.getRollbackOnly()) {
                return;
            }
            // A failure here marks the transaction rollback-only: the records and their entry never commit apart.
            List<byte[]> hashes = new ArrayList<>(leaves.size());
            byte[] packed = new byte[32 * leaves.size()];
            String[] labels = new String[leaves.size()];
            for (int i = 0; i < leaves.size(); i++) {
                Leaf leaf = leaves.get(i);
                hashes.add(leaf.hash());
                labels[i] = leaf.label();
                System.arraycopy(leaf.hash(), 0, packed, 32 * i, 32);
            }
            byte[] root = Merkle.root(hashes);
            db.inCurrent(connection -> {
                try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
                    statement.setArray(1, connection.createArrayOf("text", labels));
                    statement.setBytes(2, packed);
                    statement.setBytes(3, root);
                    statement.executeUpdate();
                }
                return null;
            });
        }

        @Override
        public void afterCompletion(int status) {
            leaves.clear();
        }
    }
}
