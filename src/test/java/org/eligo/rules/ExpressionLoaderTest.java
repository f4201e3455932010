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

import org.eligo.support.yaml.RuleFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Tests over several facts, review months and nested results: a small ruleset that uses them, and each kind of mistake. */
class ExpressionLoaderTest {

    static final String PARAMETERS = """
            start:
              reference: Example Act, s. 1
              values:
                always: 2027-01-01
            months:
              reference: Example Act, s. 2
              values:
                always: 2
            required:
              reference: Example Act, s. 3
              values:
                always: 1
            threshold:
              reference: Example Act, s. 4
              values:
                always: 80
            elected:
              reference: Example Act, s. 5
              values:
                always: true
            """;

    static final String RULESET = """
            id: example
            version: "1"
            title: Example
            in_effect_from: start
            review_months:
              context: review.context
              application_months: {parameter: months}
              renewal_required_months: {parameter: required}
            result:
              any:
                - check: excluded
                - {at_least: review_months, of: each_review_month}
            tests:
              pregnant:
                episode: pregnancy.episode
                overlaps: month
            checks:
              - id: excluded
                title: Excluded
                combine: any
                subchecks:
                  - id: pregnant
                    title: Pregnant
                    test: {use: pregnant}
              - each_review_month:
                  id: month_{yyyy}_{mm}
                  title: Month {month}
                  combine: any
                  skipped_when_passed: {check: excluded, detail: excluded}
                  subchecks:
                    - id: hours
                      title: Hours
                      test:
                        compare:
                          sum:
                            - {label: work, of: {field: income.monthly.hours}}
                            - {label: service, of: {field: activity.monthly.community_service_hours, missing: 0}}
                        op: ">="
                        to: {parameter: threshold}
                        label: hours
                    - id: elected
                      title: Elected
                      test: {applies_when: elected, test: {fact: hardship.county, where: {compare: {field: disaster}, op: "==", to: {value: true}}}}
            """;

    @TempDir
    Path directory;

    private Ruleset load(String ruleset, String parameters) throws IOException {
        RulesetLoaderTest.copyFactTypes(directory);
        Path folder = Files.createDirectories(directory.resolve("example"));
        Files.writeString(folder.resolve("ruleset.yaml"), ruleset);
        Files.writeString(folder.resolve("parameters.yaml"), parameters);
        return RulesetLoader.load(folder);
    }

    @Test
    void theConstructsLoadAndEvaluate() throws IOException {
        Ruleset ruleset = load(RULESET, PARAMETERS);
        Evaluation evaluation = Evaluator.evaluate(ruleset, YearMonth.of(2027, 7), new FactSet(List.of(), Instant.EPOCH));
        assertEquals(List.of("excluded", "month_2027_06", "month_2027_05"), evaluation.checks().stream().map(Evaluation.CheckResult::id).toList());
        assertEquals(Result.NO_DATA, evaluation.checks().get(1).subchecks().get(0).result(), "no work hours: unknown, and the rest is short");
        assertEquals(Result.NOT_PASSED, evaluation.checks().get(1).subchecks().get(1).result());
        assertEquals(Result.NO_DATA, evaluation.result());
        Evaluation before = Evaluator.evaluate(ruleset, YearMonth.of(2026, 12), new FactSet(List.of(), Instant.EPOCH));
        assertEquals(Result.SKIPPED, before.result());
        assertEquals(List.of("excluded"), before.checks().stream().map(Evaluation.CheckResult::id).toList());
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of("unknown named test", RULESET.replace("{use: pregnant}", "{use: pregnancy}"), PARAMETERS, "no named test 'pregnancy'"),
                Arguments.of("a named test using itself", RULESET.replace("episode: pregnancy.episode\n    overlaps: month", "use: pregnant"),
                        PARAMETERS, "loop"),
                Arguments.of("an episode tested as a fact", RULESET.replace("episode: pregnancy.episode", "fact: pregnancy.episode")
                        .replace("\n    overlaps: month", ""), PARAMETERS, "is an episode"),
                Arguments.of("a fact tested as an episode", RULESET.replace("{fact: hardship.county,", "{episode: hardship.county, overlaps: month,"),
                        PARAMETERS, "is not an episode"),
                Arguments.of("a bad window", RULESET.replace("overlaps: month", "overlaps: year"), PARAMETERS, "overlaps is 'month'"),
                Arguments.of("an unscoped short field", RULESET.replace("{field: income.monthly.hours}", "{field: hours}"), PARAMETERS,
                        "names a field of the fact a 'where' tests"),
                Arguments.of("an unknown field", RULESET.replace("income.monthly.hours", "income.monthly.minutes"), PARAMETERS, "has no field 'minutes'"),
                Arguments.of("a number compared with a boolean", RULESET.replace("to: {parameter: threshold}", "to: {value: true}"), PARAMETERS,
                        "compares a NUMBER with a BOOLEAN"),
                Arguments.of("a boolean ordered", RULESET.replace("op: \"==\", to: {value: true}", "op: \"<\", to: {value: true}"), PARAMETERS,
                        "compared with == or != only"),
                Arguments.of("an election that is a number", RULESET, PARAMETERS.replace("always: true", "always: 1"), "an election"),
                Arguments.of("in effect from a number", RULESET.replace("in_effect_from: start", "in_effect_from: threshold"), PARAMETERS,
                        "names a date parameter"),
                Arguments.of("review months without the construct", RULESET.replace("review_months:\n  context: review.context\n"
                        + "  application_months: {parameter: months}\n  renewal_required_months: {parameter: required}\n", ""), PARAMETERS,
                        "needs 'review_months'"),
                Arguments.of("a result naming an unknown check", RULESET.replace("- check: excluded", "- check: exempt"), PARAMETERS, "no check 'exempt'"),
                Arguments.of("skipped when an unknown check passed", RULESET.replace("{check: excluded, detail", "{check: exempt, detail"),
                        PARAMETERS, "not an earlier check"),
                Arguments.of("always and a date", RULESET, PARAMETERS.replace("always: 80", "always: 80\n    2028-01-01: 90"), "no other dated value"),
                Arguments.of("a sum of a boolean", RULESET.replace("{field: activity.monthly.community_service_hours, missing: 0}",
                        "{field: hardship.county.disaster}"), PARAMETERS, "a number is needed here"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistakes")
    void aMistakeNamesItsFileLineAndProblem(String name, String ruleset, String parameters, String problem) {
        RuleFileException error = assertThrows(RuleFileException.class, () -> load(ruleset, parameters));
        assertTrue(error.getMessage().contains(problem), error.getMessage());
        assertTrue(error.getMessage().matches("(?s).*\\.yaml:\\d+.*"), "names the file and line: " + error.getMessage());
    }
}
