package org.eligo.rules;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.FactType;

/**
 * A loaded, validated ruleset: parameters and checks, identified by id, version and the SHA-256 of
 * its files. Immutable; the evaluator reads it, never changes it.
 *
 * @param inEffectWhenDefined parameters that must all have a value on the period's first day for the
 *                            requirement to be in effect; otherwise everything is SKIPPED
 * @param result              how the checks combine into the overall result
 * @param definition          the files as JSON, for {@code GET /v1/rulesets/{id}}
 * @param files               the files' text by relative name, as hashed and as recorded for history;
 *                            the declarations of the fact types it reads among them, as fact-types/&lt;file&gt;
 * @param factTypes           the fact types its subchecks read, by name
 */
public record Ruleset(String id, String version, String title, String reference, String sha256,
                      Map<String, Parameter> parameters, List<String> inEffectWhenDefined, Combination result,
                      List<Check> checks, JsonNode definition, Map<String, String> files, List<FactType> factTypes) {

    public Optional<BigDecimal> parameter(String name, LocalDate date) {
        return parameters.get(name).valueOn(date, parameters);
    }

    /**
     * This ruleset with the named dated parameters (or range bounds, {@code name.min}) taking the
     * given value wherever they had one (from the same dates, so the requirement starts when it
     * did): a rule test's per-case choice of a state option. Derived parameters follow.
     *
     * @throws IllegalArgumentException for a name that is not a dated parameter
     */
    public Ruleset withValues(Map<String, BigDecimal> values) {
        Map<String, Parameter> changed = new java.util.HashMap<>(parameters);
        values.forEach((name, value) -> {
            Parameter parameter = parameters.get(name);
            if (parameter == null || parameter.derived() != null) {
                throw new IllegalArgumentException("'" + name + "' is not a dated parameter of " + id
                        + (parameter == null ? "" : " (it is derived: set the parameters it is worked out from)"));
            }
            java.util.TreeMap<LocalDate, BigDecimal> dated = new java.util.TreeMap<>();
            parameter.values().keySet().forEach(since -> dated.put(since, value));
            changed.put(name, new Parameter(name, parameter.description(), parameter.reference(), dated, null));
        });
        return new Ruleset(id, version, title, reference, sha256, Map.copyOf(changed), inEffectWhenDefined, result, checks,
                definition, files, factTypes);
    }

    /** How parts combine: at least {@code k} of them, where k is fixed, a parameter, or "all". */
    public record Combination(Kind kind, Operand k) {
        public enum Kind { ANY, ALL, AT_LEAST }
    }

    /** A check: subchecks, listed or one per look-back month, and how they combine. */
    public record Check(String id, String title, Combination combination, List<Subcheck> subchecks, LookbackMonths lookback) {
    }

    /**
     * One subcheck: which fact it reads (its key fields bound to the subcheck's month) and the
     * condition the fact must meet.
     *
     * @param keyBinding fact key field -> "period.year" or "period.month"
     */
    public record Subcheck(String id, String title, FactType factType, Map<String, String> keyBinding, Condition test) {
    }

    /** Subchecks generated for the months P-1 back to P-months, from a template. */
    public record LookbackMonths(Operand months, Subcheck template) {
    }

    /** A condition on one fact: a comparison, or any/all of conditions. */
    public sealed interface Condition permits Compare, AnyOf, AllOf {
    }

    public record AnyOf(List<Condition> conditions) implements Condition {
    }

    public record AllOf(List<Condition> conditions) implements Condition {
    }

    /** {@code left op right}, described to caseworkers as "label left op right unit". */
    public record Compare(Operand left, String op, Operand right, String label, String unit) implements Condition {
    }

    /** A value in a comparison. */
    public sealed interface Operand permits FieldValue, AgeOf, ParameterValue, Literal {
    }

    /** A field of the fact. */
    public record FieldValue(String field, org.eligo.facts.Field.Kind kind) implements Operand {
    }

    /** Whole years from a date field of the fact to the period's first day (a birthday on that day counts). */
    public record AgeOf(String field) implements Operand {
    }

    public record ParameterValue(String name) implements Operand {
    }

    /** A number, a boolean or a date written in the rule file. */
    public record Literal(Object value) implements Operand {
    }
}
