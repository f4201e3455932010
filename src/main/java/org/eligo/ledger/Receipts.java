package org.eligo.ledger;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eligo.determinations.Determinations;
import org.eligo.partitions.PartitionFunctions;
import org.eligo.support.Ids;
import org.eligo.support.problem.ProblemException;

/**
 * Receipts: a proof, checkable offline with standard tools, that a determination (its content, its
 * checks and the facts it read) is in a signed block. README, "The ledger", says how to check one.
 */
@ApplicationScoped
public class Receipts {

    /** A receipt. Hashes are lower-case hex; the signature is base64. */
    @Schema(name = "Receipt")
    public record Receipt(
            @Schema(description = "The leaf: its label, the determination's canonical content as stored (the exact bytes hashed, as UTF-8 text), and its hash")
            Leaf leaf,
            @Schema(description = "The write transaction's ledger entry: the leaf's index among its leaves, the audit path (RFC 6962) to its root")
            Entry entry,
            @Schema(description = "The block that sealed the entry: the entry's index, the audit path from SHA-256(0x00 || entry root) to the block's root, "
                    + "the block's header (the exact bytes its digest hashes), digest, Ed25519 signature and key")
            SealedBlock block) {
    }

    public record Leaf(String label, String content, String hash) {
    }

    public record Entry(long id, int leafIndex, int leafCount, List<String> path, String root) {
    }

    public record SealedBlock(long id, int entryIndex, int entryCount, List<String> path, String root, String header, String digest,
                              String signature, String keyId, String publicKey) {
    }

    private final Determinations determinations;
    private final PartitionFunctions partitions;
    private final Ledger ledger;
    private final Sealer sealer;
    private final LedgerKeys keys;
    private final LedgerConfig config;

    public Receipts(Determinations determinations, PartitionFunctions partitions, Ledger ledger, Sealer sealer, LedgerKeys keys, LedgerConfig config) {
        this.determinations = determinations;
        this.partitions = partitions;
        this.ledger = ledger;
        this.sealer = sealer;
        this.keys = keys;
        this.config = config;
    }

    @Transactional
    public Receipt forDetermination(String id) {
        if (!Ids.isWellFormed(id, Ids.DETERMINATION)) {
            throw ProblemException.notFound("No determination with id " + id);
        }
        Recorded recorded = determinations.recorded(id).orElseThrow(() -> {
            Optional<PartitionFunctions.Purge> purge = partitions.purges().stream()
                    .filter(p -> p.removed(Determinations.LEDGER_TABLE, id))
                    .findFirst();
            return ProblemException.notFound(purge.map(p -> "Determination " + id + " was removed by retention purge " + p.id()
                    + " (the month of " + p.table() + " ids from " + p.idsFrom() + "): it has no receipt any more")
                    .orElse("No determination with id " + id));
        });
        if (recorded.ledgerTx() == null) {
            throw ProblemException.notFound("Determination " + id + " was written before the ledger existed: it has no receipt");
        }
        long tx = Long.parseUnsignedLong(recorded.ledgerTx());
        Ledger.Leaf leaf = Ledger.leaf(recorded.label(), recorded.content());
        Ledger.StoredEntry entry = null;
        int leafIndex = -1;
        for (Ledger.StoredEntry candidate : ledger.entriesOf(tx)) {
            int index = candidate.labels().indexOf(recorded.label());
            if (index >= 0) {
                entry = candidate;
                leafIndex = index;
                break;
            }
        }
        if (entry == null || !Arrays.equals(entry.leaves().get(leafIndex), leaf.hash())) {
            // Tampering, not a state to wait out: verification says what.
            throw ProblemException.conflict("Determination " + id + " as stored does not match the ledger"
                    + (entry == null ? " (no entry of its transaction holds it)" : " (its content is not the leaf the ledger holds)")
                    + "; GET /v1/integrity/verify names what was changed", null);
        }
        Sealer.StoredBlock block = sealer.blockOf(tx).orElseThrow(() -> ProblemException.notYet(
                "Determination " + id + " is not sealed yet: a block seals it within seconds of its write", config.sealInterval().plusSeconds(1)));
        List<Ledger.EntryRoot> roots = ledger.entryRoots(block.block());
        int entryIndex = -1;
        for (int i = 0; i < roots.size(); i++) {
            if (roots.get(i).id() == entry.id()) {
                entryIndex = i;
            }
        }
        List<byte[]> blockLeaves = roots.stream().map(r -> Merkle.leafHash(r.root())).toList();
        HexFormat hex = HexFormat.of();
        String publicKey = keys.trustedKey(block.block().keyId()).map(LedgerKeys.TrustedKey::pem).orElse(null);
        return new Receipt(
                new Leaf(recorded.label(), recorded.content().text(), hex.formatHex(leaf.hash())),
                new Entry(entry.id(), leafIndex, entry.leaves().size(), Merkle.path(entry.leaves(), leafIndex).stream().map(hex::formatHex).toList(),
                        hex.formatHex(entry.root())),
                new SealedBlock(block.block().id(), entryIndex, roots.size(), Merkle.path(blockLeaves, entryIndex).stream().map(hex::formatHex).toList(),
                        hex.formatHex(block.block().root()), new String(block.block().header(), StandardCharsets.UTF_8), hex.formatHex(block.digest()),
                        Base64.getEncoder().encodeToString(block.signature()), block.block().keyId(), publicKey));
    }
}
