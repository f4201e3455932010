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

    /**
     * The leaf of a record: SHA-256(0x00 || label || 0x00 || canonical content), label
     * '&lt;table&gt;/&lt;id&gt;', the content hashed straight from its writer (no copy of its bytes).
     */
    public static Leaf leaf(String label, Canonical content) {
        MessageDigest sha = Merkle.sha256();
        sha.update((byte) 0x00);
        sha.update(label.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0x00);
        content.digestInto(sha);
        return new Leaf(label, sha.digest());
    }

    /** Adds a record to the current transaction's entry (which must be an active transaction), hashing its canonical content as it is written. */
    public void record(String label, Canonical content) {
        pending().add(leaf(label, content));
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

    // ---------------------------------------------------------------- reading, for verification and receipts

    /** An entry as stored: its id, writing transaction, labels, leaf hashes and root. */
    public record StoredEntry(long id, long tx, List<String> labels, List<byte[]> leaves, byte[] root, java.time.Instant createdAt) {

        /** Whether the root is the Merkle root over the leaves, one leaf per label. */
        public boolean rootHolds() {
            return !leaves.isEmpty() && leaves.size() == labels.size() && java.util.Arrays.equals(Merkle.root(leaves), root);
        }
    }

    /**
     * Every entry in (tx, id) order, streamed. (e.tx, qualified: a bare "tx" in ORDER BY would name the
     * output column, the text, and sort 1000 before 784.)
     */
    static final String ALL_ENTRIES = "SELECT e.id, e.tx::text, e.labels, e.leaves, e.root, e.created_at FROM ledger_entry e ORDER BY e.tx, e.id";

    /** The entries a transaction wrote. Binds the tx (decimal). */
    static final String ENTRIES_OF_TX = "SELECT id, tx::text, labels, leaves, root, created_at FROM ledger_entry WHERE tx = ?::xid8 ORDER BY id";

    /**
     * Every leaf with the entry that holds it, in label order (byte order: labels are ASCII), streamed.
     * A leaf's hash is cut from its entry's packed leaves.
     */
    static final String ALL_LEAVES = """
            SELECT l.label, substring(e.leaves FROM (l.n::integer - 1) * 32 + 1 FOR 32), e.id, e.tx::text
              FROM ledger_entry e CROSS JOIN LATERAL unnest(e.labels) WITH ORDINALITY AS l(label, n)
             ORDER BY l.label COLLATE "C", e.tx, e.id
            """;

    /** A leaf and where it is. */
    public record PlacedLeaf(String label, byte[] hash, long entryId, long tx) {
    }

    /** Takes streamed items; false stops the stream (verification found what it looks for). */
    @FunctionalInterface
    public interface Sink<T> {
        boolean accept(T item) throws java.sql.SQLException;
    }

    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public void forEachEntry(Sink<StoredEntry> sink) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ALL_ENTRIES)) {
                statement.setFetchSize(2000);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next() && sink.accept(entry(rs))) {
                        // streamed
                    }
                }
            }
            return null;
        });
    }

    /**
     * The bound a block may be sealed up to, and the roots of the entries from {@code fromTx} to it,
     * in one statement so both come from its snapshot (pg_current_snapshot is the statement's): the
     * oldest transaction still running, below which every transaction has finished (Sealer says why
     * that skips nothing and seals nothing twice). Binds the previous block's to_tx.
     */
    static final String SEALABLE = """
            SELECT b.bound::text, e.root
              FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS bound) AS b
              LEFT JOIN ledger_entry e ON e.tx >= ?::xid8 AND e.tx < b.bound
             ORDER BY e.tx, e.id
            """;

    /** What a block could seal now: the bound, and the roots of the entries below it, in (tx, id) order. */
    public record Sealable(String bound, List<byte[]> roots) {
    }

    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public Sealable sealable(String fromTx) {
        return db.inCurrent(connection -> {
            String bound = null;
            List<byte[]> roots = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(SEALABLE)) {
                statement.setString(1, fromTx);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        bound = rs.getString(1);
                        if (rs.getBytes(2) != null) {
                            roots.add(rs.getBytes(2));
                        }
                    }
                }
            }
            return new Sealable(bound, roots);
        });
    }

    /** The entries' roots of a block's range, in (tx, id) order. Binds from_tx, to_tx. */
    static final String ROOTS_IN_RANGE = "SELECT id, root FROM ledger_entry WHERE tx >= ?::xid8 AND tx < ?::xid8 ORDER BY tx, id";

    /** An entry's id and root. */
    public record EntryRoot(long id, byte[] root) {
    }

    /** The roots of the entries a block covers, in the order its root is built over them. */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public List<EntryRoot> entryRoots(Block block) {
        return db.inCurrent(connection -> {
            List<EntryRoot> roots = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(ROOTS_IN_RANGE)) {
                statement.setString(1, block.fromTx());
                statement.setString(2, block.toTx());
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        roots.add(new EntryRoot(rs.getLong(1), rs.getBytes(2)));
                    }
                }
            }
            return roots;
        });
    }

    /** The entries of transactions from one bound (included) to another (excluded; null: all after). Binds the bounds. */
    static final String ENTRIES_BETWEEN = """
            SELECT e.id, e.tx::text, e.labels, e.leaves, e.root, e.created_at FROM ledger_entry e
             WHERE e.tx >= ?::xid8 AND (?::xid8 IS NULL OR e.tx < ?::xid8) ORDER BY e.tx, e.id
            """;

    /** The entries of the transactions from {@code fromTx} (included) to {@code toTx} (excluded; null for every later one), in (tx, id) order. */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public List<StoredEntry> entriesBetween(String fromTx, String toTx) {
        return db.inCurrent(connection -> {
            List<StoredEntry> entries = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(ENTRIES_BETWEEN)) {
                statement.setString(1, fromTx);
                statement.setString(2, toTx);
                statement.setString(3, toTx);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        entries.add(entry(rs));
                    }
                }
            }
            return entries;
        });
    }

    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public List<StoredEntry> entriesOf(long tx) {
        return db.inCurrent(connection -> {
            List<StoredEntry> entries = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(ENTRIES_OF_TX)) {
                statement.setString(1, Long.toUnsignedString(tx));
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        entries.add(entry(rs));
                    }
                }
            }
            return entries;
        });
    }

    /** Work with a leaf cursor, which lives for the call. */
    @FunctionalInterface
    public interface CursorWork {
        void run(LeafCursor leaves) throws java.sql.SQLException;
    }

    /**
     * Runs {@code work} with a cursor over every leaf in label order (in the caller's transaction). The
     * cursor lives only during the call: its statement is this call's, closed with it. {@code work}
     * must not throw to stop early (a transactional method's exception would roll the caller back); it
     * simply stops pulling.
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public void withLeavesInLabelOrder(CursorWork work) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ALL_LEAVES)) {
                statement.setFetchSize(5000);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    work.run(new LeafCursor(rs));
                }
            }
            return null;
        });
    }

    /** A pull cursor over leaves in label order, with one leaf of look-ahead. */
    public static final class LeafCursor {
        private final java.sql.ResultSet rs;
        private PlacedLeaf next;
        private boolean done;

        LeafCursor(java.sql.ResultSet rs) {
            this.rs = rs;
        }

        /** The next leaf without taking it; null at the end. */
        public PlacedLeaf peek() throws java.sql.SQLException {
            if (next == null && !done) {
                if (rs.next()) {
                    next = new PlacedLeaf(rs.getString(1), rs.getBytes(2), rs.getLong(3), Long.parseUnsignedLong(rs.getString(4)));
                } else {
                    done = true;
                }
            }
            return next;
        }

        public PlacedLeaf take() throws java.sql.SQLException {
            PlacedLeaf leaf = peek();
            next = null;
            return leaf;
        }
    }

    private static StoredEntry entry(java.sql.ResultSet rs) throws java.sql.SQLException {
        String[] labels = (String[]) rs.getArray(3).getArray();
        byte[] packed = rs.getBytes(4);
        List<byte[]> leaves = new ArrayList<>(packed.length / 32);
        for (int i = 0; i + 32 <= packed.length; i += 32) {
            leaves.add(java.util.Arrays.copyOfRange(packed, i, i + 32));
        }
        if (packed.length % 32 != 0) {
            leaves.add(new byte[0]);
        }
        return new StoredEntry(rs.getLong(1), Long.parseUnsignedLong(rs.getString(2)), List.of(labels), leaves, rs.getBytes(5),
                org.eligo.support.Timestamps.read(rs, 6));
    }
}
