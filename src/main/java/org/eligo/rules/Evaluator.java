package org.eligo.rules;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.Period;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.Fact;
import org.eligo.facts.FactType;
import org.eligo.rules.Evaluation.CheckResult;
import org.eligo.rules.Evaluation.SubcheckResult;
import org.eligo.rules.Ruleset.AgeOf;
import org.eligo.rules.Ruleset.AllOf;
import org.eligo.rules.Ruleset.AnyOf;
import org.eligo.rules.Ruleset.Check;
import org.eligo.rules.Ruleset.Combination;
import org.eligo.rules.Ruleset.Compare;
import org.eligo.rules.Ruleset.Condition;
import org.eligo.rules.Ruleset.FieldValue;
import org.eligo.rules.Ruleset.Literal;
import org.eligo.rules.Ruleset.Operand;
import org.eligo.rules.Ruleset.ParameterValue;
import org.eligo.rules.Ruleset.Subcheck;

/**
 * Evaluates a ruleset for one beneficiary and period. It knows fact types, periods, comparisons
 * and combinators — nothing about any program; the program is the ruleset.
 *
 * <p>Parameters take their value on D, the period's first day. A subcheck that fails to evaluate
 * (bad data, a missing parameter value, a bug) is ERROR with the reason in its detail; it never
 * stops the evaluation.
 */
public final class Evaluator {

    private Evaluator() {
    }

    public static Evaluation evaluate(Ruleset ruleset, YearMonth period, FactSet facts) {
        LocalDate day = period.atDay(1);
        Optional<String> notInEffect = ruleset.inEffectWhenDefined().stream()
                .filter(name -> ruleset.parameter(name, day).isEmpty()).findFirst()
                .map(name -> "not in effect on " + day + ": " + name + " has no value yet");
        String from = ruleset.structure().inEffectFrom();
        if (notInEffect.isEmpty() && from != null) {
            Optional<BigDecimal> start = ruleset.parameter(from, day);
            if (start.isEmpty() || day.isBefore(Parameter.date(start.get()))) {
                notInEffect = Optional.of("not in effect on " + day + ": before " + from
                        + start.map(v -> " (" + Parameter.date(v) + ")").orElse(" (no value yet)"));
            }
        }
        List<CheckResult> checks = new ArrayList<>();
        List<Result> reviewMonthResults = new ArrayList<>();
        Integer reviewK = null;
        for (Check check : ruleset.checks()) {
            if (check.eachReviewMonth() != null) {
                if (notInEffect.isPresent()) {
                    continue; // no review months before the requirement is in effect: the group is SKIPPED
                }
                Review review = review(ruleset, period, facts);
                reviewK = review.k();
                Result skipWhen = check.eachReviewMonth().skippedWhenPassed() == null ? null : checks.stream()
                        .filter(c -> c.id().equals(check.eachReviewMonth().skippedWhenPassed())).map(CheckResult::result).findFirst().orElse(null);
                for (YearMonth month : review.months()) {
                    String id = expand(check.id(), month);
                    String title = expand(check.title(), month) + " (" + review.describe() + ")";
                    CheckResult result = skipWhen == Result.PASSED
                            ? skippedMonth(check, id, title, month, check.eachReviewMonth().skippedDetail())
                            : evaluateFor(ruleset, check, id, title, month, day, facts);
                    checks.add(result);
                    reviewMonthResults.add(result.result());
                }
                continue;
            }
            checks.add(notInEffect.isPresent()
                    ? skipped(ruleset, check, period, notInEffect.get())
                    : evaluate(ruleset, check, period, facts));
        }
        Result result;
        try {
            Ruleset.Part tree = ruleset.structure().resultTree();
            result = tree == null
                    ? combine(ruleset, ruleset.result(), day, checks.stream().map(CheckResult::result).toList())
                    : part(ruleset, tree, day, checks, reviewMonthResults, reviewK);
        } catch (RuntimeException e) {
            // A combination that cannot be worked out (a parameter with no value that day) is an ERROR, not a failure.
            result = Result.ERROR;
        }
        return new Evaluation(ruleset, period, result, List.copyOf(checks));
    }

    /** The review months of a period (42 CFR 435.556), how many of them must pass, and in which kind of review. */
    record Review(String kind, List<YearMonth> months, int k) {
        String describe() {
            if (kind.equals("application")) {
                return "application: all " + k + " review month" + (k == 1 ? "" : "s") + " must pass";
            }
            return kind + ": " + k + " of " + months.size() + " review month" + (months.size() == 1 ? "" : "s") + " must pass";
        }
    }

    static Review review(Ruleset ruleset, YearMonth period, FactSet facts) {
        Ruleset.ReviewMonths spec = ruleset.structure().reviewMonths();
        LocalDate day = period.atDay(1);
        List<Fact> context = facts.matching(spec.context(), Map.of("year", period.getYear(), "month", period.getMonthValue()));
        String kind = context.isEmpty() ? "application" : context.get(0).data().path("kind").asText("application");
        List<YearMonth> months = new ArrayList<>();
        if (kind.equals("application")) {
            int n = whole(value(ruleset, new ParameterValue(spec.applicationMonths()), day), spec.applicationMonths());
            for (int back = 1; back <= n; back++) {
                months.add(period.minusMonths(back));
            }
            return new Review(kind, List.copyOf(months), n);
        }
        YearMonth first = YearMonth.from(LocalDate.parse(context.get(0).data().get("period_start").asText()));
        for (YearMonth month = period.minusMonths(1); !month.isBefore(first); month = month.minusMonths(1)) {
            months.add(month);
        }
        int required = whole(value(ruleset, new ParameterValue(spec.renewalRequiredMonths()), day), spec.renewalRequiredMonths());
        return new Review(kind, List.copyOf(months), Math.min(required, months.size()));
    }

    private static Result part(Ruleset ruleset, Ruleset.Part part, LocalDate day, List<CheckResult> checks, List<Result> reviewMonths,
                               Integer reviewK) {
        if (part instanceof Ruleset.CheckPart check) {
            return checks.stream().filter(c -> c.id().equals(check.checkId())).map(CheckResult::result).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no check " + check.checkId()));
        }
        if (part instanceof Ruleset.ReviewMonthsPart) {
            if (reviewK == null) {
                return Result.SKIPPED;
            }
            return reviewK == 0 ? Result.PASSED : Result.atLeast(reviewK, reviewMonths);
        }
        Ruleset.GroupPart group = (Ruleset.GroupPart) part;
        List<Result> results = new ArrayList<>();
        for (Ruleset.Part child : group.parts()) {
            results.add(part(ruleset, child, day, checks, reviewMonths, reviewK));
        }
        return combine(ruleset, group.combination(), day, results);
    }

    private static CheckResult skippedMonth(Check check, String id, String title, YearMonth month, String detail) {
        List<SubcheckResult> subchecks = new ArrayList<>();
        for (Subcheck subcheck : check.subchecks()) {
            subchecks.add(new SubcheckResult(subcheck.id(), expand(subcheck.title(), month), Result.SKIPPED, List.of(), detail));
        }
        return new CheckResult(id, title, Result.SKIPPED, List.copyOf(subchecks));
    }

    /** A check whose subchecks are all evaluated for {@code month} (a review month). */
    private static CheckResult evaluateFor(Ruleset ruleset, Check check, String id, String title, YearMonth month, LocalDate day, FactSet facts) {
        List<SubcheckResult> subchecks = new ArrayList<>();
        for (Subcheck subcheck : check.subchecks()) {
            subchecks.add(evaluate(ruleset, subcheck, subcheck.id(), expand(subcheck.title(), month), month, day, facts));
        }
        return combined(ruleset, check, id, title, day, subchecks);
    }

    /** The check's result from its subchecks'; a combination that cannot be worked out is ERROR, not a failure. */
    private static CheckResult combined(Ruleset ruleset, Check check, String id, String title, LocalDate day, List<SubcheckResult> subchecks) {
        Result result;
        try {
            result = combine(ruleset, check.combination(), day, subchecks.stream().map(SubcheckResult::result).toList());
        } catch (RuntimeException e) {
            result = Result.ERROR;
        }
        return new CheckResult(id, title, result, List.copyOf(subchecks));
    }

    private static CheckResult evaluate(Ruleset ruleset, Check check, YearMonth period, FactSet facts) {
        List<SubcheckResult> subchecks = new ArrayList<>();
        LocalDate day = period.atDay(1);
        if (check.lookback() != null) {
            Subcheck template = check.lookback().template();
            int months;
            try {
                months = whole(value(ruleset, check.lookback().months(), day), "months");
            } catch (RuntimeException e) {
                return new CheckResult(check.id(), check.title(), Result.ERROR,
                        List.of(new SubcheckResult(template.id(), template.title(), Result.ERROR, List.of(), e.getMessage())));
            }
            for (int back = 1; back <= months; back++) {
                YearMonth month = period.minusMonths(back);
                subchecks.add(evaluate(ruleset, template, expand(template.id(), month), expand(template.title(), month), month, day, facts));
            }
        } else {
            for (Subcheck subcheck : check.subchecks()) {
                subchecks.add(evaluate(ruleset, subcheck, subcheck.id(), subcheck.title(), period, day, facts));
            }
        }
        return combined(ruleset, check, check.id(), check.title(), day, subchecks);
    }

    private static CheckResult skipped(Ruleset ruleset, Check check, YearMonth period, String reason) {
        List<SubcheckResult> subchecks = new ArrayList<>();
        for (Subcheck subcheck : check.subchecks()) {
            subchecks.add(new SubcheckResult(subcheck.id(), subcheck.title(), Result.SKIPPED, List.of(), reason));
        }
        return new CheckResult(check.id(), check.title(), Result.SKIPPED, List.copyOf(subchecks));
    }

    private static SubcheckResult evaluate(Ruleset ruleset, Subcheck subcheck, String id, String title, YearMonth month,
                                           LocalDate day, FactSet facts) {
        if (subcheck.expression() != null) {
            // Never throws: a test that fails to evaluate is an ERROR outcome with the facts it had examined.
            ExpressionEvaluator.Outcome outcome = ExpressionEvaluator.evaluate(ruleset, subcheck.expression(), month, day, facts);
            return new SubcheckResult(id, title, outcome.result(), outcome.factIds(), outcome.detail());
        }
        List<Fact> matching = List.of();
        try {
            Map<String, Integer> key = new LinkedHashMap<>();
            subcheck.keyBinding().forEach((field, part) -> key.put(field, part.equals("period.year") ? month.getYear() : month.getMonthValue()));
            String where = key.isEmpty() ? "" : " for " + month;
            matching = facts.matching(subcheck.factType(), key);
            if (matching.isEmpty()) {
                return new SubcheckResult(id, title, Result.NO_DATA, List.of(), "no " + subcheck.factType().name() + " fact" + where);
            }
            List<String> factIds = matching.stream().map(Fact::id).toList();
            if (matching.size() > 1) {
                return new SubcheckResult(id, title, Result.ERROR, factIds,
                        matching.size() + " active " + subcheck.factType().name() + " facts" + where + " where one is expected");
            }
            Fact fact = matching.get(0);
            List<String> said = new ArrayList<>();
            boolean holds = test(ruleset, subcheck.test(), fact, day, said);
            String suffix = !key.isEmpty() ? where : usesAge(subcheck.test()) ? " on " + day : "";
            return new SubcheckResult(id, title, holds ? Result.PASSED : Result.NOT_PASSED, factIds, String.join("; ", said) + suffix);
        } catch (RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new SubcheckResult(id, title, Result.ERROR, matching.stream().map(Fact::id).toList(), "could not evaluate: " + reason);
        }
    }

    /** Evaluates a condition, adding a caseworker's sentence for every comparison made. */
    private static boolean test(Ruleset ruleset, Condition condition, Fact fact, LocalDate day, List<String> said) {
        if (condition instanceof AnyOf any) {
            boolean holds = false;
            for (Condition part : any.conditions()) {
                holds |= test(ruleset, part, fact, day, said);
            }
            return holds;
        }
        if (condition instanceof AllOf all) {
            boolean holds = true;
            for (Condition part : all.conditions()) {
                holds &= test(ruleset, part, fact, day, said);
            }
            return holds;
        }
        Compare compare = (Compare) condition;
        Object left = left(compare.left(), fact, day);
        Object right = right(ruleset, compare.right(), day);
        String unit = compare.unit() == null ? "" : " " + compare.unit();
        if (left == null) {
            said.add(compare.label() + " not reported");
            return false;
        }
        int order = compareValues(left, right);
        boolean holds = holds(compare.op(), order);
        said.add(compare.label() + " " + text(left) + " " + symbol(compare.op(), holds) + " " + text(right) + unit);
        return holds;
    }

    private static Object left(Operand operand, Fact fact, LocalDate day) {
        if (operand instanceof AgeOf age) {
            JsonNode value = fact.data().get(age.field());
            if (value == null || value.isNull()) {
                return null;
            }
            return BigDecimal.valueOf(Period.between(LocalDate.parse(value.asText()), day).getYears());
        }
        FieldValue field = (FieldValue) operand;
        JsonNode value = fact.data().get(field.field());
        if (value == null || value.isNull()) {
            return null;
        }
        if (field.kind() == org.eligo.facts.Field.Kind.TEXT) {
            return value.asText();
        }
        if (value.isNumber()) {
            return value.decimalValue();
        }
        if (value.isBoolean()) {
            return value.booleanValue();
        }
        return LocalDate.parse(value.asText());
    }

    private static Object right(Ruleset ruleset, Operand operand, LocalDate day) {
        if (operand instanceof Literal literal) {
            return literal.value();
        }
        return value(ruleset, operand, day);
    }

    private static BigDecimal value(Ruleset ruleset, Operand operand, LocalDate day) {
        if (operand instanceof Literal literal) {
            return (BigDecimal) literal.value();
        }
        String name = ((ParameterValue) operand).name();
        return ruleset.parameter(name, day).orElseThrow(() -> new IllegalStateException("parameter " + name + " has no value on " + day));
    }

    /** The order of two values of one kind (numbers, dates, texts); booleans compare as equal or not (both evaluators). */
    @SuppressWarnings("unchecked")
    static int compareValues(Object left, Object right) {
        if (left instanceof BigDecimal l && right instanceof BigDecimal r) {
            return l.compareTo(r);
        }
        if (left instanceof Boolean || right instanceof Boolean) {
            return left.equals(right) ? 0 : 1;
        }
        if (left.getClass() == right.getClass() && left instanceof Comparable<?>) {
            return ((Comparable<Object>) left).compareTo(right);
        }
        throw new IllegalStateException("cannot compare " + text(left) + " with " + text(right));
    }

    private static Result combine(Ruleset ruleset, Combination combination, LocalDate day, List<Result> parts) {
        return switch (combination.kind()) {
            case ANY -> Result.atLeast(1, parts);
            case ALL -> Result.all(parts);
            case AT_LEAST -> {
                if (parts.stream().allMatch(part -> part == Result.SKIPPED)) {
                    yield Result.SKIPPED;
                }
                yield Result.atLeast(whole(value(ruleset, combination.k(), day), "at_least"), parts);
            }
        };
    }

    private static int whole(BigDecimal value, String what) {
        try {
            return value.intValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalStateException(what + " must be a whole number, not " + value.toPlainString());
        }
    }

    private static boolean usesAge(Condition condition) {
        if (condition instanceof AnyOf any) {
            return any.conditions().stream().anyMatch(Evaluator::usesAge);
        }
        if (condition instanceof AllOf all) {
            return all.conditions().stream().anyMatch(Evaluator::usesAge);
        }
        return ((Compare) condition).left() instanceof AgeOf;
    }

    /** Fills a subcheck template's {@code {yyyy}}, {@code {mm}} and {@code {month}} (without String.format, per subcheck: see FactType.pad). */
    private static String expand(String template, YearMonth month) {
        if (template.indexOf('{') < 0) {
            return template;
        }
        return template.replace("{yyyy}", FactType.pad(month.getYear(), 4))
                .replace("{mm}", FactType.pad(month.getMonthValue(), 2))
                .replace("{month}", month.toString());
    }

    private static String text(Object value) {
        return value instanceof BigDecimal number ? number.stripTrailingZeros().toPlainString() : String.valueOf(value);
    }

    /** Whether {@code op} holds for two values that compare as {@code order} (both evaluators). */
    static boolean holds(String op, int order) {
        return switch (op) {
            case "<" -> order < 0;
            case "<=" -> order <= 0;
            case ">" -> order > 0;
            case ">=" -> order >= 0;
            case "==" -> order == 0;
            case "!=" -> order != 0;
            default -> throw new IllegalStateException("unknown operator " + op);
        };
    }

    /** The operator as written for a caseworker: as is when the comparison holds, negated when not (both evaluators). */
    static String symbol(String op, boolean holds) {
        String shown = holds ? op : switch (op) {
            case "<" -> ">=";
            case "<=" -> ">";
            case ">" -> "<=";
            case ">=" -> "<";
            case "==" -> "!=";
            default -> "==";
        };
        return switch (shown) {
            case "<=" -> "≤";
            case ">=" -> "≥";
            case "==" -> "=";
            case "!=" -> "≠";
            default -> shown;
        };
    }
}
