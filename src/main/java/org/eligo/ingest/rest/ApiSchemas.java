package org.eligo.ingest.rest;

import java.util.List;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

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
            @Schema(required = true, enumeration = {"income.monthly", "person.birthdate", "disability.status"}) String type,
            @Schema(required = true, pattern = "^[A-Za-z0-9._:-]{1,64}$", example = "B-000123") String beneficiaryId,
            @Schema(format = "date-time", example = "2027-05-02T10:00:00Z") String occurredAt,
            @Schema(required = true, description = "Validated strictly for the type: unknown fields, wrong types and out-of-range values are 400.",
                    oneOf = {IncomeMonthly.class, PersonBirthdate.class, DisabilityStatus.class}) Object data) {
    }

    @Schema(name = "BatchSubmission", additionalProperties = Schema.False.class)
    record BatchSubmission(@Schema(required = true, minItems = 1, maxItems = 1000) List<MessageSubmission> messages) {
    }

    @Schema(name = "IncomeMonthlyData", description = "type income.monthly; key (beneficiary, year, month)", additionalProperties = Schema.False.class)
    record IncomeMonthly(
            @Schema(required = true, minimum = "1900", maximum = "2200") int year,
            @Schema(required = true, minimum = "1", maximum = "12") int month,
            @Schema(required = true, minimum = "0", maximum = "1000000000000") long amountCents,
            @Schema(minimum = "0", maximum = "744", description = "at most 6 decimal places") Double hours,
            @Schema(minimum = "0") Integer employers) {
    }

    @Schema(name = "PersonBirthdateData", description = "type person.birthdate; key (beneficiary)", additionalProperties = Schema.False.class)
    record PersonBirthdate(
            @Schema(required = true, format = "date", description = "not after the day the message is received") String birthDate) {
    }

    @Schema(name = "DisabilityStatusData", description = "type disability.status; key (beneficiary)", additionalProperties = Schema.False.class)
    record DisabilityStatus(
            @Schema(required = true) boolean disabled,
            @Schema(defaultValue = "false") Boolean medicallyFrail) {
    }
}
