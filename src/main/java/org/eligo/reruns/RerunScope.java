package org.eligo.reruns;

import java.util.Locale;

import jakarta.persistence.AttributeConverter;

/**
 * Whom a rerun determines ({@code rerun.scope}, V5__reruns.sql): the beneficiaries whose facts
 * changed since their latest determination for the period and ruleset (or who have none), every
 * beneficiary with facts, or the beneficiaries listed. Written in lower case, as the API takes it.
 */
public enum RerunScope {
    CHANGED, ALL, BENEFICIARIES;

    /** As the API takes it and the table stores it: {@code changed}, {@code all}, {@code beneficiaries}. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The scope written {@code value}, or null when there is none. */
    public static RerunScope of(String value) {
        for (RerunScope scope : values()) {
            if (scope.value().equals(value)) {
                return scope;
            }
        }
        return null;
    }

    /** The column's lower-case text. */
    public static class Column implements AttributeConverter<RerunScope, String> {
        @Override
        public String convertToDatabaseColumn(RerunScope scope) {
            return scope == null ? null : scope.value();
        }

        @Override
        public RerunScope convertToEntityAttribute(String value) {
            return of(value);
        }
    }
}
