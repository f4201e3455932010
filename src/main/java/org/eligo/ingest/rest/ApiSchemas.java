package org.eligo.ingest.rest;

import java.util.List;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eligo.facts.rest.FactTypeDocument;

/**
 * Request shapes for the OpenAPI document. The resource parses bodies itself (to report every bad
 * field by pointer), so these records only describe what it accepts.
 */
final class ApiSchemas {

    private ApiSchemas() {
    }

    @Schema(name = "MessageSubmission", additionalProperties = Schema.False.class)
    record MessageSubmission(
            @Schema(required = true, pattern = "^[a-z0-9][a-z0-9._-]{0,63}$", example = "state-wage-feed") String source,
            @Schema(required = true, minLength = 1, maxLength = 200, example = "wr-2027-04-000123") String externalId,
            @Schema(required = true, ref = FactTypeDocument.TYPE_NAMES) String type,
            @Schema(required = true, pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "B-000123") String beneficiaryId,
            @Schema(format = "date-time", example = "2027-05-02T10:00:00Z") String occurredAt,
            @Schema(required = true, description = "Validated strictly for the type: unknown fields, wrong types and out-of-range values are 400.",
                    ref = FactTypeDocument.DATA) Object data) {
    }

    @Schema(name = "BatchSubmission", additionalProperties = Schema.False.class)
    record BatchSubmission(@Schema(required = true, minItems = 1, maxItems = 1000) List<MessageSubmission> messages) {
    }
}
