package org.eligo.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.eligo.facts.FactTypes;
import org.eligo.support.yaml.RuleFileException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state's choices as a small folder of its own: a ruleset that {@code extends} the shipped one and
 * lists only the parameters it changes (test resources states/).
 */
class StateRulesetTest {

    static final String BASE = "medicaid-community-engagement";
    static final String STATE = "medicaid-community-engagement-example-state";

    @TempDir
    Path rules;

    @BeforeEach
    void copyTheShippedRulesAndTheState() throws IOException {
        copy(Path.of("rules", BASE), rules.resolve(BASE));
        copy(Path.of("rules", FactTypes.FOLDER), rules.resolve(FactTypes.FOLDER));
        copy(Path.of("src/test/resources/states", STATE), rules.resolve(STATE));
    }

    private Map<String, Ruleset> load() {
        return RulesetLoader.loadAll(rules).stream().collect(Collectors.toMap(Ruleset::id, Function.identity()));
    }

    @Test
    void theStateLoadsAsItsOwnRulesetWithTheBasesChecksAndItsOwnValues() {
        Map<String, Ruleset> loaded = load();
        Ruleset base = loaded.get(BASE);
        Ruleset state = loaded.get(STATE);
        assertEquals("2027.2-example.1", state.version());
        assertNotEquals(base.sha256(), state.sha256());
        assertEquals(base.checks().stream().map(Ruleset.Check::id).toList(), state.checks().stream().map(Ruleset.Check::id).toList());
        LocalDate day = LocalDate.of(2027, 7, 1);
        assertEquals(whole(1), base.parameter("application_review_months", day));
        assertEquals(whole(3), state.parameter("application_review_months", day));
        assertEquals(base.parameter("monthly_income_threshold_cents", day), state.parameter("monthly_income_threshold_cents", day));
        assertEquals(BASE, state.definition().path("ruleset").path("extends").asText());
        assertEquals(3, state.definition().path("parameters").path("application_review_months").path("values").path("always").asInt());

        Evaluation evaluation = Evaluator.evaluate(state, YearMonth.of(2027, 7), new FactSet(List.of(), java.time.Instant.EPOCH));
        assertEquals(List.of("not_applicable", "month_2027_06", "month_2027_05", "month_2027_04"),
                evaluation.checks().stream().map(Evaluation.CheckResult::id).toList(), "the state reviews three months at application");
    }

    @Test
    void theStatesHashCoversTheBaseAndItsRecordReloadsAsItWas() throws IOException {
        Ruleset state = load().get(STATE);
        assertTrue(state.files().containsKey("base/ruleset.yaml"), state.files().keySet().toString());
        assertTrue(state.files().containsKey("base/parameters.yaml"));
        assertTrue(state.files().containsKey("fact-types/income.monthly.yaml"));
        Ruleset recorded = RulesetLoader.load(Path.of("recorded"), state.files());
        assertEquals(state.sha256(), recorded.sha256());
        assertEquals(STATE, recorded.id());

        Path parameters = rules.resolve(BASE).resolve("parameters.yaml");
        Files.writeString(parameters, Files.readString(parameters).replace("2009-07-24: 725", "2009-07-24: 725\n    2027-06-01: 800"));
        Ruleset changed = load().get(STATE);
        assertNotEquals(state.sha256(), changed.sha256(), "a change to the base is a new version of the state's ruleset");
        assertEquals(new BigDecimal("64000"), changed.parameter("monthly_income_threshold_cents", LocalDate.of(2027, 7, 1)).orElseThrow(),
                "derived parameters follow the base's new values");
    }

    @Test
    void aStateChangesTheBasesParametersOnlyAndHasNoChecksOfItsOwn() throws IOException {
        Path state = rules.resolve(STATE);
        Files.writeString(state.resolve("parameters.yaml"), Files.readString(state.resolve("parameters.yaml"))
                + "weekly_hours:\n  reference: none\n  values:\n    2027-01-01: 20\n");
        RuleFileException error = assertThrows(RuleFileException.class, this::load);
        assertTrue(error.getMessage().contains("'weekly_hours' is not a parameter of " + BASE), error.getMessage());

        copy(Path.of("src/test/resources/states", STATE), state);
        Files.writeString(state.resolve("ruleset.yaml"), Files.readString(state.resolve("ruleset.yaml")) + "result: any\n");
        error = assertThrows(RuleFileException.class, this::load);
        assertTrue(error.getMessage().contains("unknown key 'result'"), error.getMessage());
    }

    @Test
    void aStateExtendsARulesetOfTheSameFolderThatExtendsNoOther() throws IOException {
        Path state = rules.resolve(STATE);
        Files.writeString(state.resolve("ruleset.yaml"), Files.readString(state.resolve("ruleset.yaml")).replace("extends: " + BASE, "extends: unknown-program"));
        RuleFileException error = assertThrows(RuleFileException.class, this::load);
        assertTrue(error.getMessage().contains("extends 'unknown-program'"), error.getMessage());

        copy(Path.of("src/test/resources/states", STATE), state);
        Path second = rules.resolve("second-state");
        copy(Path.of("src/test/resources/states", STATE), second);
        Files.writeString(second.resolve("ruleset.yaml"), Files.readString(second.resolve("ruleset.yaml"))
                .replace("id: " + STATE, "id: second-state").replace("extends: " + BASE, "extends: " + STATE));
        error = assertThrows(RuleFileException.class, this::load);
        assertTrue(error.getMessage().contains("cannot itself be extended"), error.getMessage());
    }

    @Test
    void aRuleCaseMayChooseStateOptions() {
        Ruleset base = load().get(BASE);
        Ruleset chosen = base.withValues(Map.of("application_review_months", BigDecimal.valueOf(2),
                "federal_minimum_wage_cents_per_hour", BigDecimal.valueOf(800)));
        assertEquals(whole(2), chosen.parameter("application_review_months", LocalDate.of(2027, 7, 1)));
        assertEquals(whole(64000), chosen.parameter("monthly_income_threshold_cents", LocalDate.of(2027, 7, 1)));
        assertEquals(java.util.Optional.empty(), chosen.parameter("federal_minimum_wage_cents_per_hour", LocalDate.of(2009, 7, 1)),
                "a chosen value starts when the file's did");
        assertThrows(IllegalArgumentException.class, () -> base.withValues(Map.of("monthly_income_threshold_cents", BigDecimal.ONE)));
        assertThrows(IllegalArgumentException.class, () -> base.withValues(Map.of("no_such_parameter", BigDecimal.ONE)));
    }

    /** A parameter's whole-number value, as {@link Ruleset#parameter} gives it. */
    private static java.util.Optional<BigDecimal> whole(int value) {
        return java.util.Optional.of(BigDecimal.valueOf(value));
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
