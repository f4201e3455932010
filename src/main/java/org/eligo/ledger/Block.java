package org.eligo.ledger;

import java.time.Instant;
import java.util.HexFormat;

/**
 * A sealed block's header: what its digest covers. The digest is SHA-256 over the header's
 * canonical content ({@link Canonical}; README, "The ledger"), so that anyone can recompute it
 * from a receipt with a JSON-unaware tool: the receipt carries the header's text.
 *
 * @param fromTx  the first writing transaction it covers (the previous block's toTx)
 * @param toTx    the transaction bound it stops before
 * @param root    the Merkle root over its entries' roots (each a leaf), in (tx, id) order
 */
public record Block(long id, String fromTx, String toTx, int entries, byte[] root, byte[] prevDigest, Instant sealedAt, String keyId) {

    /** The header as canonical JSON: the bytes the digest hashes. */
    public byte[] header() {
        HexFormat hex = HexFormat.of();
        return Canonical.object().put("id", id).put("from_tx", fromTx).put("to_tx", toTx).put("entries", entries)
                .put("root", hex.formatHex(root)).put("prev_digest", hex.formatHex(prevDigest)).put("sealed_at", sealedAt)
                .put("key_id", keyId).bytes();
    }

    public byte[] digest() {
        return Merkle.sha256().digest(header());
    }
}
