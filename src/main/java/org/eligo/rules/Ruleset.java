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
                      List<Check> checks, JsonNode definition, Map<String, String> files, List<FactType> factTypes,
                      Structure structure) {

    public Ruleset(String id, String version, String title, String reference, String sha256,
                   Map<String, Parameter> parameters, List<String> inEffectWhenDefined, Combination result,
                   List<Check> checks, JsonNode definition, Map<String, String> files, List<FactType> factTypes) {
        this(id, version, title, reference, sha256, parameters, inEffectWhenDefined, result, checks, definition, files, factTypes,
                Structure.NONE);
    }

    /**
     * What a ruleset may add to checks combined by {@code result} (rules/README.md, "Review months
     * and nested results"); all null for one that uses none of it.
     *
     * @param inEffectFrom a date parameter: before it, every check, subcheck and the result are SKIPPED
     * @param reviewMonths how the months a review looks at are worked out (for {@code each_review_month} checks)
     * @param resultTree   how checks combine, nested; when null, {@code result} combines every check
     */
    public record Structure(String inEffectFrom, ReviewMonths reviewMonths, Part resultTree) {
        public static final Structure NONE = new Structure(null, null, null);
    }

    /**
     * The review months of 42 CFR 435.556, from the beneficiary's {@code context} fact of the period:
     * at application (or with none) the {@code applicationMonths} months before the period, all of
     * which must pass; at a renewal, verification or change every month from its period_start's
     * month to the one before the period, of which the lesser of {@code renewalRequiredMonths} and
     * their number must pass.
     */
    public record ReviewMonths(FactType context, String applicationMonths, String renewalRequiredMonths) {
    }

    /** A part of a nested result: one check, or a combination of parts, or at least k of the review-month checks. */
    public sealed interface Part permits CheckPart, GroupPart, ReviewMonthsPart {
    }

    public record CheckPart(String checkId) implements Part {
    }

    public record GroupPart(Combination combination, List<Part> parts) implements Part {
    }

    /** At least k of the checks an {@code each_review_month} check made, k as the review months give it. */
    public record ReviewMonthsPart() implements Part {
    }

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
            changed.put(name, new Parameter(name, parameter.description(), parameter.reference(), dated, null, parameter.kind()));
        });
        return new Ruleset(id, version, title, reference, sha256, Map.copyOf(changed), inEffectWhenDefined, result, checks,
                definition, files, factTypes, structure);
    }

    /** How parts combine: at least {@code k} of them, where k is fixed, a parameter, or "all". */
    public record Combination(Kind kind, Operand k) {
        public enum Kind { ANY, ALL, AT_LEAST }
    }

    /** A check: subchecks, listed or one per look-back month, and how they combine. */
    public record Check(String id, String title, Combination combination, List<Subcheck> subchecks, LookbackMonths lookback,
                        ReviewMonthChecks eachReviewMonth) {

        public Check(String id, String title, Combination combination, List<Subcheck> subchecks, LookbackMonths lookback) {
            this(id, title, combination, subchecks, lookback, null);
        }
    }

    /**
     * Makes this check once per review month (its id and title templates filled with the month),
     * its subchecks evaluated for that month. When the check {@code skippedWhenPassed} is PASSED,
     * every one is SKIPPED with {@code skippedDetail}.
     */
    public record ReviewMonthChecks(String skippedWhenPassed, String skippedDetail) {
    }

    /**
     * One subcheck: either which fact it reads (its key fields bound to the subcheck's month) and the
     * condition the fact must meet, or a test over several facts ({@code expression}; then
     * {@code factType}, {@code keyBinding} and {@code test} are null or empty).
     *
     * @param keyBinding fact key field -> "period.year" or "period.month"
     */
    public record Subcheck(String id, String title, FactType factType, Map<String, String> keyBinding, Condition test,
                           Expressions.Test expression) {

        public Subcheck(String id, String title, FactType factType, Map<String, String> keyBinding, Condition test) {
            this(id, title, factType, keyBinding, test, null);
        }
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
