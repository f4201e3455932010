package org.eligo.facts;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** An immutable fact as the API shows it: typed data, the message it came from, and its revocation. */
@Schema(name = "Fact")
public record Fact(String id, @Schema(ref = org.eligo.facts.rest.FactTypeDocument.TYPE_NAMES) String type, String beneficiaryId, String messageId, Instant createdAt,
                   Instant revokedAt, String revokedBy,
                   @JsonInclude(JsonInclude.Include.NON_NULL)
                   @Schema(description = "the replay that re-derived this fact from its message; absent for ordinary processing") String replayId,
                   @Schema(ref = org.eligo.facts.rest.FactTypeDocument.DATA,
                           description = "The typed fields of the fact, every field present (null when not reported)") ObjectNode data) implements org.eligo.auth.AboutBeneficiary {

    /** A withdrawal (contract, "Withdrawal"): its key reads as having no fact. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isWithdrawal() {
        return data != null && data.path(FactData.WITHDRAWN).asBoolean(false);
    }

    public boolean activeAt(Instant instant) {
        return !createdAt.isAfter(instant) && (revokedAt == null || revokedAt.isAfter(instant));
    }
}
