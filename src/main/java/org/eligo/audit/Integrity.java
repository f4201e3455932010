package org.eligo.audit;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The answer of {@code GET /v1/integrity/verify}. */
@Schema(name = "Integrity")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Integrity(boolean ok, Checked checked, String head, BadRecord firstBad, String problem) {

    /** How many records were checked, by kind (a fact's revocation counts with its fact). */
    public record Checked(long messages, long facts, long determinations, long checkpoints) {
    }

    /** The first record found altered, removed or missing from its chain. */
    public record BadRecord(String table, String id) {
    }
}
