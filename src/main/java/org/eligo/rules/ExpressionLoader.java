package org.eligo.rules;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

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
import org.eligo.rules.Expressions.Window;
import org.eligo.support.yaml.YamlNode;

/**
 * Reads a subcheck's test over several facts ({@link Expressions}) from its rule file, checking
 * every name (fact types, fields, parameters, named tests), every operand's kind and every
 * operator, so that a wrong rule stops start-up with its file and line rather than evaluating to
 * ERROR later.
 */
final class ExpressionLoader {

    /** What a value is, for checking comparisons and sums when the file is loaded. */
    enum Kind { NUMBER, BOOLEAN, DATE, TEXT }

    /** Named tests may use others; deeper than this is a loop. */
    private static final int MAX_DEPTH = 16;

    private final BiFunction<YamlNode, String, FactType> types;
    private final Map<String, Parameter> parameters;
    private final Map<String, YamlNode> named;

    /**
     * @param types      resolves a fact type's name, the node giving it for errors (and records that the ruleset reads it)
     * @param parameters the ruleset's parameters, by the names rules use
     * @param named      the ruleset's named tests ({@code tests:}), which {@code {use: name}} inserts
     */
    ExpressionLoader(BiFunction<YamlNode, String, FactType> types, Map<String, Parameter> parameters, Map<String, YamlNode> named) {
        this.types = types;
        this.parameters = parameters;
        this.named = named;
    }

    Test test(YamlNode node) {
        return test(node, null, 0);
    }

    private Test test(YamlNode node, FactType scope, int depth) {
        if (depth > MAX_DEPTH) {
            throw node.error("named tests use each other in a loop (or more than " + MAX_DEPTH + " deep)");
        }
        Map<String, YamlNode> m = node.map("a test", Set.of("fact", "episode", "overlaps", "where", "compare", "op", "to", "label", "unit",
                "unknown", "any", "all", "applies_when", "test", "use"));
        if (m.containsKey("use")) {
            only(node, m, "use");
            String name = m.get("use").text("use");
            YamlNode definition = named.get(name);
            if (definition == null) {
                throw m.get("use").error("no named test '" + name + "' (under 'tests:'); named: " + named.keySet());
            }
            return test(definition, scope, depth + 1);
        }
        if (m.containsKey("any") || m.containsKey("all")) {
            String kind = m.containsKey("any") ? "any" : "all";
            only(node, m, kind);
            List<Test> parts = new ArrayList<>();
            for (YamlNode part : m.get(kind).list(kind)) {
                parts.add(test(part, scope, depth));
            }
            if (parts.isEmpty()) {
                throw m.get(kind).error("'" + kind + "' needs at least one test");
            }
            return kind.equals("any") ? new AnyOf(List.copyOf(parts)) : new AllOf(List.copyOf(parts));
        }
        if (m.containsKey("applies_when")) {
            only(node, m, "applies_when", "test");
            String parameter = parameter(m.get("applies_when"));
            if (parameters.get(parameter).kind() != Parameter.Kind.BOOLEAN) {
                throw m.get("applies_when").error("parameter " + parameter + " is an election: its values are true or false");
            }
            return new AppliesWhen(parameter, test(RulesetLoader.required(node, m, "test"), scope, depth));
        }
        if (m.containsKey("fact")) {
            only(node, m, "fact", "where");
            FactType type = types.apply(m.get("fact"), m.get("fact").text("fact"));
            if (type.key() == FactType.KeyKind.EPISODE) {
                throw m.get("fact").error(type.name() + " is an episode: test it with {episode: " + type.name() + ", overlaps: ...}");
            }
            return new FactTest(type, m.containsKey("where") ? test(m.get("where"), type, depth) : null);
        }
        if (m.containsKey("episode")) {
            only(node, m, "episode", "overlaps", "where");
            FactType type = types.apply(m.get("episode"), m.get("episode").text("episode"));
            if (type.key() != FactType.KeyKind.EPISODE) {
                throw m.get("episode").error(type.name() + " is not an episode: test it with {fact: " + type.name() + "}");
            }
            return new EpisodeTest(type, window(RulesetLoader.required(node, m, "overlaps")), m.containsKey("where") ? test(m.get("where"), type, depth) : null);
        }
        only(node, m, "compare", "op", "to", "label", "unit", "unknown");
        Typed left = value(RulesetLoader.required(node, m, "compare"), scope, depth);
        String op = RulesetLoader.required(node, m, "op").text("op");
        if (!RulesetLoader.OPERATORS.contains(op)) {
            throw m.get("op").error("op must be one of " + String.join(" ", RulesetLoader.OPERATORS.stream().sorted().toList()));
        }
        Typed right = value(RulesetLoader.required(node, m, "to"), scope, depth);
        if (left.kind != right.kind) {
            throw m.get("to").error("compares a " + left.kind + " with a " + right.kind);
        }
        if ((left.kind == Kind.BOOLEAN || left.kind == Kind.TEXT) && !(op.equals("==") || op.equals("!="))) {
            throw m.get("op").error("a " + left.kind + " is compared with == or != only");
        }
        String label = m.containsKey("label") ? m.get("label").text("label") : left.label;
        String unit = m.containsKey("unit") ? m.get("unit").text("unit") : null;
        boolean unknownFails = false;
        if (m.containsKey("unknown")) {
            if (!"not_passed".equals(m.get("unknown").text("unknown"))) {
                throw m.get("unknown").error("unknown: not_passed is the one choice (without it, a comparison with an unknown side is NO_DATA)");
            }
            unknownFails = true;
        }
        return new Compare(left.value, op, right.value, label, unit, unknownFails);
    }

    private Window window(YamlNode node) {
        if (node.isScalar()) {
            if (!node.text("overlaps").equals("month")) {
                throw node.error("overlaps is 'month' or {months_before: n} (from n months before the month's first day to that day)");
            }
            return Window.MONTH;
        }
        Map<String, YamlNode> m = node.map("overlaps", Set.of("months_before"));
        Typed months = value(RulesetLoader.required(node, m, "months_before"), null, 0);
        if (months.kind != Kind.NUMBER) {
            throw m.get("months_before").error("months_before is a number of months");
        }
        return new Window(months.value);
    }

    /** A value with what it is and the words that name it in a detail. */
    private record Typed(Value value, Kind kind, String label) {
    }

    private Typed value(YamlNode node, FactType scope, int depth) {
        Map<String, YamlNode> m = node.map("a value", Set.of("field", "missing", "age_of", "on", "parameter", "value", "sum", "product",
                "quotient", "if", "then", "else", "first_known", "months_before", "each"));
        if (m.containsKey("field")) {
            only(node, m, "field", "missing");
            String name = m.get("field").text("field");
            if (!name.contains(".")) {
                if (scope == null) {
                    throw m.get("field").error("a field without its fact type ('" + name + "') names a field of the fact a 'where' tests;"
                            + " elsewhere name it as type.field, e.g. income.monthly.hours");
                }
                Field field = RulesetLoader.field(m.get("field"), scope, name);
                return new Typed(new ScopedField(field, missing(m, field)), kind(field), name.replace('_', ' '));
            }
            int dot = name.lastIndexOf('.');
            FactType type = types.apply(m.get("field"), name.substring(0, dot));
            if (type.key() == FactType.KeyKind.EPISODE) {
                throw m.get("field").error(type.name() + " is an episode: read its fields in the 'where' of an {episode: ...} test");
            }
            Field field = RulesetLoader.field(m.get("field"), type, name.substring(dot + 1));
            Object missing = missing(m, field);
            if (kind(field) == Kind.NUMBER && field.min() != null && field.min().signum() < 0) {
                throw m.get("field").error(name + " may be negative; rules read only fields that cannot (an unknown value counts as at least 0)");
            }
            return new Typed(new FactField(type, field, missing), kind(field), field.name().replace('_', ' '));
        }
        if (m.containsKey("age_of")) {
            only(node, m, "age_of", "on");
            Typed birth = value(m.get("age_of"), scope, depth);
            if (birth.kind != Kind.DATE) {
                throw m.get("age_of").error("age_of needs a date");
            }
            Day on = switch (RulesetLoader.required(node, m, "on").text("on")) {
                case "period_start" -> Day.PERIOD_START;
                case "month_start" -> Day.MONTH_START;
                default -> throw m.get("on").error("on is period_start or month_start");
            };
            return new Typed(new AgeOf(birth.value, on), Kind.NUMBER, "age");
        }
        if (m.containsKey("parameter")) {
            only(node, m, "parameter");
            String name = parameter(m.get("parameter"));
            Kind kind = switch (parameters.get(name).kind()) {
                case NUMBER -> Kind.NUMBER;
                case BOOLEAN -> Kind.BOOLEAN;
                case DATE -> Kind.DATE;
            };
            return new Typed(new ParameterValue(name), kind, name.replace('_', ' '));
        }
        if (m.containsKey("value")) {
            only(node, m, "value");
            YamlNode literal = m.get("value");
            if (literal.isNumber()) {
                return new Typed(new Literal(literal.number("value")), Kind.NUMBER, literal.number("value").toPlainString());
            }
            if (literal.isBoolean()) {
                return new Typed(new Literal(literal.bool("value")), Kind.BOOLEAN, String.valueOf(literal.bool("value")));
            }
            String text = literal.text("value");
            try {
                return new Typed(new Literal(LocalDate.parse(text)), Kind.DATE, text);
            } catch (DateTimeParseException e) {
                return new Typed(new Literal(text), Kind.TEXT, text);
            }
        }
        if (m.containsKey("sum")) {
            only(node, m, "sum");
            List<Value> terms = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            for (YamlNode term : m.get("sum").list("sum")) {
                Map<String, YamlNode> t = term.map("a term", Set.of("label", "of"));
                Typed value = value(RulesetLoader.required(term, t, "of"), scope, depth);
                number(t.get("of"), value);
                terms.add(value.value);
                labels.add(t.containsKey("label") ? t.get("label").text("label") : value.label);
            }
            if (terms.size() < 2) {
                throw m.get("sum").error("a sum has at least two terms ({label: ..., of: value} each)");
            }
            return new Typed(new Sum(List.copyOf(terms), List.copyOf(labels)), Kind.NUMBER, "sum");
        }
        if (m.containsKey("product") || m.containsKey("first_known")) {
            String kind = m.containsKey("product") ? "product" : "first_known";
            only(node, m, kind);
            List<Value> values = new ArrayList<>();
            Kind seen = null;
            String label = null;
            for (YamlNode part : m.get(kind).list(kind)) {
                Typed value = value(part, scope, depth);
                if (kind.equals("product")) {
                    number(part, value);
                } else if (seen != null && seen != value.kind) {
                    throw part.error("first_known takes values of one kind");
                }
                seen = value.kind;
                label = label == null ? value.label : label;
                values.add(value.value);
            }
            if (values.size() < 2) {
                throw m.get(kind).error("a " + kind + " has at least two values");
            }
            return kind.equals("product") ? new Typed(new Product(List.copyOf(values)), Kind.NUMBER, "product")
                    : new Typed(new FirstKnown(List.copyOf(values)), seen, label);
        }
        if (m.containsKey("quotient")) {
            only(node, m, "quotient");
            List<YamlNode> parts = m.get("quotient").list("quotient");
            if (parts.size() != 2) {
                throw m.get("quotient").error("a quotient is [dividend, divisor]");
            }
            Typed dividend = value(parts.get(0), scope, depth);
            Typed divisor = value(parts.get(1), scope, depth);
            number(parts.get(0), dividend);
            number(parts.get(1), divisor);
            return new Typed(new Quotient(dividend.value, divisor.value), Kind.NUMBER, dividend.label);
        }
        if (m.containsKey("if")) {
            only(node, m, "if", "then", "else");
            Test condition = test(m.get("if"), scope, depth);
            Typed then = value(RulesetLoader.required(node, m, "then"), scope, depth);
            Typed otherwise = m.containsKey("else") ? value(m.get("else"), scope, depth) : null;
            if (otherwise != null && otherwise.kind != then.kind) {
                throw m.get("else").error("then and else give values of one kind");
            }
            return new Typed(new IfValue(condition, then.value, otherwise == null ? null : otherwise.value), then.kind, then.label);
        }
        if (m.containsKey("months_before")) {
            only(node, m, "months_before", "each");
            Typed months = value(m.get("months_before"), scope, depth);
            number(m.get("months_before"), months);
            Typed each = value(RulesetLoader.required(node, m, "each"), scope, depth);
            number(m.get("each"), each);
            return new Typed(new MonthsBefore(months.value, each.value), Kind.NUMBER, each.label);
        }
        throw node.error("a value is one of {field}, {age_of, on}, {parameter}, {value}, {sum}, {product}, {quotient}, {if, then, else},"
                + " {first_known}, {months_before, each}");
    }

    /** A field's value when it (or its fact) is absent: {@code missing: 0}, {@code missing: false}, or unknown. */
    private static Object missing(Map<String, YamlNode> m, Field field) {
        if (!m.containsKey("missing")) {
            return null;
        }
        YamlNode given = m.get("missing");
        if (given.isScalar() && "unknown".equals(given.text("missing"))) {
            return null;
        }
        if (kind(field) == Kind.NUMBER && given.isNumber()) {
            return given.number("missing");
        }
        if (kind(field) == Kind.BOOLEAN && given.isBoolean()) {
            return given.bool("missing");
        }
        throw given.error("'missing' is a number for a number field, true or false for a true/false field, or 'unknown'");
    }

    private static void number(YamlNode node, Typed value) {
        if (value.kind != Kind.NUMBER) {
            throw node.error("a number is needed here, not a " + value.kind);
        }
    }

    private static Kind kind(Field field) {
        return switch (field.kind()) {
            case INTEGER, BIGINT, DECIMAL -> Kind.NUMBER;
            case BOOLEAN -> Kind.BOOLEAN;
            case DATE -> Kind.DATE;
            case TEXT -> Kind.TEXT;
        };
    }

    private String parameter(YamlNode node) {
        return RulesetLoader.parameterName(node, parameters);
    }

    private static void only(YamlNode node, Map<String, YamlNode> members, String... allowed) {
        Set<String> keys = Set.of(allowed);
        for (String key : members.keySet()) {
            if (!keys.contains(key)) {
                throw node.error("'" + key + "' does not go with '" + allowed[0] + "' (here: " + String.join(", ", allowed) + ")");
            }
        }
    }
}
