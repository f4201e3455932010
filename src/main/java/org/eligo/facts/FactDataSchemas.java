package org.eligo.facts;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The {@code data} of each message and fact type, for the OpenAPI document only (validation is
 * {@link FactData}, driven by {@link FactTypes}; keep the two in step when a type changes).
 */
public final class FactDataSchemas {

    private FactDataSchemas() {
    }

    @Schema(name = "IncomeMonthlyData", description = "type income.monthly; key (beneficiary, year, month)", additionalProperties = Schema.False.class)
    public record IncomeMonthly(
            @Schema(required = true, minimum = "1900", maximum = "2200") int year,
            @Schema(required = true, minimum = "1", maximum = "12") int month,
            @Schema(required = true, minimum = "0", maximum = "1000000000000") long amountCents,
            @Schema(minimum = "0", maximum = "744", description = "at most 6 decimal places") Double hours,
            @Schema(minimum = "0") Integer employers) {
    }

    @Schema(name = "PersonBirthdateData", description = "type person.birthdate; key (beneficiary)", additionalProperties = Schema.False.class)
    public record PersonBirthdate(
            @Schema(required = true, format = "date", description = "not after the day the message is received") String birthDate) {
    }

    @Schema(name = "DisabilityStatusData", description = "type disability.status; key (beneficiary)", additionalProperties = Schema.False.class)
    public record DisabilityStatus(
            @Schema(required = true) boolean disabled,
            @Schema(defaultValue = "false") Boolean medicallyFrail) {
    }
}
