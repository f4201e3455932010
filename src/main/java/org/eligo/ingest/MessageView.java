package org.eligo.ingest;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A stored message with its processing state and the facts derived from it. */
@Schema(name = "Message")
public record MessageView(String id, String source, String externalId, String type, String beneficiaryId,
                          Instant occurredAt, Instant receivedAt,
                          @Schema(enumeration = {"RECEIVED", "PROCESSED", "FAILED"}) String status,
                          int attempts, String lastError, JsonNode data, List<String> factIds) {
}
