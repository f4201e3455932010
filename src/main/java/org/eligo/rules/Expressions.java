package org.eligo.rules;

import java.util.List;

import org.eligo.facts.Field;
import org.eligo.facts.FactType;

/**
 * The tests and values of a subcheck that reads more than one fact (rules/README.md, "Tests over
 * several facts"): facts of the month or of the person, episodes overlapping a window, ages on a
 * named day, exact sums, a sum over the months before, and three-valued any / all. Data only: the
 * loader builds these from the rule file ({@link ExpressionLoader}), the evaluator reads them
 * ({@link ExpressionEvaluator}); no rule file can run code.
 *
 * <p>A subcheck is evaluated for a month M (the period for a listed subcheck, the look-back month
 * for a generated one); its first day is {@code month_start}, the period's first day
 * {@code period_start}. Parameters take their values on the period's first day.
 */
public final class Expressions {

    private Expressions() {
    }

    /** A test: PASSED, NOT_PASSED, NO_DATA, ERROR or SKIPPED, with the facts it examined and what it compared. */
    public sealed interface Test permits FactTest, EpisodeTest, Compare, AnyOf, AllOf, AppliesWhen {
    }

    /**
     * The beneficiary's fact of {@code type} (a person fact, or the month fact of M): PASSED when
     * there is one and {@code where} (if any) holds for it. Without one, NO_DATA for a type whose
     * absence is unknown, NOT_PASSED for one whose absence means none.
     */
    public record FactTest(FactType type, Test where) implements Test {
    }

    /**
     * Any episode of {@code type} overlapping {@code window} for which {@code where} (if any) holds.
     * Every overlapping episode is examined (listed in fact_ids) whether or not it qualifies; none
     * overlapping is NOT_PASSED.
     */
    public record EpisodeTest(FactType type, Window window, Test where) implements Test {
    }

    /**
     * {@code left op right}: described to caseworkers as "label left op right unit". When either side
     * is unknown it is NO_DATA, or NOT_PASSED where {@code unknownFails} (the rule's
     * {@code unknown: not_passed}: an optional field that was not given is not a doubt).
     */
    public record Compare(Value left, String op, Value right, String label, String unit, boolean unknownFails) implements Test {
    }

    /** Three-valued any of: every part is examined; PASSED if one is, else NO_DATA (or ERROR) if one is unknown, else NOT_PASSED. */
    public record AnyOf(List<Test> tests) implements Test {
    }

    /** All of, left to right: stops at the first part that is not PASSED, whose result it takes. */
    public record AllOf(List<Test> tests) implements Test {
    }

    /** {@code test} where the parameter {@code parameter} is 1 (a state's election) on the period's first day; SKIPPED where it is 0. */
    public record AppliesWhen(String parameter, Test test) implements Test {
    }

    /** Days an episode may overlap: M, or from {@code monthsBefore} months before M's first day to its first day. */
    public record Window(Value monthsBefore) {

        /** M, first to last day. */
        public static final Window MONTH = new Window(null);
    }

    /** A value in a comparison or a sum: a number (exact), a boolean, a date or a text; unknown where its fact or field is. */
    public sealed interface Value permits ScopedField, FactField, AgeOf, ParameterValue, Literal, Sum, Product, Quotient, IfValue,
            FirstKnown, MonthsBefore {
    }

    /** A field of the fact a {@code where} is testing; when absent, {@code missing} (null: unknown). */
    public record ScopedField(Field field, Object missing) implements Value {
    }

    /**
     * A field of the beneficiary's fact of {@code type} (the person fact, or M's month fact). When
     * the fact or the field is absent: {@code missing} (a number, a boolean), or unknown when null.
     */
    public record FactField(FactType type, Field field, Object missing) implements Value {
    }

    /** Whole years from {@code birth} (a date value) to {@code on}: a birthday on that day counts. */
    public record AgeOf(Value birth, Day on) implements Value {
    }

    /** The days a rule may name. */
    public enum Day { PERIOD_START, MONTH_START }

    public record ParameterValue(String name) implements Value {
    }

    /** A number, a boolean, a date or a text written in the rule file. */
    public record Literal(Object value) implements Value {
    }

    /** The sum of numbers: an unknown term makes the sum unknown, though never less than its known terms (every term is at least 0). */
    public record Sum(List<Value> terms, List<String> labels) implements Value {
    }

    public record Product(List<Value> factors) implements Value {
    }

    /** {@code dividend / divisor}, exact (a rational number, never rounded until shown). */
    public record Quotient(Value dividend, Value divisor) implements Value {
    }

    /** {@code then} where {@code test} is PASSED, {@code otherwise} where it is NOT_PASSED (null: unknown), unknown where it is neither. */
    public record IfValue(Test test, Value then, Value otherwise) implements Value {
    }

    /** The first of the values that is known. */
    public record FirstKnown(List<Value> values) implements Value {
    }

    /** The sum of {@code each} over the {@code months} months before M (each evaluated for its month). */
    public record MonthsBefore(Value months, Value each) implements Value {
    }
}
