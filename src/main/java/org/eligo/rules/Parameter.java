package org.eligo.rules;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;

/**
 * A dated parameter, like an OpenFisca parameter: values that take effect on dates, and the legal
 * source they come from. A derived parameter is the product of others (no formula language: a rule
 * file cannot run code).
 *
 * @param values  the value from each date on (empty for a derived parameter)
 * @param product the parameters whose product this is (empty for a plain one)
 */
public record Parameter(String name, String description, String reference, NavigableMap<LocalDate, BigDecimal> values,
                        List<String> product) {

    /** The latest value whose date is on or before {@code date}; empty when none has taken effect yet. */
    public Optional<BigDecimal> valueOn(LocalDate date, Map<String, Parameter> all) {
        if (product.isEmpty()) {
            Map.Entry<LocalDate, BigDecimal> entry = values.floorEntry(date);
            return Optional.ofNullable(entry == null ? null : entry.getValue());
        }
        BigDecimal result = BigDecimal.ONE;
        for (String factor : product) {
            Optional<BigDecimal> value = all.get(factor).valueOn(date, all);
            if (value.isEmpty()) {
                return Optional.empty();
            }
            result = result.multiply(value.get());
        }
        return Optional.of(result);
    }
}
