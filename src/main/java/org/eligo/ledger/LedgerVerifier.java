package org.eligo.ledger;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.Determinations;
import org.eligo.facts.Facts;
import org.eligo.ingest.Messages;
import org.eligo.partitions.PartitionFunctions;
import org.eligo.rules.RulesetLoader;
import org.eligo.rules.RulesetVersion;
import org.eligo.support.Db;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Checks the whole ledger against what is stored, in one snapshot, and names the first thing wrong.
 *
 * <ol>
 * <li><b>Blocks</b>, in order: each starts where the one before ended and names its digest; its
 *     entries are exactly those of its transactions (their count and Merkle root); its digest is
 *     over its header; and it is signed by a key this service trusts (configuration's, never the
 *     database's). An unsigned block is not skipped: it fails.</li>
 * <li><b>Entries</b>: each entry's root is over its leaves. Entries not sealed yet are counted.</li>
 * <li><b>Records</b> against leaves, walked side by side in label order: each stored record's
 *     canonical content, recomputed now, must be the leaf the ledger holds for it (else it was
 *     altered); a record with no leaf was written behind the service's back; a leaf with no record was
 *     removed, unless a valid retention purge removed its month; a label in two entries is forged. A
 *     determination's ledger_tx must be its entry's transaction (receipts find the entry by it).</li>
 * <li><b>Retention purges</b>: each is a whole month that had expired under the retention it names.</li>
 * <li><b>Revocations</b>: each revoker rightly supersedes the fact it revoked, and no key is left with
 *     no active fact.</li>
 * <li><b>Ruleset versions</b>: each recorded version's files still hash to its sha256.</li>
 * </ol>
 */
@ApplicationScoped
public class LedgerVerifier {

    private final Db db;
    private final Ledger ledger;
    private final Sealer sealer;
    private final LedgerKeys keys;
    private final Messages messages;
    private final Facts facts;
    private final Determinations determinations;
    private final PartitionFunctions partitions;
    private final ObjectMapper json;
    private final LedgerConfig config;

    public LedgerVerifier(Db db, Ledger ledger, Sealer sealer, LedgerKeys keys, Messages messages, Facts facts, Determinations determinations,
                          PartitionFunctions partitions, ObjectMapper json, LedgerConfig config) {
        this.config = config;
        this.db = db;
        this.ledger = ledger;
        this.sealer = sealer;
        this.keys = keys;
        this.messages = messages;
        this.facts = facts;
        this.determinations = determinations;
        this.partitions = partitions;
        this.json = json;
    }

    /** Thrown inside the walk to stop at the first bad thing. */
    private static final class Found extends RuntimeException {
        final Integrity.BadRecord record;
        final String problem;

        Found(String table, String id, String problem) {
            super(problem, null, false, false);
            this.record = new Integrity.BadRecord(table, id);
            this.problem = problem;
        }
    }

    /** How often a long verification reports its progress, in records. */
    static final long PROGRESS_EVERY = 10_000;

    /** Counts as the walk goes. */
    private static final class Counts {
        long messages;
        long facts;
        long determinations;
        long blocks;
        long entries;
        long unsealed;
        String head;
        java.util.function.LongConsumer progress = done -> { };
        long lastBlockId;
        byte[] lastDigest;

        /** A block checked: the head moves to it. */
        void sealed(Sealer.StoredBlock stored) {
            blocks++;
            head = HexFormat.of().formatHex(stored.digest());
            lastBlockId = stored.block().id();
            lastDigest = stored.digest();
        }

        /** Every so many records, says how far the walk is. */
        void recordDone() {
            long done = messages + facts + determinations;
            if (done % PROGRESS_EVERY == 0) {
                progress.accept(done);
            }
        }

        Integrity.Checked checked() {
            return new Integrity.Checked(messages, facts, determinations, blocks, entries, unsealed);
        }
    }

    /** Verifies everything, in a transaction of its own that may read for hours (6 h, past the default time-out). */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.REQUIRES_NEW)
    @io.quarkus.narayana.jta.runtime.TransactionConfiguration(timeout = 6 * 60 * 60)
    public Integrity verify() {
        return verifyAll(done -> { }).integrity();
    }

    /**
     * Verifies everything. The caller's transaction must be a fresh one; it is made a REPEATABLE READ,
     * read-only snapshot here, so that writes going on meanwhile cannot make a sound ledger look broken.
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public Run verifyAll(java.util.function.LongConsumer progress) {
        db.readOnlySnapshot();
        Counts counts = new Counts();
        counts.progress = progress;
        try {
            blocksAndEntries(counts);
            records(counts);
            purgesAreWholeExpiredMonths();
            revocations();
            rulesetFiles();
        } catch (Found found) {
            return new Run(new Integrity(false, counts.checked(), counts.head, found.record, found.problem), null);
        }
        return new Run(new Integrity(true, counts.checked(), counts.head, null, null), new Through(counts.lastBlockId, counts.lastDigest));
    }

    /** The last block a sound run verified, and its digest: where an incremental run starts. */
    public record Through(long block, byte[] digest) {
    }

    /** A run's answer, and for a sound one the last block it verified ({@code through}; null when it found something wrong). */
    public record Run(Integrity integrity, Through through) {
    }

    /**
     * Verifies what was sealed after block {@code after} (whose digest must still be
     * {@code afterDigest}: the blocks before it were not rewritten since they were verified): each new
     * block, its entries, and every record their leaves name; and that no entry is overdue for
     * sealing. A record inserted with no entry at all, or altered under an older block, is for a full
     * run to find. The caller's transaction must be a REPEATABLE READ snapshot ({@link Db#readOnlySnapshot}).
     */
    @jakarta.transaction.Transactional(jakarta.transaction.Transactional.TxType.MANDATORY)
    public Run verifySince(long after, byte[] afterDigest) {
        Counts counts = new Counts();
        try {
            List<PartitionFunctions.Purge> purges = partitions.purges();
            List<Sealer.StoredBlock> blocks = sealer.blocksFrom(Math.max(after, 1));
            byte[] previousDigest = Sealer.GENESIS;
            String previousTo = Sealer.FIRST_TX;
            int from = 0;
            if (after > 0) {
                if (blocks.isEmpty() || blocks.get(0).block().id() != after || !Arrays.equals(blocks.get(0).digest(), afterDigest)) {
                    throw new Found("ledger_block", Long.toString(after), "it is not the block verified earlier (removed or rewritten since)");
                }
                previousDigest = blocks.get(0).digest();
                previousTo = blocks.get(0).block().toTx();
                counts.head = HexFormat.of().formatHex(previousDigest);
                counts.lastBlockId = after;
                counts.lastDigest = previousDigest;
                from = 1;
            }
            for (Sealer.StoredBlock stored : blocks.subList(from, blocks.size())) {
                List<Ledger.StoredEntry> entries = ledger.entriesBetween(stored.block().fromTx(), stored.block().toTx());
                for (Ledger.StoredEntry entry : entries) {
                    counts.entries++;
                    if (!entry.rootHolds()) {
                        throw new Found("ledger_entry", Long.toString(entry.id()), "its root is not the Merkle root of its leaves (an entry altered)");
                    }
                }
                checkBlock(stored, entries.stream().map(Ledger.StoredEntry::root).toList(), previousDigest, previousTo);
                checkLeaves(entries, counts, purges);
                previousDigest = stored.digest();
                previousTo = stored.block().toTx();
                counts.sealed(stored);
            }
            java.time.Instant unsealedSince = facts.now().minus(config.sealGrace());
            for (Ledger.StoredEntry entry : ledger.entriesBetween(previousTo, null)) {
                counts.unsealed++;
                sealedInTime(entry, unsealedSince);
            }
        } catch (Found found) {
            return new Run(new Integrity(false, counts.checked(), counts.head, found.record, found.problem), null);
        }
        return new Run(new Integrity(true, counts.checked(), counts.head, null, null), new Through(counts.lastBlockId, counts.lastDigest));
    }

    /** An entry still unsealed seal-grace after it was written: a block removed, or nothing sealing. */
    private void sealedInTime(Ledger.StoredEntry entry, java.time.Instant unsealedSince) {
        if (entry.createdAt().isBefore(unsealedSince)) {
            throw new Found("ledger_entry", Long.toString(entry.id()), "not sealed " + config.sealGrace()
                    + " after it was written (a block removed, or no instance is sealing: eligo.ledger.signing-key)");
        }
    }

    /** A stored record against the leaf the ledger holds for it: its content, and for a determination its ledger_tx. */
    private static void matches(Recorded recorded, Ledger.PlacedLeaf leaf, String table) {
        String id = idOf(recorded.label());
        if (!Arrays.equals(Ledger.leaf(recorded.label(), recorded.content()).hash(), leaf.hash())) {
            throw new Found(table, id, recorded.label().endsWith(REVOCATION) ? "its revocation is not what the ledger holds (altered)"
                    : "its content is not what the ledger holds (altered)");
        }
        if (recorded.ledgerTx() != null && Long.parseUnsignedLong(recorded.ledgerTx()) != leaf.tx()) {
            throw new Found(table, id, "its ledger_tx does not name the transaction whose entry holds it (its receipt would be lost)");
        }
    }

    /** A leaf whose record is not stored: removed, unless a purge removed its month; an un-revoked fact's revocation. */
    private static void gone(String label, List<PartitionFunctions.Purge> purges) {
        String table = tableOf(label);
        String id = idOf(label);
        if (label.endsWith(REVOCATION)) {
            throw new Found(table, id, "the ledger holds its revocation, but it is not revoked (un-revoked or removed)");
        }
        if (!purged(purges, table, id)) {
            throw new Found(table, id, "in the ledger but no longer stored (removed behind the service's back)");
        }
    }

    /** The records the entries' leaves name, as stored now, against those leaves. */
    private void checkLeaves(List<Ledger.StoredEntry> entries, Counts counts, List<PartitionFunctions.Purge> purges) {
        Map<String, java.util.List<String>> idsByTable = new java.util.HashMap<>();
        java.util.TreeMap<String, Ledger.PlacedLeaf> leaves = new java.util.TreeMap<>();
        for (Ledger.StoredEntry entry : entries) {
            for (int i = 0; i < entry.labels().size(); i++) {
                String label = entry.labels().get(i);
                if (leaves.put(label, new Ledger.PlacedLeaf(label, entry.leaves().get(i), entry.id(), entry.tx())) != null) {
                    throw new Found(tableOf(label), idOf(label), "in two ledger entries");
                }
                idsByTable.computeIfAbsent(tableOf(label), t -> new ArrayList<>()).add(idOf(label));
            }
        }
        Map<String, Recorded> stored = new java.util.HashMap<>();
        idsByTable.forEach((table, ids) -> {
            List<Recorded> found = switch (table) {
                case Determinations.LEDGER_TABLE -> determinations.recorded(ids);
                case Facts.LEDGER_TABLE -> facts.recorded(ids);
                case Messages.LEDGER_TABLE -> messages.recorded(ids);
                case PartitionFunctions.LEDGER_TABLE -> purges.stream().map(PartitionFunctions.Purge::recorded).toList();
                default -> throw new Found(table, ids.get(0), "a leaf of a table the ledger does not record");
            };
            found.forEach(r -> stored.put(r.label(), r));
        });
        for (Ledger.PlacedLeaf leaf : leaves.values()) {
            Recorded recorded = stored.get(leaf.label());
            if (recorded == null) {
                gone(leaf.label(), purges);
                continue;
            }
            String table = tableOf(leaf.label());
            matches(recorded, leaf, table);
            switch (table) {
                case Determinations.LEDGER_TABLE -> counts.determinations++;
                case Facts.LEDGER_TABLE -> counts.facts += leaf.label().endsWith(REVOCATION) ? 0 : 1;
                case Messages.LEDGER_TABLE -> counts.messages++;
                default -> { }
            }
        }
    }

    /** Whether a valid-looking purge removed the month of this id (its validity is checked on its own). */
    private static boolean purged(List<PartitionFunctions.Purge> purges, String table, String id) {
        return purges.stream().anyMatch(p -> p.removed(table, id));
    }

    private static String tableOf(String label) {
        int slash = label.indexOf('/');
        return slash < 0 ? label : label.substring(0, slash);
    }

    private static String idOf(String label) {
        String rest = label.substring(label.indexOf('/') + 1);
        return rest.endsWith(REVOCATION) ? rest.substring(0, rest.length() - REVOCATION.length()) : rest;
    }

    // ------------------------------------------------------------------------------------ blocks

    private void blocksAndEntries(Counts counts) {
        List<Sealer.StoredBlock> blocks = new ArrayList<>();
        sealer.forEachBlock(blocks::add);
        // (Blocks are few, one a second at most: held in memory; entries and records are streamed.)
        // Walk blocks and entries together: entries come in (tx, id) order, blocks cover consecutive ranges.
        int[] at = {0};
        byte[][] previousDigest = {Sealer.GENESIS};
        String[] previousTo = {Sealer.FIRST_TX};
        List<byte[]> inBlock = new ArrayList<>();
        Runnable[] closeBlock = new Runnable[1];
        closeBlock[0] = () -> {
            Sealer.StoredBlock stored = blocks.get(at[0]);
            checkBlock(stored, inBlock, previousDigest[0], previousTo[0]);
            previousDigest[0] = stored.digest();
            previousTo[0] = stored.block().toTx();
            counts.sealed(stored);
            inBlock.clear();
            at[0]++;
        };
        Found[] first = {null};
        java.time.Instant unsealedSince = facts.now().minus(config.sealGrace());
        ledger.forEachEntry(entry -> keepGoing(first, () -> {
            counts.entries++;
            if (!entry.rootHolds()) {
                throw new Found("ledger_entry", Long.toString(entry.id()), "its root is not the Merkle root of its leaves (an entry altered)");
            }
            while (at[0] < blocks.size() && Long.compareUnsigned(entry.tx(), Long.parseUnsignedLong(blocks.get(at[0]).block().toTx())) >= 0) {
                closeBlock[0].run();
            }
            if (at[0] < blocks.size()) {
                inBlock.add(entry.root());
            } else {
                counts.unsealed++;
                sealedInTime(entry, unsealedSince);
            }
        }));
        rethrow(first);
        while (at[0] < blocks.size()) {
            closeBlock[0].run();
        }
    }

    private void checkBlock(Sealer.StoredBlock stored, List<byte[]> entryRoots, byte[] previousDigest, String previousTo) {
        Block block = stored.block();
        String id = Long.toString(block.id());
        if (!block.fromTx().equals(previousTo) || !Arrays.equals(block.prevDigest(), previousDigest)) {
            throw new Found("ledger_block", id, "it does not follow the block before it (a block removed, inserted or rewritten)");
        }
        List<byte[]> leaves = entryRoots.stream().map(Merkle::leafHash).toList();
        if (leaves.size() != block.entries() || leaves.isEmpty() || !Arrays.equals(Merkle.root(leaves), block.root())) {
            throw new Found("ledger_block", id, "its entries are not the ones it sealed (an entry removed, added or altered): it sealed "
                    + block.entries() + ", its transactions " + block.fromTx() + " to " + block.toTx() + " have " + leaves.size());
        }
        if (!Arrays.equals(block.digest(), stored.digest())) {
            throw new Found("ledger_block", id, "its digest is not over its header (a block rewritten)");
        }
        if (!keys.trusts(block.keyId())) {
            throw new Found("ledger_block", id, "signed with key " + block.keyId() + ", which this service does not trust (eligo.ledger.trusted-public-keys)");
        }
        if (!keys.verify(block.keyId(), stored.digest(), stored.signature())) {
            throw new Found("ledger_block", id, "its signature does not verify");
        }
    }

    // ------------------------------------------------------------------------------------ records

    private void records(Counts counts) {
        List<PartitionFunctions.Purge> purges = partitions.purges();
        Found[] first = {null};
        ledger.withLeavesInLabelOrder(leaves -> {
            // Label order across tables: determination/ < fact/ < message/ < retention_purge/.
            Walk walk = new Walk(leaves, purges);
            determinations.forEachRecorded(recorded -> keepGoing(first, () -> {
                counts.determinations++;
                counts.recordDone();
                walk.record(recorded, Determinations.LEDGER_TABLE);
            }));
            if (first[0] != null || !keepGoing(first, () -> walk.leavesBefore(Facts.LEDGER_TABLE + "/"))) {
                return;
            }
            facts.forEachRecorded(recorded -> keepGoing(first, () -> {
                if (!recorded.label().endsWith(REVOCATION)) {
                    counts.facts++;
                    counts.recordDone();
                }
                walk.record(recorded, Facts.LEDGER_TABLE);
            }));
            if (first[0] != null || !keepGoing(first, () -> walk.leavesBefore(Messages.LEDGER_TABLE + "/"))) {
                return;
            }
            messages.forEachRecorded(recorded -> keepGoing(first, () -> {
                counts.messages++;
                counts.recordDone();
                walk.record(recorded, Messages.LEDGER_TABLE);
            }));
            if (first[0] != null || !keepGoing(first, () -> walk.leavesBefore(PartitionFunctions.LEDGER_TABLE + "/"))) {
                return;
            }
            List<Recorded> purgeRecords = new ArrayList<>(purges.stream().map(PartitionFunctions.Purge::recorded).toList());
            purgeRecords.sort(java.util.Comparator.comparing(Recorded::label));
            for (Recorded purge : purgeRecords) {
                if (!keepGoing(first, () -> walk.record(purge, PartitionFunctions.LEDGER_TABLE))) {
                    return;
                }
            }
            keepGoing(first, () -> walk.leavesBefore(null));
        });
        rethrow(first);
    }

    private static final String REVOCATION = "/revocation";

    /** One step of a walk inside an owner's stream: a bad find stops the stream (owners' methods must not see it thrown). */
    private interface Step {
        void run() throws SQLException;
    }

    private static boolean keepGoing(Found[] first, Step step) throws SQLException {
        try {
            step.run();
            return true;
        } catch (Found found) {
            first[0] = found;
            return false;
        }
    }

    private static void rethrow(Found[] first) {
        if (first[0] != null) {
            throw first[0];
        }
    }

    /** Records and leaves, side by side in label order. */
    private static final class Walk {
        private final Ledger.LeafCursor leaves;
        private final List<PartitionFunctions.Purge> purges;

        Walk(Ledger.LeafCursor leaves, List<PartitionFunctions.Purge> purges) {
            this.leaves = leaves;
            this.purges = purges;
        }

        void record(Recorded recorded, String table) throws SQLException {
            leavesBefore(recorded.label());
            Ledger.PlacedLeaf leaf = leaves.peek();
            String id = idOf(recorded.label());
            boolean revocation = recorded.label().endsWith(REVOCATION);
            if (leaf == null || !leaf.label().equals(recorded.label())) {
                throw new Found(table, id, revocation ? "revoked with no ledger record of its revocation (revoked behind the service's back)"
                        : "in no ledger entry (written behind the service's back)");
            }
            leaves.take();
            Ledger.PlacedLeaf again = leaves.peek();
            if (again != null && again.label().equals(recorded.label())) {
                throw new Found(table, id, "in two ledger entries (" + leaf.entryId() + " and " + again.entryId() + ")");
            }
            matches(recorded, leaf, table);
        }

        /** Takes every leaf before {@code label} (all that are left when null): each is a record that is gone. */
        void leavesBefore(String label) throws SQLException {
            for (Ledger.PlacedLeaf leaf = leaves.peek(); leaf != null && (label == null || leaf.label().compareTo(label) < 0); leaf = leaves.peek()) {
                leaves.take();
                gone(leaf.label(), purges);
            }
        }
    }

    // ------------------------------------------------------------------------------------ the rest

    private void purgesAreWholeExpiredMonths() {
        OptionalLong invalid = partitions.firstInvalidPurge();
        if (invalid.isPresent()) {
            throw new Found(PartitionFunctions.LEDGER_TABLE, Long.toString(invalid.getAsLong()),
                    "not the removal of a whole month that had expired under its retention");
        }
    }

    private void revocations() {
        Optional<String[]> wrong = facts.firstWronglyRevoked();
        if (wrong.isPresent()) {
            throw new Found(Facts.LEDGER_TABLE, wrong.get()[0], wrong.get()[1]);
        }
    }

    private void rulesetFiles() {
        db.inCurrent(connection -> {
            for (RulesetVersion.RecordedFiles recorded : RulesetVersion.recordedFiles(connection)) {
                Map<String, String> files;
                try {
                    files = json.readValue(recorded.files(), new TypeReference<Map<String, String>>() { });
                } catch (java.io.IOException e) {
                    files = Map.of();
                }
                if (!RulesetLoader.sha256(files).equals(recorded.sha256())) {
                    throw new Found("ruleset_version", recorded.rulesetId() + "@" + recorded.sha256(), "the files do not hash to the recorded sha256");
                }
            }
            return null;
        });
    }
}
