package org.eligo.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.facts.Fact;
import org.eligo.facts.FactTypes;
import org.eligo.support.yaml.RuleFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading rulesets: the real ones, a second program, and every kind of mistake named by file and line. */
class RulesetLoaderTest {

    private static final Path SECOND_PROGRAM = Path.of("src/test/resources/rulesets/senior-heating-assistance");
    private static final String PARAMETERS = """
            limit:
              reference: Example Act, s. 1
              values:
                2020-01-01: 100
            """;
    private static final String RULESET = """
            id: example
            version: "1"
            title: Example
            result: any
            checks:
              - id: income
                title: Income
                combine: any
                subchecks:
                  - id: low
                    title: Low income
                    fact: income.monthly
                    key: {year: period.year, month: period.month}
                    test: {compare: {field: amount_cents}, op: "<", to: {parameter: limit}}
            """;

    /** A range parameter (both ends included), and a check that names its lower bound. */
    private static final String RANGE = """
            age:
              reference: Example Act, s. 2
              values:
                2020-01-01: {min: 18, max: 64}
            """;
    private static final String RANGED = """
            id: ranged
            version: "1"
            title: Ranged
            result: any
            checks:
              - id: age
                title: Age
                combine: any
                subchecks:
                  - id: young
                    title: Young
                    fact: person.birthdate
                    test: {compare: {age_of: birth_date}, op: "<", to: {parameter: age.min}, label: age, unit: years}
            """;

    @TempDir
    Path directory;

    @Test
    void theShippedRulesetLoadsWithItsIdVersionAndHash() {
        List<Ruleset> rulesets = RulesetLoader.loadAll(Path.of("rules"));
        assertEquals(List.of("medicaid-community-engagement"), rulesets.stream().map(Ruleset::id).toList());
        Ruleset medicaid = rulesets.get(0);
        assertEquals("2027.2", medicaid.version());
        assertTrue(medicaid.sha256().matches("[0-9a-f]{64}"), medicaid.sha256());
        java.time.LocalDate july = java.time.LocalDate.of(2027, 7, 1);
        assertEquals(58000, medicaid.parameter("monthly_income_threshold_cents", july).orElseThrow().intValueExact());
        // The contract's applicable_age, "19 to 64 inclusive", is one range parameter; rules name its bounds.
        assertEquals(19, medicaid.parameter("applicable_age.min", july).orElseThrow().intValueExact());
        assertEquals(64, medicaid.parameter("applicable_age.max", july).orElseThrow().intValueExact());
        assertEquals(65, medicaid.parameter("older_exemption_age", july).orElseThrow().intValueExact());
        // Version 2: the requirement starts on implementation_date; the law's numbers themselves have no start of their own.
        assertEquals(java.time.LocalDate.of(2027, 1, 1), Parameter.date(medicaid.parameter("implementation_date", july).orElseThrow()));
        assertEquals("implementation_date", medicaid.structure().inEffectFrom());
        assertEquals(Boolean.TRUE, medicaid.parameters().get("hardship_exception").kind() == Parameter.Kind.BOOLEAN);
    }

    @Test
    void aNewProgramIsNewFilesNotNewJava() {
        Ruleset heating = RulesetLoader.load(SECOND_PROGRAM, RulesetLoader.readAll(SECOND_PROGRAM), FactTypes.load(Path.of("rules", FactTypes.FOLDER)));
        List<Fact> facts = List.of(
                fact("fact_1", "person.birthdate", data().put("birth_date", "1960-03-01")),
                fact("fact_2", "income.monthly", data().put("year", 2027).put("month", 6).put("amount_cents", 90000).putNull("hours").putNull("employers")),
                fact("fact_3", "income.monthly", data().put("year", 2027).put("month", 5).put("amount_cents", 149999).putNull("hours").putNull("employers")));

        Evaluation evaluation = Evaluator.evaluate(heating, YearMonth.of(2027, 7), new FactSet(facts, Instant.parse("2030-01-01T00:00:00Z")));
        assertEquals(Result.PASSED, evaluation.result());
        assertEquals(List.of("income_2027_06", "income_2027_05"),
                evaluation.checks().get(1).subchecks().stream().map(Evaluation.SubcheckResult::id).toList());

        // In 2030 the minimum age rises to 62: the same facts no longer qualify (the new value applies, not new code).
        Evaluation later = Evaluator.evaluate(heating, YearMonth.of(2030, 7), new FactSet(facts, Instant.parse("2030-01-01T00:00:00Z")));
        assertEquals(Result.PASSED, later.checks().get(0).result(), "70 in 2030");
        assertEquals(Result.NO_DATA, later.checks().get(1).result(), "no income facts for 2030");
    }

    @Test
    void aRangeIsNamedByItsBoundsAndASumDerivesFromThem() throws IOException {
        Path folder = write("ranged", RANGED.replace("op: \"<\", to: {parameter: age.min}", "op: \">=\", to: {parameter: older}"),
                RANGE + "    2030-01-01: {min: 19, max: 66}\nolder:\n  reference: Example Act, s. 3\n  sum: [age.max, 1]\n");
        Ruleset ranged = RulesetLoader.load(folder);
        assertEquals(65, ranged.parameter("older", java.time.LocalDate.of(2027, 7, 1)).orElseThrow().intValueExact());
        assertEquals(67, ranged.parameter("older", java.time.LocalDate.of(2030, 7, 1)).orElseThrow().intValueExact(), "follows the dated bound");
        assertEquals(19, ranged.parameter("age.min", java.time.LocalDate.of(2030, 7, 1)).orElseThrow().intValueExact());

        List<Fact> facts = List.of(fact("fact_1", "person.birthdate", data().put("birth_date", "1962-07-01")));
        Evaluation evaluation = Evaluator.evaluate(ranged, YearMonth.of(2027, 7), new FactSet(facts, Instant.parse("2030-01-01T00:00:00Z")));
        assertEquals("age 65 ≥ 65 years on 2027-07-01", evaluation.checks().get(0).subchecks().get(0).detail());
    }

    @Test
    void aSubcheckThatCannotBeEvaluatedIsErrorAndTheRestGoesOn() {
        Ruleset medicaid = RulesetLoader.loadAll(Path.of("rules")).get(0);
        List<Fact> facts = List.of(
                fact("fact_1", "person.birthdate", data().put("birth_date", "not a date")),
                fact("fact_2", "income.monthly", data().put("year", 2027).put("month", 6).put("amount_cents", 60000).putNull("hours").putNull("employers")));

        Evaluation evaluation = Evaluator.evaluate(medicaid, YearMonth.of(2027, 7), new FactSet(facts, Instant.parse("2030-01-01T00:00:00Z")));
        Evaluation.SubcheckResult under19 = evaluation.checks().get(0).subchecks().get(0);
        assertEquals(Result.ERROR, under19.result());
        assertEquals(List.of("fact_1"), under19.factIds());
        assertTrue(under19.detail().startsWith("could not evaluate: "), under19.detail());
        assertEquals(Result.ERROR, evaluation.checks().get(0).result());
        assertEquals(Result.PASSED, evaluation.checks().get(1).result(), "the other checks are still evaluated");
        assertEquals(Result.PASSED, evaluation.result());
    }

    @Test
    void anyEditChangesTheHash() throws IOException {
        Path copy = write("example", RULESET, PARAMETERS);
        String before = RulesetLoader.load(copy).sha256();
        Files.writeString(copy.resolve("parameters.yaml"), PARAMETERS.replace("100", "101"));
        assertTrue(!before.equals(RulesetLoader.load(copy).sha256()));
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of("unknown key", RULESET.replace("result: any", "result: any\nresults: all"), PARAMETERS, "ruleset.yaml:5", "unknown key 'results'"),
                Arguments.of("missing version", RULESET.replace("version: \"1\"\n", ""), PARAMETERS, "ruleset.yaml:1", "'version' is required"),
                Arguments.of("unknown fact type", RULESET.replace("fact: income.monthly", "fact: income.weekly"), PARAMETERS, "ruleset.yaml:12", "unknown fact type 'income.weekly'"),
                Arguments.of("unknown field", RULESET.replace("field: amount_cents", "field: amount"), PARAMETERS, "ruleset.yaml:14", "has no field 'amount'"),
                Arguments.of("unknown parameter", RULESET.replace("parameter: limit", "parameter: limt"), PARAMETERS, "ruleset.yaml:14", "unknown parameter 'limt'"),
                Arguments.of("bad operator", RULESET.replace("op: \"<\"", "op: \"=<\""), PARAMETERS, "ruleset.yaml:14", "op must be one of"),
                Arguments.of("unbound key", RULESET.replace("key: {year: period.year, month: period.month}", "key: {year: period.year}"), PARAMETERS, "ruleset.yaml:", "keyed by month"),
                Arguments.of("age of a number", RULESET.replace("{field: amount_cents}", "{age_of: amount_cents}"), PARAMETERS, "ruleset.yaml:14", "age_of needs a date field"),
                Arguments.of("not YAML", RULESET.replace("checks:", "checks: [unclosed"), PARAMETERS, "ruleset.yaml:", "not valid YAML"),
                Arguments.of("duplicate key", RULESET.replace("title: Example", "title: Example\ntitle: Again"), PARAMETERS, "ruleset.yaml:4", "appears twice"),
                Arguments.of("parameter without reference", RULESET, PARAMETERS.replace("  reference: Example Act, s. 1\n", ""), "parameters.yaml:2", "needs a 'reference'"),
                Arguments.of("parameter date", RULESET, PARAMETERS.replace("2020-01-01", "2020-13-01"), "parameters.yaml:4", "is not a date"),
                Arguments.of("parameter value", RULESET, PARAMETERS.replace("100", "a lot"), "parameters.yaml:4", "must be a number"),
                Arguments.of("duplicate parameter date", RULESET, PARAMETERS + "    2020-01-01: 200\n", "parameters.yaml:5", "appears twice"),
                Arguments.of("swapped key binding", RULESET.replace("key: {year: period.year, month: period.month}", "key: {year: period.month, month: period.year}"),
                        PARAMETERS, "ruleset.yaml:13", "binds to period.year"),
                Arguments.of("at_least more than there are", RULESET.replace("combine: any", "combine: {at_least: 2}"), PARAMETERS, "ruleset.yaml:8", "can never pass"),
                Arguments.of("a count too large", RULESET.replace("combine: any", "combine: {at_least: 40000}"), PARAMETERS, "ruleset.yaml:8", "from 1 to 120"),
                Arguments.of("a fractional count parameter", RULESET.replace("combine: any", "combine: {at_least: {parameter: limit}}"),
                        PARAMETERS.replace("100", "2.5"), "ruleset.yaml:8", "used as a count"),
                Arguments.of("empty checks", RULESET.substring(0, RULESET.indexOf("checks:")) + "checks: []\n", PARAMETERS, "ruleset.yaml:5", "at least one check"),
                Arguments.of("a range without max", RANGED, RANGE.replace("{min: 18, max: 64}", "{min: 18}"), "parameters.yaml:4", "needs both 'min' and 'max'"),
                Arguments.of("a range with another key", RANGED, RANGE.replace("max: 64", "most: 64"), "parameters.yaml:4", "unknown key 'most'"),
                Arguments.of("a range upside down", RANGED, RANGE.replace("{min: 18, max: 64}", "{min: 64, max: 18}"), "parameters.yaml:4", "min 64 is above max 18"),
                Arguments.of("a range bound not a number", RANGED, RANGE.replace("min: 18", "min: eighteen"), "parameters.yaml:4", "must be a number"),
                Arguments.of("ranges and numbers mixed", RANGED, RANGE.replace("    2020-01-01: {min: 18, max: 64}\n", "    2020-01-01: {min: 18, max: 64}\n    2030-01-01: 20\n"),
                        "parameters.yaml:5", "mixes ranges and numbers"),
                Arguments.of("a range named without a bound", RANGED.replace("parameter: age.min", "parameter: age"), RANGE, "ruleset.yaml:13", "is a range: name a bound, age.min or age.max"),
                Arguments.of("a range's unknown bound", RANGED.replace("parameter: age.min", "parameter: age.mid"), RANGE, "ruleset.yaml:13", "bounds are age.min and age.max"),
                Arguments.of("a sum of an unknown parameter", RANGED, RANGE + "older:\n  reference: Example Act, s. 3\n  sum: [age.most, 1]\n",
                        "parameters.yaml:7", "'age.most' is not a dated parameter"),
                Arguments.of("a sum of one term", RANGED, RANGE + "older:\n  reference: Example Act, s. 3\n  sum: [age.max]\n",
                        "parameters.yaml:7", "at least two terms"),
                Arguments.of("a sum of numbers only", RANGED, RANGE + "older:\n  reference: Example Act, s. 3\n  sum: [64, 1]\n",
                        "parameters.yaml:7", "names at least one parameter"),
                Arguments.of("values and sum both", RANGED, RANGE.replace("  values:\n", "  sum: [age.max, 1]\n  values:\n"),
                        "parameters.yaml:2", "needs one of 'values'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistakes")
    void aMistakeNamesTheFileTheLineAndWhatIsWrong(String name, String ruleset, String parameters, String where, String what) throws IOException {
        Path folder = write("broken", ruleset, parameters);
        RuleFileException error = assertThrows(RuleFileException.class, () -> RulesetLoader.load(folder));
        assertTrue(error.getMessage().contains(where), error.getMessage());
        assertTrue(error.getMessage().contains(what), error.getMessage());
    }

    @Test
    void aMisspeltRulesetFileIsAnErrorNotASilentSkip() throws IOException {
        Path folder = write("typo", RULESET, PARAMETERS);
        Files.move(folder.resolve("ruleset.yaml"), folder.resolve("ruleset.yml"));
        RuleFileException error = assertThrows(RuleFileException.class, () -> RulesetLoader.loadAll(directory));
        assertTrue(error.getMessage().contains("no ruleset.yaml"), error.getMessage());
    }

    @Test
    void oneBrokenRulesetStopsTheWholeLoad() throws IOException {
        write("a-good", RULESET.replace("id: example", "id: a-good"), PARAMETERS);
        write("b-broken", RULESET.replace("id: example", "id: b-broken").replace("op: \"<\"", "op: \"~\""), PARAMETERS);
        assertThrows(RuleFileException.class, () -> RulesetLoader.loadAll(directory));
    }

    @Test
    void resultsCombineThreeValued() {
        assertEquals(Result.PASSED, Result.atLeast(1, List.of(Result.NO_DATA, Result.PASSED, Result.ERROR)));
        assertEquals(Result.NOT_PASSED, Result.atLeast(2, List.of(Result.NOT_PASSED, Result.NO_DATA, Result.NOT_PASSED)));
        assertEquals(Result.NO_DATA, Result.atLeast(1, List.of(Result.NOT_PASSED, Result.NO_DATA)));
        assertEquals(Result.ERROR, Result.atLeast(1, List.of(Result.NO_DATA, Result.ERROR)));
        assertEquals(Result.SKIPPED, Result.atLeast(1, List.of(Result.SKIPPED, Result.SKIPPED)));
        assertEquals(Result.PASSED, Result.all(List.of(Result.PASSED, Result.SKIPPED, Result.PASSED)));
        assertEquals(Result.NOT_PASSED, Result.all(List.of(Result.PASSED, Result.NOT_PASSED, Result.ERROR)));
        assertEquals(Result.ERROR, Result.all(List.of(Result.PASSED, Result.NO_DATA, Result.ERROR)));
    }

    private Path write(String name, String ruleset, String parameters) throws IOException {
        copyFactTypes(directory);
        Path folder = Files.createDirectories(directory.resolve(name));
        Files.writeString(folder.resolve("ruleset.yaml"), ruleset);
        Files.writeString(folder.resolve("parameters.yaml"), parameters);
        return folder;
    }

    /** The shipped fact-type declarations, beside the rulesets a test writes (as in rules/). */
    static void copyFactTypes(Path rulesFolder) throws IOException {
        Path target = Files.createDirectories(rulesFolder.resolve(FactTypes.FOLDER));
        try (Stream<Path> declarations = Files.list(Path.of("rules", FactTypes.FOLDER))) {
            for (Path declaration : declarations.toList()) {
                Files.copy(declaration, target.resolve(declaration.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static ObjectNode data() {
        return JsonNodeFactory.instance.objectNode();
    }

    private static Fact fact(String id, String type, ObjectNode data) {
        return new Fact(id, type, "B-1", "msg_" + id, Instant.parse("2020-01-01T00:00:00Z"), null, null, null, data);
    }
}
