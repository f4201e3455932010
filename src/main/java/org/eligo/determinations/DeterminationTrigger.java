package org.eligo.determinations;

import java.util.Locale;

import jakarta.persistence.AttributeConverter;

/**
 * What made a determination ({@code determination.trigger}, V4__rulesets_and_determinations.sql):
 * a change to the beneficiary's facts (the queue), a caseworker's request, or a rerun. Stored and
 * shown in lower case, as the API has always written it.
 */
public enum DeterminationTrigger {
    INGEST, REQUEST, RERUN;

    /** As stored and as the API shows it: {@code ingest}, {@code request}, {@code rerun}. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DeterminationTrigger of(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }

    /** The column's lower-case text. */
    public static class Column implements AttributeConverter<DeterminationTrigger, String> {
        @Override
        public String convertToDatabaseColumn(DeterminationTrigger trigger) {
            return trigger == null ? null : trigger.value();
        }

        @Override
        public DeterminationTrigger convertToEntityAttribute(String value) {
            return value == null ? null : of(value);
        }
    }
}
