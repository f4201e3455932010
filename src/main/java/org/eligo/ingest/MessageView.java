package org.eligo.ingest;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A stored message with its processing state and the facts derived from it. */
@Schema(name = "Message")
public record MessageView(String id, String source, String externalId,
                          @Schema(ref = org.eligo.facts.rest.FactTypeDocument.TYPE_NAMES) String type, String beneficiaryId,
                          Instant occurredAt, Instant receivedAt,
                          MessageStatus status,
                          int attempts, String lastError,
                          @Schema(ref = org.eligo.facts.rest.FactTypeDocument.DATA, description = "The data as submitted") JsonNode data,
                          List<String> factIds,
                          @JsonInclude(JsonInclude.Include.NON_NULL)
                          @Schema(description = "the W3C traceparent of the submitting request, if it had a valid one") String traceparent) implements org.eligo.auth.AboutBeneficiary {

    /** This message with the ids of the facts made from it. */
    public MessageView withFactIds(List<String> ids) {
        return new MessageView(id, source, externalId, type, beneficiaryId, occurredAt, receivedAt, status, attempts, lastError, data, ids, traceparent);
    }
}
