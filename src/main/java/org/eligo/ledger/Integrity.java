package org.eligo.ledger;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The answer of {@code GET /v1/integrity/verify}.
 *
 * @param head    the digest of the last sealed block (hex), the value a published digest is compared with; null before the first block
 * @param problem which check the first bad record failed
 */
@Schema(name = "Integrity")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Integrity(boolean ok, Checked checked, String head, BadRecord firstBad, String problem) {

    /**
     * How much was checked: records by table (a fact's revocation counts with its fact), the blocks
     * and the entries, and of those the entries not sealed yet (written in the last seconds, or held
     * back by a long transaction: their records are checked against them, but no signature covers them yet).
     */
    public record Checked(long messages, long facts, long determinations, long blocks, long entries, long unsealedEntries) {
    }

    /** The first record found altered, removed, inserted behind the service's back, or wrongly sealed. */
    public record BadRecord(String table, String id) {
    }
}
