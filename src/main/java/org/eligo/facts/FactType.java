package org.eligo.facts;

import java.util.List;

/**
 * A kind of fact, as declared in one file of {@code rules/fact-types/}: the message type that
 * produces it, what its key is, what the absence of a fact means, and its typed fields. Validation,
 * parsing, storage, supersession, reads, the OpenAPI document and the rules engine are written once
 * against this description; a new fact type is a new declaration file (see rules/README.md).
 *
 * @param name        the message and fact type, e.g. {@code income.monthly}
 * @param key         what identifies one fact of the type besides the beneficiary
 * @param absent      what having no active fact of the type means
 * @param description what a fact of the type says
 * @param reference   the law or rule it comes from
 * @param fields      typed fields, the key kind's own first, then the declared ones in file order
 * @param requires    requirements across fields, besides each field's own (none: empty)
 * @param file        the declaration's file name, e.g. {@code income.monthly.yaml}
 * @param source      the declaration's text, as loaded (rulesets hash it with their own files)
 */
public record FactType(String name, KeyKind key, Absent absent, String description, String reference,
                       List<Field> fields, List<Requirement> requires, String file, String source) {

    public FactType {
        requires = requires == null ? List.of() : List.copyOf(requires);
    }

    /** A requirement across a fact's fields (the declaration's {@code requires}); withdrawals are exempt. */
    public sealed interface Requirement {

        /** At least one of these optional fields is given. */
        record AtLeastOneOf(List<String> fields) implements Requirement {
            public AtLeastOneOf {
                fields = List.copyOf(fields);
            }
        }

        /** The optional field {@code field} is given unless the text field {@code when} holds {@code is}. */
        record RequiredUnless(String field, String when, String is) implements Requirement {
        }
    }

    /** What identifies one fact of a type (contract, ruleset page, "Fact types it reads"). */
    public enum KeyKind {
        /** One active fact per beneficiary. */
        PERSON,
        /** One active fact per beneficiary, year and month. */
        MONTH,
        /** One active fact per beneficiary and episode_id; the episode runs from start to an optional, inclusive end. */
        EPISODE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What it means when a beneficiary has no active fact of the type. */
    public enum Absent {
        /** Nothing is known: tests that need the fact are NO_DATA. */
        UNKNOWN,
        /** Nothing of the kind is on record: tests that need it are NOT_PASSED. */
        NONE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * The typed view of these facts for SQL readers: the fact table's rows of this type with one
     * column per field (derived from the name, which the loader checks; never from a request).
     */
    public String view() {
        return "fact_" + name.replace('.', '_');
    }

    /**
     * A fact's key within its beneficiary and type, as stored in {@code fact.fact_key}: empty for a
     * person fact, {@code YYYY-MM} for a month (so keys sort as months do), the episode id for an
     * episode.
     *
     * @param values typed values in field order, as {@link FactData#parse} returns them
     */
    public String factKey(Object[] values) {
        return switch (key) {
            case PERSON -> "";
            case MONTH -> monthKey((Integer) values[0], (Integer) values[1]);
            case EPISODE -> (String) values[0];
        };
    }

    /** The key within the beneficiary and type of a fact whose {@code data} (stored or shown) holds its key fields. */
    public String factKey(com.fasterxml.jackson.databind.JsonNode data) {
        return switch (key) {
            case PERSON -> "";
            case MONTH -> monthKey(data.get("year").intValue(), data.get("month").intValue());
            case EPISODE -> data.get("episode_id").asText();
        };
    }

    /**
     * {@code YYYY-MM}, zero-padded. Not {@code String.format}: it builds a {@code DecimalFormatSymbols}
     * per call, and this runs once per fact on ingest (a few percent of the service's allocation).
     */
    static String monthKey(int year, int month) {
        return pad(year, 4) + (month < 10 ? "-0" : "-") + month;
    }

    /** {@code value} with leading zeros to {@code width} characters, sign included, as {@code %0<width>d} writes it. */
    public static String pad(int value, int width) {
        String digits = Long.toString(Math.abs((long) value));
        String sign = value < 0 ? "-" : "";
        int zeros = width - sign.length() - digits.length();
        return zeros <= 0 ? sign + digits : sign + "0".repeat(zeros) + digits;
    }

    public List<Field> keyFields() {
        return fields.stream().filter(Field::key).toList();
    }

    public Field field(String fieldName) {
        return fields.stream().filter(f -> f.name().equals(fieldName)).findFirst().orElse(null);
    }
}
