package org.eligo.facts;

import java.math.BigDecimal;
import java.util.List;

/**
 * One typed field of a fact, as its declaration in {@code rules/fact-types/} states it: its JSON
 * name, its kind, whether it is part of the fact's key, and the bounds ingest validates.
 *
 * @param name          JSON field name (also the column name in the type's view)
 * @param kind          value kind, which fixes the SQL type
 * @param key           part of the fact key (besides the beneficiary); key fields come from the key kind
 * @param required      must be present and non-null
 * @param defaultValue  value stored when an optional field is absent (null for none)
 * @param min           inclusive lower bound for numbers (null for none)
 * @param max           inclusive upper bound for numbers (null for none)
 * @param decimals      for DECIMAL: the most decimal places a value may have
 * @param notAfterToday for dates: may not be later than the day the message is received
 * @param values        for TEXT: the allowed values (empty: any text up to {@code maxLength})
 * @param maxLength     for TEXT: the longest value, in characters
 * @param description   what the field means, for the OpenAPI document and readers
 */
public record Field(String name, Kind kind, boolean key, boolean required, Object defaultValue,
                    BigDecimal min, BigDecimal max, int decimals, boolean notAfterToday,
                    List<String> values, int maxLength, String description) {

    /** Value kinds and the PostgreSQL types that store them. */
    public enum Kind {
        INTEGER("int4", "integer"), BIGINT("int8", "integer"), DECIMAL("numeric", "number"), BOOLEAN("bool", "boolean"),
        DATE("date", "string"), TEXT("text", "string");

        private final String sqlType;
        private final String jsonType;

        Kind(String sqlType, String jsonType) {
            this.sqlType = sqlType;
            this.jsonType = jsonType;
        }

        public String sqlType() {
            return sqlType;
        }

        /** The JSON Schema type of a value of this kind. */
        public String jsonType() {
            return jsonType;
        }
    }

    /** The most decimal places a declaration may allow: bounded so that no value overflows numeric. */
    public static final int MAX_DECIMAL_SCALE = 6;

    /** The longest text value a declaration may allow. */
    public static final int MAX_TEXT_LENGTH = 1000;

    public Field {
        values = values == null ? List.of() : List.copyOf(values);
    }

    static Field keyInteger(String name, long min, long max, String description) {
        return new Field(name, Kind.INTEGER, true, true, null, BigDecimal.valueOf(min), BigDecimal.valueOf(max), 0, false,
                List.of(), 0, description);
    }

    static Field keyText(String name, int maxLength, String description) {
        return new Field(name, Kind.TEXT, true, true, null, null, null, 0, false, List.of(), maxLength, description);
    }

    static Field date(String name, boolean required, boolean notAfterToday, String description) {
        return new Field(name, Kind.DATE, false, required, null, null, null, 0, notAfterToday, List.of(), 0, description);
    }
}
