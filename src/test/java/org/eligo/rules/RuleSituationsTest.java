package org.eligo.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.Fact;
import org.eligo.facts.FactData;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.facts.Field;
import org.eligo.support.problem.FieldError;
import org.eligo.support.yaml.YamlNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the rule tests in {@code rules/tests/}: YAML situations a policy analyst reads and adds to.
 * Each case gives facts (optionally revoked), a period, and the expected result of the determination
 * and of every check and subcheck; listing fewer or more than the evaluation has is a failure, so a
 * case always says everything about its situation.
 */
class RuleSituationsTest {

    static final Path RULES = Path.of("rules");
    static final Path VERSION_1 = Path.of("src/test/resources/rules-v1");
    private static final FactTypes FACT_TYPES = FactTypes.load(RULES.resolve(FactTypes.FOLDER));
    private static final Instant CREATED = Instant.parse("2020-01-01T00:00:00Z");
    private static final Instant REVOKED = Instant.parse("2020-01-02T00:00:00Z");
    private static final Instant AS_OF = Instant.parse("2020-02-01T00:00:00Z");
    /** A case's facts are fact_1, fact_2, ... in the order listed (fact_10 sorts before fact_2, as ids do). */
    private static final String FACT_ID = "fact_";

    @TestFactory
    Stream<DynamicTest> situations() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        // The shipped rules, and version 1 of the first ruleset (test resources), whose files must stay runnable.
        for (Path rules : List.of(RULES, VERSION_1)) {
            Map<String, Ruleset> rulesets = new TreeMap<>();
            RulesetLoader.loadAll(rules, FACT_TYPES).forEach(r -> rulesets.put(r.id(), r));
            try (Stream<Path> files = Files.list(rules.resolve(RulesetLoader.TESTS_FOLDER))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                    tests.addAll(cases(file, rulesets));
                }
            }
        }
        assertTrue(tests.size() >= 150, "at least 150 rule cases, found " + tests.size());
        return tests.stream();
    }

    private static List<DynamicTest> cases(Path file, Map<String, Ruleset> rulesets) throws IOException {
        YamlNode root = YamlNode.parse(file, Files.readString(file));
        Map<String, YamlNode> top = root.map("a rule test file", Set.of("ruleset", "cases"));
        String rulesetId = top.get("ruleset").text("ruleset");
        Ruleset ruleset = rulesets.get(rulesetId);
        if (ruleset == null) {
            throw top.get("ruleset").error("no ruleset '" + rulesetId + "' in " + RULES);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (YamlNode node : top.get("cases").list("cases")) {
            Map<String, YamlNode> spec = node.map("a case", Set.of("name", "source", "differs", "period", "parameters", "facts", "expect", "expect_detail",
                    "expect_reason", "expect_fact_ids"));
            String name = spec.get("name").text("name");
            String where = file.getFileName() + ":" + node.line() + " " + name;
            tests.add(dynamicTest(where, () -> run(ruleset, spec, where)));
        }
        return tests;
    }

    static void run(Ruleset base, Map<String, YamlNode> spec, String where) {
        YearMonth period = YearMonth.parse(spec.get("period").text("period"));
        // A case may choose state options: parameters (or range bounds) with other values than the file's.
        Ruleset ruleset = base;
        if (spec.containsKey("parameters")) {
            Map<String, java.math.BigDecimal> values = new LinkedHashMap<>();
            spec.get("parameters").map("parameters", null).forEach((name, value) -> values.put(name,
                    value.isBoolean() ? (value.bool(name) ? java.math.BigDecimal.ONE : java.math.BigDecimal.ZERO)
                            : value.isNumber() ? value.number(name)
                            : java.math.BigDecimal.valueOf(LocalDate.parse(value.text(name)).toEpochDay())));
            ruleset = base.withValues(values);
        }
        List<Fact> facts = new ArrayList<>();
        if (spec.containsKey("facts")) {
            int n = 0;
            for (YamlNode factNode : spec.get("facts").list("facts")) {
                facts.add(fact(factNode, ++n));
            }
        }
        Evaluation evaluation = Evaluator.evaluate(ruleset, period, new FactSet(facts, AS_OF));

        Map<String, String> actual = new LinkedHashMap<>();
        Map<String, String> details = new LinkedHashMap<>();
        Map<String, List<String>> factIds = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        actual.put("result", evaluation.result().name());
        for (Evaluation.CheckResult check : evaluation.checks()) {
            actual.put(check.id(), check.result().name());
            List<org.eligo.determinations.DeterminationView.SubcheckOutcome> outcomes = new ArrayList<>();
            for (Evaluation.SubcheckResult subcheck : check.subchecks()) {
                actual.put(check.id() + "." + subcheck.id(), subcheck.result().name());
                details.put(check.id() + "." + subcheck.id(), subcheck.detail());
                factIds.put(check.id() + "." + subcheck.id(), subcheck.factIds());
                outcomes.add(new org.eligo.determinations.DeterminationView.SubcheckOutcome(subcheck.id(), subcheck.title(),
                        subcheck.result().name(), subcheck.factIds(), subcheck.detail()));
            }
            reasons.put(check.id(), new org.eligo.determinations.DeterminationView.CheckOutcome(check.id(), check.title(),
                    check.result().name(), outcomes).reason());
        }
        Map<String, String> expected = new LinkedHashMap<>();
        spec.get("expect").map("expect", null).forEach((key, value) -> expected.put(key, value.text(key)));
        assertEquals(expected, actual, where + "\n  details: " + details);
        if (spec.containsKey("expect_reason")) {
            spec.get("expect_reason").map("expect_reason", null).forEach((key, value) ->
                    assertEquals("none".equals(value.text(key)) ? null : value.text(key), reasons.get(key),
                            where + ": reason of " + key));
        }
        if (spec.containsKey("expect_fact_ids")) {
            // Facts are named by their position in the case's list (1, 2, ...); fact_ids are in ascending id order.
            spec.get("expect_fact_ids").map("expect_fact_ids", null).forEach((key, value) -> {
                List<String> expectedIds = new ArrayList<>();
                value.list(key).forEach(n -> expectedIds.add(FACT_ID + n.number("a fact's position").intValueExact()));
                java.util.Collections.sort(expectedIds);
                assertEquals(expectedIds, factIds.get(key), where + ": fact_ids of " + key + "\n  details: " + details);
            });
        }
        if (spec.containsKey("expect_detail")) {
            spec.get("expect_detail").map("expect_detail", null).forEach((key, value) ->
                    assertEquals(value.text(key), details.get(key), where + ": detail of " + key));
        }
    }

    private static Fact fact(YamlNode node, int n) {
        Map<String, YamlNode> spec = node.map("a fact", Set.of("type", "data", "revoked"));
        FactType type = FACT_TYPES.byName(spec.get("type").text("type")).orElseThrow(() -> spec.get("type").error("unknown fact type"));
        JsonNode data = spec.get("data").toJson();
        List<FieldError> errors = new ArrayList<>();
        FactData.validate(type, data, "/data", LocalDate.MAX, errors);
        if (!errors.isEmpty()) {
            throw spec.get("data").error("invalid fact data: " + errors);
        }
        Object[] values = FactData.parse(type, data);
        Map<String, Object> byName = new LinkedHashMap<>();
        for (int i = 0; i < type.fields().size(); i++) {
            Field field = type.fields().get(i);
            byName.put(field.name(), values[i]);
        }
        boolean revoked = spec.containsKey("revoked") && spec.get("revoked").bool("revoked");
        com.fasterxml.jackson.databind.node.ObjectNode stored = FactData.toJson(type, byName);
        if (FactData.isWithdrawal(data)) {
            stored.put(FactData.WITHDRAWN, true);
        }
        return new Fact(FACT_ID + n, type.name(), "B-TEST", "msg_" + n, CREATED, revoked ? REVOKED : null,
                revoked ? "fact_later" : null, null, stored);
    }
}
