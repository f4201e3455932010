package org.eligo.rules;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;

/**
 * A dated parameter, like an OpenFisca parameter: values that take effect on dates, and the legal
 * source they come from. A derived parameter is the product or the sum of others and of numbers
 * written in the file (no formula language: a rule file cannot run code).
 *
 * <p>A parameter whose values are ranges ({@code {min: 19, max: 64}}, both ends included) is held as
 * its two bounds, dated parameters named {@code name.min} and {@code name.max}; rules refer to those.
 *
 * @param values  the value from each date on (empty for a derived parameter)
 * @param derived how it is worked out from other parameters; null for a dated one
 */
public record Parameter(String name, String description, String reference, NavigableMap<LocalDate, BigDecimal> values,
                        Derived derived, Kind kind) {

    /**
     * What the values are. All are held as numbers: a boolean as 1 (true) or 0, a date as its day
     * count from 1970-01-01 ({@link #date}); rules see them as what they are.
     */
    public enum Kind { NUMBER, BOOLEAN, DATE }

    public Parameter(String name, String description, String reference, NavigableMap<LocalDate, BigDecimal> values, Derived derived) {
        this(name, description, reference, values, derived, Kind.NUMBER);
    }

    /** A DATE parameter's value as a date. */
    public static LocalDate date(BigDecimal value) {
        return LocalDate.ofEpochDay(value.longValueExact());
    }

    /** The bound names of a range parameter. */
    public static final String MIN = "min", MAX = "max";

    /**
     * A derived parameter's formula: {@code operation} over the named (dated) parameters and the numbers.
     */
    public record Derived(Operation operation, List<String> parameters, List<BigDecimal> numbers) {

        public enum Operation { PRODUCT, SUM }
    }

    /** The name by which rules refer to one bound of the range parameter {@code range}. */
    public static String bound(String range, String bound) {
        return range + "." + bound;
    }

    /** The latest value whose date is on or before {@code date}; empty when none has taken effect yet. */
    public Optional<BigDecimal> valueOn(LocalDate date, Map<String, Parameter> all) {
        if (derived == null) {
            Map.Entry<LocalDate, BigDecimal> entry = values.floorEntry(date);
            return Optional.ofNullable(entry == null ? null : entry.getValue());
        }
        boolean product = derived.operation() == Derived.Operation.PRODUCT;
        BigDecimal result = product ? BigDecimal.ONE : BigDecimal.ZERO;
        for (String term : derived.parameters()) {
            Optional<BigDecimal> value = all.get(term).valueOn(date, all);
            if (value.isEmpty()) {
                return Optional.empty();
            }
            result = product ? result.multiply(value.get()) : result.add(value.get());
        }
        for (BigDecimal number : derived.numbers()) {
            result = product ? result.multiply(number) : result.add(number);
        }
        return Optional.of(result);
    }
}
