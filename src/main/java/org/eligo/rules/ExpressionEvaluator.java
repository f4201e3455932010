package org.eligo.rules;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.Period;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.Fact;
import org.eligo.facts.FactType;
import org.eligo.facts.Field;
import org.eligo.rules.Expressions.AgeOf;
import org.eligo.rules.Expressions.AllOf;
import org.eligo.rules.Expressions.AnyOf;
import org.eligo.rules.Expressions.AppliesWhen;
import org.eligo.rules.Expressions.Compare;
import org.eligo.rules.Expressions.Day;
import org.eligo.rules.Expressions.EpisodeTest;
import org.eligo.rules.Expressions.FactField;
import org.eligo.rules.Expressions.FactTest;
import org.eligo.rules.Expressions.FirstKnown;
import org.eligo.rules.Expressions.IfValue;
import org.eligo.rules.Expressions.Literal;
import org.eligo.rules.Expressions.MonthsBefore;
import org.eligo.rules.Expressions.ParameterValue;
import org.eligo.rules.Expressions.Product;
import org.eligo.rules.Expressions.Quotient;
import org.eligo.rules.Expressions.ScopedField;
import org.eligo.rules.Expressions.Sum;
import org.eligo.rules.Expressions.Test;
import org.eligo.rules.Expressions.Value;

/**
 * Evaluates a subcheck's test over several facts for one month, three-valued: PASSED, NOT_PASSED,
 * NO_DATA (something it needs is unknown), SKIPPED (a state option is off), ERROR (bad data or a
 * bug: the caller catches it). It records every fact it examined, for the subcheck's fact_ids, and
 * one sentence per comparison or episode for its detail.
 *
 * <p>Numbers are exact (a numerator and a denominator, never rounded until shown, half up to two
 * decimals). An unknown number is never less than 0: every field a rule reads is declared with a
 * minimum of 0 (the loader checks), so a sum with an unknown term that already reaches a threshold
 * passes, and one that does not is NO_DATA.
 */
final class ExpressionEvaluator {

    private final Ruleset ruleset;
    private final FactSet facts;
    private final LocalDate periodStart;
    private final Set<String> examined = new TreeSet<>();
    private final List<String> said = new ArrayList<>();
    /** Above 0 while a value's condition is evaluated: what it compares is not said (the value it picks is). */
    private int quiet;
    /** The month whose month facts the comparison being evaluated read, for its sentence ("... for 2027-06"); null if none. */
    private YearMonth readMonth;

    private ExpressionEvaluator(Ruleset ruleset, FactSet facts, LocalDate periodStart) {
        this.ruleset = ruleset;
        this.facts = facts;
        this.periodStart = periodStart;
    }

    /** What a subcheck's test gave: its result, the facts it examined in id order, and its detail. */
    record Outcome(Result result, List<String> factIds, String detail) {
    }

    static Outcome evaluate(Ruleset ruleset, Test test, YearMonth month, LocalDate periodStart, FactSet facts) {
        ExpressionEvaluator evaluator = new ExpressionEvaluator(ruleset, facts, periodStart);
        Result result;
        try {
            result = evaluator.test(test, month, null);
        } catch (RuntimeException e) {
            // Bad data or a bug: ERROR with the facts it had examined, never the end of the determination.
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Outcome(Result.ERROR, List.copyOf(evaluator.examined), "could not evaluate: " + reason);
        }
        List<String> ids = result == Result.SKIPPED ? List.of() : List.copyOf(evaluator.examined);
        String detail = String.join("; ", evaluator.said);
        return new Outcome(result, ids, detail.isEmpty() ? result.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + " for " + month : detail);
    }

    private void say(String sentence) {
        if (quiet == 0) {
            said.add(sentence);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Tests

    private Result test(Test test, YearMonth month, Fact scoped) {
        if (test instanceof AnyOf any) {
            // Every part is examined. A part that found nothing on record says so in one shared
            // sentence, not one each: a caseworker reads what was there, then what was not.
            List<Result> parts = new ArrayList<>();
            java.util.Set<String> nothing = new java.util.LinkedHashSet<>();
            for (Test part : any.tests()) {
                int sentences = said.size();
                int facts = examined.size();
                Result result = test(part, month, scoped);
                parts.add(result);
                if (result == Result.NOT_PASSED && examined.size() == facts && quiet == 0) {
                    List<String> types = typesOf(part);
                    if (!types.isEmpty()) {
                        said.subList(sentences, said.size()).clear();
                        nothing.addAll(types);
                    }
                }
            }
            if (!nothing.isEmpty()) {
                say("nothing on record for " + month + ": " + String.join(", ", nothing));
            }
            return Result.atLeast(1, parts);
        }
        if (test instanceof AllOf all) {
            for (Test part : all.tests()) {
                Result result = test(part, month, scoped);
                if (result != Result.PASSED) {
                    return result;
                }
            }
            return Result.PASSED;
        }
        if (test instanceof AppliesWhen applies) {
            BigDecimal elected = parameter(applies.parameter());
            if (elected.signum() == 0) {
                say("not elected (" + applies.parameter() + " is false)");
                return Result.SKIPPED;
            }
            return test(applies.test(), month, scoped);
        }
        if (test instanceof FactTest factTest) {
            Fact fact = fact(factTest.type(), month);
            if (fact == null) {
                say("no " + factTest.type().name() + " fact" + where(factTest.type(), month));
                return factTest.type().absent() == FactType.Absent.UNKNOWN ? Result.NO_DATA : Result.NOT_PASSED;
            }
            return factTest.where() == null ? Result.PASSED : test(factTest.where(), month, fact);
        }
        if (test instanceof EpisodeTest episodes) {
            LocalDate from = month.atDay(1);
            LocalDate to = month.atEndOfMonth();
            String window = month.toString();
            if (episodes.window().monthsBefore() != null) {
                int back = whole(number(episodes.window().monthsBefore(), month, scoped), "months_before");
                from = month.atDay(1).minusMonths(back);
                to = month.atDay(1);
                window = from + " to " + to;
            }
            List<Result> results = new ArrayList<>();
            for (Fact episode : facts.all(episodes.type())) {
                LocalDate start = LocalDate.parse(episode.data().get("start").asText());
                JsonNode endNode = episode.data().get("end");
                LocalDate end = endNode == null || endNode.isNull() ? null : LocalDate.parse(endNode.asText());
                if (start.isAfter(to) || end != null && end.isBefore(from)) {
                    continue;
                }
                examined.add(episode.id());
                say(episodes.type().name() + " " + episode.data().get("episode_id").asText() + ", " + start + " to "
                        + (end == null ? "open" : end) + ", overlaps " + window);
                results.add(episodes.where() == null ? Result.PASSED : test(episodes.where(), month, episode));
            }
            if (results.isEmpty()) {
                say("no " + episodes.type().name() + " overlapping " + window);
                return Result.NOT_PASSED;
            }
            return Result.atLeast(1, results);
        }
        return compare((Compare) test, month, scoped);
    }

    /** The fact types a test reads, when it reads nothing else (null-free; empty for one that compares other values). */
    private static List<String> typesOf(Test test) {
        if (test instanceof FactTest fact) {
            return List.of(fact.type().name());
        }
        if (test instanceof EpisodeTest episode) {
            return List.of(episode.type().name());
        }
        List<Test> parts = test instanceof AnyOf any ? any.tests() : test instanceof AllOf all ? all.tests() : List.of();
        List<String> types = new ArrayList<>();
        for (Test part : parts) {
            List<String> own = typesOf(part);
            if (own.isEmpty()) {
                return List.of();
            }
            types.addAll(own);
        }
        return types;
    }

    private Result compare(Compare compare, YearMonth month, Fact scoped) {
        YearMonth outer = readMonth;
        readMonth = null;
        Val left = value(compare.left(), month, scoped);
        Val right = value(compare.right(), month, scoped);
        String forMonth = readMonth == null ? "" : " for " + readMonth;
        String unit = (compare.unit() == null ? "" : " " + compare.unit()) + forMonth;
        readMonth = outer == null ? readMonth : outer;
        String shownLeft = left.shown == null ? left.text() : left.shown;
        if (left.known() && right.known()) {
            boolean holds = Evaluator.holds(compare.op(), Evaluator.compareValues(left.value, right.value));
            if (left.value instanceof Boolean is && right.value instanceof Boolean) {
                // A flag reads as what it says: "county disaster", "not Medicare", not "true = true".
                say((is ? "" : "not ") + compare.label() + unit);
            } else {
                say(compare.label() + " " + shownLeft + " " + Evaluator.symbol(compare.op(), holds) + " " + right.text() + unit);
            }
            return holds ? Result.PASSED : Result.NOT_PASSED;
        }
        // An unknown number is at least its known part: that may already settle ">=" and ">".
        if (!left.known() && right.known() && left.lower != null && right.value instanceof Rational r
                && (compare.op().equals(">=") || compare.op().equals(">")) && Evaluator.holds(compare.op(), left.lower.compareTo(r))) {
            say(compare.label() + " at least " + (left.shown == null ? left.lower.text() : left.shown) + " " + Evaluator.symbol(compare.op(), true)
                    + " " + right.text() + unit);
            return Result.PASSED;
        }
        say(compare.label() + " not known" + (left.shown == null ? "" : " (" + left.shown + ")") + forMonth);
        if (compare.unknownFails()) {
            return Result.NOT_PASSED;
        }
        return Result.NO_DATA;
    }

    // ---------------------------------------------------------------------------------------------
    // Values

    /**
     * A value: {@code value} (a {@link Rational}, Boolean, LocalDate or String) or null when unknown;
     * for an unknown number, {@code lower} its least possible value; {@code shown} how a sum shows its terms.
     */
    private record Val(Object value, Rational lower, String shown) {
        static final Val UNKNOWN = new Val(null, Rational.ZERO, null);

        static Val of(Object value) {
            return new Val(value, value instanceof Rational r ? r : null, null);
        }

        boolean known() {
            return value != null;
        }

        String text() {
            return value instanceof Rational r ? r.text() : String.valueOf(value);
        }
    }

    private Val value(Value value, YearMonth month, Fact scoped) {
        if (value instanceof Literal literal) {
            return Val.of(literal.value() instanceof BigDecimal d ? Rational.of(d) : literal.value());
        }
        if (value instanceof ParameterValue p) {
            BigDecimal raw = parameter(p.name());
            return Val.of(switch (ruleset.parameters().get(p.name()).kind()) {
                case NUMBER -> Rational.of(raw);
                case BOOLEAN -> raw.signum() != 0;
                case DATE -> Parameter.date(raw);
            });
        }
        if (value instanceof ScopedField field) {
            return field(scoped, field.field(), field.missing());
        }
        if (value instanceof FactField field) {
            if (field.type().key() == FactType.KeyKind.MONTH && readMonth == null) {
                readMonth = month;
            }
            Fact fact = fact(field.type(), month);
            if (fact == null && field.type().absent() == FactType.Absent.UNKNOWN) {
                return Val.UNKNOWN;
            }
            return field(fact, field.field(), field.missing());
        }
        if (value instanceof AgeOf age) {
            Val birth = value(age.birth(), month, scoped);
            if (!birth.known()) {
                return Val.UNKNOWN;
            }
            LocalDate on = age.on() == Day.PERIOD_START ? periodStart : month.atDay(1);
            return Val.of(Rational.of(BigDecimal.valueOf(Period.between((LocalDate) birth.value, on).getYears())));
        }
        if (value instanceof Sum sum) {
            Rational total = Rational.ZERO;
            Rational lower = Rational.ZERO;
            boolean known = true;
            List<String> shown = new ArrayList<>();
            for (int i = 0; i < sum.terms().size(); i++) {
                Val term = value(sum.terms().get(i), month, scoped);
                if (term.known()) {
                    total = total.add((Rational) term.value);
                    lower = lower.add((Rational) term.value);
                    shown.add(((Rational) term.value).text() + " " + sum.labels().get(i));
                } else {
                    known = false;
                    lower = lower.add(term.lower == null ? Rational.ZERO : term.lower);
                    shown.add("unknown " + sum.labels().get(i));
                }
            }
            String words = String.join(" + ", shown) + (known ? " = " + total.text() : "");
            return known ? new Val(total, total, words) : new Val(null, lower, words);
        }
        if (value instanceof Product product) {
            Rational result = Rational.ONE;
            for (Value factor : product.factors()) {
                Val v = value(factor, month, scoped);
                if (!v.known()) {
                    return Val.UNKNOWN;
                }
                result = result.multiply((Rational) v.value);
            }
            return Val.of(result);
        }
        if (value instanceof Quotient quotient) {
            Val dividend = value(quotient.dividend(), month, scoped);
            Val divisor = value(quotient.divisor(), month, scoped);
            if (!dividend.known() || !divisor.known()) {
                return Val.UNKNOWN;
            }
            return Val.of(((Rational) dividend.value).divide((Rational) divisor.value));
        }
        if (value instanceof IfValue choice) {
            quiet++;
            Result result;
            try {
                result = test(choice.test(), month, scoped);
            } finally {
                quiet--;
            }
            if (result == Result.PASSED) {
                return value(choice.then(), month, scoped);
            }
            return result == Result.NOT_PASSED && choice.otherwise() != null ? value(choice.otherwise(), month, scoped) : Val.UNKNOWN;
        }
        if (value instanceof FirstKnown first) {
            for (Value candidate : first.values()) {
                Val v = value(candidate, month, scoped);
                if (v.known()) {
                    return v;
                }
            }
            return Val.UNKNOWN;
        }
        MonthsBefore before = (MonthsBefore) value;
        int months = whole(number(before.months(), month, scoped), "months_before");
        Rational total = Rational.ZERO;
        boolean known = true;
        List<String> missing = new ArrayList<>();
        for (int back = 1; back <= months; back++) {
            YearMonth earlier = month.minusMonths(back);
            Val v = value(before.each(), earlier, scoped);
            if (v.known()) {
                total = total.add((Rational) v.value);
            } else {
                known = false;
                missing.add(earlier.toString());
            }
        }
        String words = total.text() + " over the " + months + " months before " + month
                + (missing.isEmpty() ? "" : " (not known for " + String.join(", ", missing) + ")");
        return known ? new Val(total, total, words) : new Val(null, total, words);
    }

    private Val field(Fact fact, Field field, Object missing) {
        JsonNode node = fact == null ? null : fact.data().get(field.name());
        if (fact != null) {
            examined.add(fact.id());
        }
        if (node == null || node.isNull()) {
            if (missing == null) {
                return Val.UNKNOWN;
            }
            return Val.of(missing instanceof BigDecimal d ? Rational.of(d) : missing);
        }
        return Val.of(switch (field.kind()) {
            case INTEGER, BIGINT, DECIMAL -> Rational.of(node.decimalValue());
            case BOOLEAN -> node.booleanValue();
            case DATE -> LocalDate.parse(node.asText());
            case TEXT -> node.asText();
        });
    }

    private Rational number(Value value, YearMonth month, Fact scoped) {
        Val v = value(value, month, scoped);
        if (!v.known()) {
            throw new IllegalStateException("a count is not known");
        }
        return (Rational) v.value;
    }

    // ---------------------------------------------------------------------------------------------

    /** The beneficiary's active fact of a person or month type (M's), or null; two for one key is an error. */
    private Fact fact(FactType type, YearMonth month) {
        List<Fact> found = type.key() == FactType.KeyKind.MONTH
                ? facts.matching(type, Map.of("year", month.getYear(), "month", month.getMonthValue()))
                : facts.matching(type, Map.of());
        if (found.size() > 1) {
            found.forEach(f -> examined.add(f.id()));
            throw new IllegalStateException(found.size() + " active " + type.name() + " facts" + where(type, month) + " where one is expected");
        }
        if (found.isEmpty()) {
            return null;
        }
        examined.add(found.get(0).id());
        return found.get(0);
    }

    private BigDecimal parameter(String name) {
        return ruleset.parameter(name, periodStart).orElseThrow(() -> new IllegalStateException("parameter " + name + " has no value on " + periodStart));
    }

    private static String where(FactType type, YearMonth month) {
        return type != null && type.key() != FactType.KeyKind.MONTH ? "" : " for " + month;
    }

    private static int whole(Rational value, String what) {
        try {
            return value.exact().intValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalStateException(what + " must be a whole number, not " + value.text());
        }
    }

    /** An exact number: numerator / denominator (denominator positive). */
    record Rational(BigDecimal numerator, BigDecimal denominator) implements Comparable<Rational> {
        static final Rational ZERO = of(BigDecimal.ZERO);
        static final Rational ONE = of(BigDecimal.ONE);

        static Rational of(BigDecimal value) {
            return new Rational(value, BigDecimal.ONE);
        }

        Rational add(Rational other) {
            if (denominator.compareTo(other.denominator) == 0) {
                return new Rational(numerator.add(other.numerator), denominator);
            }
            return new Rational(numerator.multiply(other.denominator).add(other.numerator.multiply(denominator)), denominator.multiply(other.denominator));
        }

        Rational multiply(Rational other) {
            return new Rational(numerator.multiply(other.numerator), denominator.multiply(other.denominator));
        }

        Rational divide(Rational other) {
            if (other.numerator.signum() == 0) {
                throw new IllegalStateException("division by zero");
            }
            BigDecimal n = numerator.multiply(other.denominator);
            BigDecimal d = denominator.multiply(other.numerator);
            return d.signum() < 0 ? new Rational(n.negate(), d.negate()) : new Rational(n, d);
        }

        @Override
        public int compareTo(Rational other) {
            return numerator.multiply(other.denominator).compareTo(other.numerator.multiply(denominator));
        }

        /** The exact value when it has one as a decimal, else rounded half up to 10 places. */
        BigDecimal exact() {
            try {
                return numerator.divide(denominator);
            } catch (ArithmeticException e) {
                return numerator.divide(denominator, 10, RoundingMode.HALF_UP);
            }
        }

        /** As a caseworker reads it: rounded half up to 2 decimals, trailing zeros dropped. */
        String text() {
            return numerator.divide(denominator, 2, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
        }
    }
}
