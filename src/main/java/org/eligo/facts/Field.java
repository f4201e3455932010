package org.eligo.facts;

import java.math.BigDecimal;

/**
 * One typed field of a fact: its JSON name (which is also its column name), its kind, whether it is
 * part of the fact's key, and the bounds ingest validates.
 *
 * @param name          JSON field and column name
 * @param kind          value kind, which fixes the SQL type
 * @param key           part of the fact key (besides the beneficiary)
 * @param required      must be present and non-null
 * @param defaultValue  value stored when an optional field is absent (null for none)
 * @param min           inclusive lower bound for numbers (null for none)
 * @param max           inclusive upper bound for numbers (null for none)
 * @param notAfterToday for dates: may not be later than the day the message is received
 */
public record Field(String name, Kind kind, boolean key, boolean required, Object defaultValue,
                    BigDecimal min, BigDecimal max, boolean notAfterToday) {

    /** Value kinds and the PostgreSQL types that store them. */
    public enum Kind {
        INTEGER("int4"), BIGINT("int8"), DECIMAL("numeric"), BOOLEAN("bool"), DATE("date");

        private final String sqlType;

        Kind(String sqlType) {
            this.sqlType = sqlType;
        }

        public String sqlType() {
            return sqlType;
        }
    }

    /** Decimal places kept for DECIMAL fields: enough for hours, and bounded so no value overflows numeric. */
    public static final int MAX_DECIMAL_SCALE = 6;

    static Field keyInteger(String name, long min, long max) {
        return new Field(name, Kind.INTEGER, true, true, null, BigDecimal.valueOf(min), BigDecimal.valueOf(max), false);
    }

    static Field integer(String name, boolean required, long min, long max) {
        return new Field(name, Kind.INTEGER, false, required, null, BigDecimal.valueOf(min), BigDecimal.valueOf(max), false);
    }

    static Field bigint(String name, boolean required, long min, long max) {
        return new Field(name, Kind.BIGINT, false, required, null, BigDecimal.valueOf(min), BigDecimal.valueOf(max), false);
    }

    static Field decimal(String name, boolean required, long min, long max) {
        return new Field(name, Kind.DECIMAL, false, required, null, BigDecimal.valueOf(min), BigDecimal.valueOf(max), false);
    }

    static Field bool(String name, boolean required, Boolean defaultValue) {
        return new Field(name, Kind.BOOLEAN, false, required, defaultValue, null, null, false);
    }

    static Field pastDate(String name) {
        return new Field(name, Kind.DATE, false, true, null, null, null, true);
    }
}
