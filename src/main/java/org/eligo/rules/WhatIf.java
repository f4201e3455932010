package org.eligo.rules;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.support.problem.FieldError;

/**
 * The parameter values of a what-if evaluation ({@code "parameters"} in
 * {@code POST /v1/beneficiaries/{id}/evaluations}): a state option, or any other dated parameter,
 * taking another value for one evaluation that is not stored. It is what a state folder does
 * (rules/README.md, "A state's choices"), asked for one answer instead of loaded for all.
 *
 * <p>Each value keeps the kind its parameter has, so a rule reads it as it reads the file's: a
 * boolean for a switch, a date (YYYY-MM-DD) for a date, a number otherwise. A number is not negative,
 * a whole number stays whole (counts of months, hours and cents), and a count of months is at most
 * {@value #MAX_MONTHS}: the review and look-back windows walk month by month, and a year is beyond
 * any option the law gives.
 */
public final class WhatIf {

    /** The most months a what-if may set a months parameter to. */
    public static final int MAX_MONTHS = 12;

    /** The largest number a what-if may give; far beyond any threshold in cents, and keeps arithmetic small. */
    private static final BigDecimal MAX_NUMBER = new BigDecimal("1000000000000");

    private WhatIf() {
    }

    /**
     * The values in {@code parameters} (a JSON object: name → value) as {@link Ruleset#withValues}
     * takes them, sorted by name; each mistake is added to {@code errors} at
     * {@code /parameters/<name>}, and then the map holds only the values that were right.
     */
    public static Map<String, BigDecimal> read(Ruleset ruleset, JsonNode parameters, List<FieldError> errors) {
        Map<String, BigDecimal> values = new TreeMap<>();
        if (!parameters.isObject()) {
            errors.add(FieldError.at("/parameters", "must be an object: a parameter's name and the value to evaluate with"));
            return values;
        }
        parameters.fields().forEachRemaining(entry -> {
            String name = entry.getKey();
            String pointer = "/parameters/" + name.replace("~", "~0").replace("/", "~1");
            Parameter parameter = ruleset.parameters().get(name);
            if (parameter == null) {
                errors.add(FieldError.at(pointer, "is not a parameter of " + ruleset.id() + " version " + ruleset.version()
                        + " (its parameters: GET /v1/rulesets/" + ruleset.id() + ")"));
                return;
            }
            if (parameter.derived() != null) {
                errors.add(FieldError.at(pointer, "is worked out from other parameters; set those instead"));
                return;
            }
            String mistake = valueMistake(ruleset, parameter, entry.getValue());
            if (mistake != null) {
                errors.add(FieldError.at(pointer, mistake));
                return;
            }
            values.put(name, value(parameter, entry.getValue()));
        });
        return values;
    }

    /** The values as the response echoes them: what each is, in the kind its parameter has. */
    public static Map<String, Object> echo(Ruleset ruleset, Map<String, BigDecimal> values) {
        Map<String, Object> echoed = new TreeMap<>();
        values.forEach((name, value) -> echoed.put(name, switch (ruleset.parameters().get(name).kind()) {
            case BOOLEAN -> value.signum() != 0;
            case DATE -> Parameter.date(value).toString();
            case NUMBER -> value;
        }));
        return echoed;
    }

    private static String valueMistake(Ruleset ruleset, Parameter parameter, JsonNode value) {
        switch (parameter.kind()) {
            case BOOLEAN -> {
                return value.isBoolean() ? null : "must be true or false";
            }
            case DATE -> {
                if (!value.isTextual()) {
                    return "must be a date, YYYY-MM-DD";
                }
                try {
                    LocalDate.parse(value.textValue());
                    return null;
                } catch (DateTimeParseException e) {
                    return "must be a date, YYYY-MM-DD";
                }
            }
            default -> {
                if (!value.isNumber()) {
                    return "must be a number";
                }
                BigDecimal number = value.decimalValue();
                if (number.signum() < 0 || number.compareTo(MAX_NUMBER) > 0) {
                    return "must be from 0 to " + MAX_NUMBER.toPlainString();
                }
                boolean whole = parameter.values().values().stream().allMatch(WhatIf::isWhole);
                if (whole && !isWhole(number)) {
                    return "must be a whole number, as the parameter's own values are";
                }
                if ("months".equals(unit(ruleset, parameter.name())) && number.compareTo(BigDecimal.valueOf(MAX_MONTHS)) > 0) {
                    return "must be at most " + MAX_MONTHS + " months";
                }
                return null;
            }
        }
    }

    private static BigDecimal value(Parameter parameter, JsonNode value) {
        return switch (parameter.kind()) {
            case BOOLEAN -> value.booleanValue() ? BigDecimal.ONE : BigDecimal.ZERO;
            case DATE -> BigDecimal.valueOf(LocalDate.parse(value.textValue()).toEpochDay());
            case NUMBER -> value.decimalValue();
        };
    }

    private static boolean isWhole(BigDecimal number) {
        return number.signum() == 0 || number.stripTrailingZeros().scale() <= 0;
    }

    /** The unit the parameters file gives (a range bound, {@code name.min}, has its range's). */
    private static String unit(Ruleset ruleset, String name) {
        int dot = name.indexOf('.');
        JsonNode declared = ruleset.definition().path("parameters").path(dot < 0 ? name : name.substring(0, dot));
        return declared.path("unit").asText(null);
    }
}
