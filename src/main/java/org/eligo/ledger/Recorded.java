package org.eligo.ledger;

/**
 * A stored record as the ledger sees it: its leaf label ('&lt;table&gt;/&lt;id&gt;') and its canonical
 * content recomputed from what is stored now. Each table's owner reads its records in label order
 * ({@code forEachRecorded}, into a {@link Ledger.Sink}), so verification can walk them beside the ledger's leaves.
 *
 * @param ledgerTx for a determination, the transaction its row says wrote it (determination.ledger_tx),
 *                 which must be the entry's; null otherwise
 */
public record Recorded(String label, Canonical content, String ledgerTx) {

    public Recorded(String label, Canonical content) {
        this(label, content, null);
    }
}
