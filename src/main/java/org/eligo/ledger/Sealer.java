package org.eligo.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.support.Db;
import org.jboss.logging.Logger;

import io.quarkus.scheduler.Scheduled;

/**
 * Seals committed ledger entries into signed blocks; the owner of {@code ledger_block} and
 * {@code ledger_key}.
 *
 * <p><b>One sealer at a time.</b> Any instance with the signing key may seal; the advisory lock
 * (class 17776) lets one do it and the others pass.
 *
 * <p><b>No entry skipped or sealed twice.</b> Transactions commit out of id order, so "every entry
 * after the last one sealed" would skip an entry whose transaction started early and committed
 * late. Instead each block covers a range of writing transactions, from where the previous block
 * ended up to the oldest transaction still running when the block is made (the snapshot's xmin,
 * as the postgresql-event-sourcing project does): every transaction below that bound has finished,
 * so its entry is visible now if it ever will be, and a transaction still running gets a
 * transaction id at or above the bound whenever it writes. The next block starts at the bound.
 * A long-running write transaction therefore holds sealing back, never loses an entry.
 */
@ApplicationScoped
public class Sealer {

    private static final Logger LOG = Logger.getLogger(Sealer.class);

    static final String TRY_LOCK = "SELECT pg_try_advisory_xact_lock(17776, 0)";

    static final String LAST = "SELECT id, to_tx::text, digest FROM ledger_block ORDER BY id DESC LIMIT 1";


    static final String INSERT_KEY = """
            INSERT INTO ledger_key (key_id, public_key, first_block, first_used) VALUES (?, ?, ?, ?)
            ON CONFLICT (key_id) DO NOTHING
            """;

    static final String INSERT_BLOCK = """
            INSERT INTO ledger_block (id, from_tx, to_tx, entries, root, prev_digest, sealed_at, digest, key_id, signature)
            VALUES (?, ?::xid8, ?::xid8, ?, ?, ?, ?, ?, ?, ?)
            """;

    /** Where the first block starts: before every transaction id. */
    static final String FIRST_TX = "0";

    static final byte[] GENESIS = new byte[32];

    private final Db db;
    private final LedgerKeys keys;
    private final Ledger ledger;

    public Sealer(Db db, LedgerKeys keys, Ledger ledger) {
        this.db = db;
        this.keys = keys;
        this.ledger = ledger;
    }

    @Scheduled(every = "${eligo.ledger.seal-interval:1s}", delayed = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        if (!keys.canSign()) {
            return;
        }
        try {
            seal();
        } catch (RuntimeException e) {
            LOG.warnf("Sealing the ledger failed (%s); the next run seals what this one did not", e.getMessage());
        }
    }

    /**
     * Seals the entries committed since the last block into one block; returns its id, or empty when
     * there was nothing to seal or another instance is sealing. A transaction of its own.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public OptionalLong seal() {
        if (!keys.canSign()) {
            throw new IllegalStateException("This instance has no ledger signing key (eligo.ledger.signing-key)");
        }
        return db.inCurrent(connection -> {
            if (!tryLock(connection)) {
                return OptionalLong.empty();
            }
            long id = 1;
            String fromTx = FIRST_TX;
            byte[] previous = GENESIS;
            try (PreparedStatement statement = connection.prepareStatement(LAST); ResultSet rs = statement.executeQuery()) {
                if (rs.next()) {
                    id = rs.getLong(1) + 1;
                    fromTx = rs.getString(2);
                    previous = rs.getBytes(3);
                }
            }
            Ledger.Sealable sealable = ledger.sealable(fromTx);
            String bound = sealable.bound();
            List<byte[]> entryLeaves = sealable.roots().stream().map(Merkle::leafHash).toList();
            if (bound != null && Long.compareUnsigned(Long.parseUnsignedLong(bound), Long.parseUnsignedLong(fromTx)) < 0) {
                // Transaction ids went backwards: the database was restored from a dump into a new cluster
                // (pg_upgrade keeps them). Nothing written now could be sealed; say so rather than stall quietly.
                LOG.errorf("Ledger sealing is stuck: the database's transaction ids (%s) are behind the last block's bound (%s), as after a"
                        + " restore from a dump into a new cluster. Advance them past it (pg_resetwal -x) before writing more.", bound, fromTx);
                return OptionalLong.empty();
            }
            if (entryLeaves.isEmpty()) {
                return OptionalLong.empty();
            }
            LedgerKeys.TrustedKey key = keys.signingKey().orElseThrow();
            Block block = new Block(id, fromTx, bound, entryLeaves.size(), Merkle.root(entryLeaves), previous,
                    Instant.now().truncatedTo(ChronoUnit.MICROS), key.keyId());
            byte[] digest = block.digest();
            byte[] signature = keys.sign(digest);
            try (PreparedStatement statement = connection.prepareStatement(INSERT_KEY)) {
                statement.setString(1, key.keyId());
                statement.setString(2, key.pem());
                statement.setLong(3, id);
                statement.setObject(4, block.sealedAt().atOffset(java.time.ZoneOffset.UTC));
                statement.executeUpdate();
            }
            try (PreparedStatement statement = connection.prepareStatement(INSERT_BLOCK)) {
                statement.setLong(1, id);
                statement.setString(2, block.fromTx());
                statement.setString(3, block.toTx());
                statement.setInt(4, block.entries());
                statement.setBytes(5, block.root());
                statement.setBytes(6, block.prevDigest());
                statement.setObject(7, block.sealedAt().atOffset(java.time.ZoneOffset.UTC));
                statement.setBytes(8, digest);
                statement.setString(9, block.keyId());
                statement.setBytes(10, signature);
                statement.executeUpdate();
            }
            // Every digest goes to the log too, which is shipped out of the database's reach.
            LOG.infof("Ledger block %d sealed: %d entries (transactions %s to %s), digest %s, key %s", id, block.entries(),
                    block.fromTx(), block.toTx(), HexFormat.of().formatHex(digest), block.keyId());
            return OptionalLong.of(id);
        });
    }

    static final String KEYS_IN_USE = "SELECT key_id, first_used FROM ledger_key ORDER BY first_used, key_id";

    /** A trusted public key and when it was in use: from the first block it signed to the first block of the next key. */
    public record KeyInUse(String keyId, String algorithm, String publicKey, Instant inUseFrom, Instant inUseUntil, boolean signing) {
    }

    /**
     * The trusted public keys (configuration's: the signing key's and eligo.ledger.trusted-public-keys),
     * each with the period the blocks say it signed in; a trusted key that has signed no block yet has
     * none. A key the table names but configuration does not trust is not listed: the table is not trusted.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public List<KeyInUse> keysInUse() {
        return db.inCurrent(connection -> {
            List<String> order = new ArrayList<>();
            java.util.Map<String, Instant> firstUsed = new java.util.HashMap<>();
            try (PreparedStatement statement = connection.prepareStatement(KEYS_IN_USE); ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    order.add(rs.getString(1));
                    firstUsed.put(rs.getString(1), org.eligo.support.Timestamps.read(rs, 2));
                }
            }
            String signing = keys.signingKey().map(LedgerKeys.TrustedKey::keyId).orElse(null);
            List<KeyInUse> listed = new ArrayList<>();
            for (LedgerKeys.TrustedKey key : keys.trustedInOrder()) {
                Instant from = firstUsed.get(key.keyId());
                Instant until = null;
                int at = order.indexOf(key.keyId());
                if (at >= 0 && at + 1 < order.size()) {
                    until = firstUsed.get(order.get(at + 1));
                }
                listed.add(new KeyInUse(key.keyId(), LedgerKeys.ALGORITHM, key.pem(), from, until, key.keyId().equals(signing)));
            }
            listed.sort(java.util.Comparator.comparing(KeyInUse::inUseFrom, java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder())));
            return listed;
        });
    }

    /** A block as stored, with its digest and signature. */
    public record StoredBlock(Block block, byte[] digest, byte[] signature) {
    }

    static final String ALL_BLOCKS = """
            SELECT id, from_tx::text, to_tx::text, entries, root, prev_digest, sealed_at, key_id, digest, signature FROM ledger_block ORDER BY id
            """;

    /** The block whose transaction range holds tx. Binds tx twice. */
    static final String BLOCK_OF_TX = """
            SELECT id, from_tx::text, to_tx::text, entries, root, prev_digest, sealed_at, key_id, digest, signature FROM ledger_block
             WHERE from_tx <= ?::xid8 AND to_tx > ?::xid8
            """;


    /** The latest block. */
    static final String LAST_BLOCK = """
            SELECT id, from_tx::text, to_tx::text, entries, root, prev_digest, sealed_at, key_id, digest, signature FROM ledger_block
             ORDER BY id DESC LIMIT 1
            """;

    /** Blocks from an id on. Binds the id. */
    static final String BLOCKS_FROM = """
            SELECT id, from_tx::text, to_tx::text, entries, root, prev_digest, sealed_at, key_id, digest, signature FROM ledger_block
             WHERE id >= ? ORDER BY id
            """;

    /** The blocks from {@code id} on (for an incremental verification; seconds' worth of blocks between runs, so read whole). */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<StoredBlock> blocksFrom(long id) {
        return db.inCurrent(connection -> {
            List<StoredBlock> blocks = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(BLOCKS_FROM)) {
                statement.setLong(1, id);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        blocks.add(block(rs));
                    }
                }
            }
            return blocks;
        });
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void forEachBlock(Ledger.Sink<StoredBlock> sink) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ALL_BLOCKS)) {
                statement.setFetchSize(2000);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next() && sink.accept(block(rs))) {
                        // streamed
                    }
                }
            }
            return null;
        });
    }

    /** The latest sealed block: what the operations page shows as the ledger's head. */
    @Transactional
    public java.util.Optional<StoredBlock> lastBlock() {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(LAST_BLOCK); ResultSet rs = statement.executeQuery()) {
                return rs.next() ? java.util.Optional.of(block(rs)) : java.util.Optional.<StoredBlock>empty();
            }
        });
    }

    /** The block that sealed transaction {@code tx}'s entries, if one has. */
    @Transactional(Transactional.TxType.MANDATORY)
    public java.util.Optional<StoredBlock> blockOf(long tx) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(BLOCK_OF_TX)) {
                statement.setString(1, Long.toUnsignedString(tx));
                statement.setString(2, Long.toUnsignedString(tx));
                try (ResultSet rs = statement.executeQuery()) {
                    return rs.next() ? java.util.Optional.of(block(rs)) : java.util.Optional.<StoredBlock>empty();
                }
            }
        });
    }

    private static StoredBlock block(ResultSet rs) throws SQLException {
        Block block = new Block(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getBytes(5), rs.getBytes(6),
                org.eligo.support.Timestamps.read(rs, 7), rs.getString(8));
        return new StoredBlock(block, rs.getBytes(9), rs.getBytes(10));
    }

    private static boolean tryLock(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(TRY_LOCK); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
