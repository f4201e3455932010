package org.eligo.facts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetLoader;
import org.eligo.support.problem.FieldError;
import org.eligo.support.yaml.RuleFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Fact-type declarations: what a good one yields, and where a wrong one is wrong. */
class FactTypeLoaderTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final LocalDate TODAY = LocalDate.of(2027, 7, 15);

    /** A made-up episode type with one field of every kind. */
    static final String EPISODE = """
            type: example.episode
            description: A made-up episode.
            reference: Example Act, s. 1
            key: episode
            absent: none
            fields:
              level:
                type: integer
                min: 0
                max: 9
              share:
                type: number
                min: 0
                max: 1
                decimals: 2
              kind:
                type: string
                values: [a, b]
              note:
                type: string
                max_length: 5
              flag:
                type: boolean
                default: false
              seen_on:
                type: date
                not_after_received: true
            """;

    @TempDir
    Path directory;

    @Test
    void theShippedDeclarationsLoadWithTheirKeysAndMeaningOfAbsence() {
        FactTypes types = FactTypes.load(Path.of("rules", FactTypes.FOLDER));
        FactType income = types.byName("income.monthly").orElseThrow();
        assertEquals(FactType.KeyKind.MONTH, income.key());
        assertEquals(FactType.Absent.UNKNOWN, income.absent());
        assertEquals(List.of("year", "month"), income.keyFields().stream().map(Field::name).toList());
        assertEquals(List.of("year", "month", "amount_cents", "hours", "employers", "allocated_income_cents", "seasonal_worker"),
                income.fields().stream().map(Field::name).toList());
        assertEquals(FactType.KeyKind.PERSON, types.byName("person.birthdate").orElseThrow().key());
        assertEquals(FactType.Absent.NONE, types.byName("disability.status").orElseThrow().absent());
    }

    @Test
    void anEpisodeHasItsIdStartAndInclusiveEndAndEveryFieldKindValidates() throws IOException {
        FactType type = parse("example.episode", EPISODE);
        assertEquals(List.of("episode_id"), type.keyFields().stream().map(Field::name).toList());
        assertEquals(List.of("episode_id", "start", "end", "level", "share", "kind", "note", "flag", "seen_on"),
                type.fields().stream().map(Field::name).toList());

        assertEquals(List.of(), errors(type, "{\"episode_id\": \"e-1\", \"start\": \"2027-01-01\", \"end\": \"2027-01-01\", \"level\": 9,"
                + " \"share\": 0.25, \"kind\": \"b\", \"note\": \"hello\", \"flag\": true, \"seen_on\": \"2027-07-15\"}"));
        assertEquals(List.of(), errors(type, "{\"episode_id\": \"e-1\", \"start\": \"2027-01-01\"}"));
        assertEquals(java.util.Set.of("/data/end", "/data/level", "/data/share", "/data/kind", "/data/note", "/data/seen_on"),
                java.util.Set.copyOf(errors(type, "{\"episode_id\": \"e-1\", \"start\": \"2027-01-02\", \"end\": \"2027-01-01\", \"level\": 10,"
                        + " \"share\": 0.125, \"kind\": \"c\", \"note\": \"too long\", \"seen_on\": \"2027-07-16\"}")));
        assertEquals(List.of("/data/episode_id", "/data/start"), errors(type, "{}"));
        assertEquals(List.of("/data/start"), errors(type, "{\"episode_id\": \"e-1\", \"start\": \"2027-07-16\"}"));
        assertEquals(List.of("/data/other"), errors(type, "{\"episode_id\": \"e-1\", \"start\": \"2027-01-01\", \"other\": 1}"));

        Object[] values = FactData.parse(type, (ObjectNode) JSON.readTree("{\"episode_id\": \"e-1\", \"start\": \"2027-01-01\"}"));
        assertEquals(Boolean.FALSE, values[type.fields().indexOf(type.field("flag"))], "an absent optional field takes its default");
    }

    @Test
    void requirementsAcrossFieldsValidateEveryFactButAWithdrawal() throws IOException {
        FactType type = parse("example.episode", EPISODE + "requires:\n  - {at_least_one_of: [level, share]}\n  - {field: note, unless: {kind: a}}\n");
        String start = "\"episode_id\": \"e-1\", \"start\": \"2027-01-01\"";
        assertEquals(List.of("/data", "/data/note"), errors(type, "{" + start + "}"));
        assertEquals(List.of("/data/note"), errors(type, "{" + start + ", \"level\": 1, \"kind\": \"b\"}"));
        assertEquals(List.of(), errors(type, "{" + start + ", \"share\": 0.5, \"kind\": \"a\"}"));
        assertEquals(List.of(), errors(type, "{" + start + ", \"level\": 1, \"note\": \"n\"}"));
        assertEquals(List.of(), errors(type, "{\"episode_id\": \"e-1\", \"withdrawn\": true}"));
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of("unknown key", EPISODE.replace("absent: none", "absent: none\nsize: 3"), ":6", "unknown key 'size'"),
                Arguments.of("bad key kind", EPISODE.replace("key: episode", "key: weekly"), ":4", "person, month or episode"),
                Arguments.of("bad absent", EPISODE.replace("absent: none", "absent: maybe"), ":5", "unknown"),
                Arguments.of("no reference", EPISODE.replace("reference: Example Act, s. 1\n", ""), ":1", "'reference' is required"),
                Arguments.of("reserved field", EPISODE.replace("  level:", "  withdrawn:"), ":7", "reserved"),
                Arguments.of("a key field again", EPISODE.replace("  level:", "  start:"), ":7", "already a field"),
                Arguments.of("unknown field type", EPISODE.replace("type: integer", "type: int"), ":8", "a field's type is one of"),
                Arguments.of("number without decimals", EPISODE.replace("    decimals: 2\n", ""), ":12", "decimals"),
                Arguments.of("min above max", EPISODE.replace("min: 0\n    max: 9", "min: 10\n    max: 9"), ":9", "above max"),
                Arguments.of("option of another type", EPISODE.replace("    values: [a, b]", "    values: [a, b]\n    min: 1"), ":19", "does not apply"),
                Arguments.of("string without bounds", EPISODE.replace("    max_length: 5\n", ""), ":20", "lists its values"),
                Arguments.of("default of a required field", EPISODE.replace("    default: false", "    default: false\n    required: true"), ":24", "no default"),
                Arguments.of("not YAML", EPISODE.replace("fields:", "fields: [unclosed"), ":", "not valid YAML"),
                Arguments.of("file name and type differ", EPISODE.replace("type: example.episode", "type: example.other"), ":1", "must be in a file named"),
                Arguments.of("requires an unknown field", EPISODE + "requires:\n  - {at_least_one_of: [level, size]}\n", ":29", "not a field of this type"),
                Arguments.of("requires a field with a default", EPISODE + "requires:\n  - {at_least_one_of: [level, flag]}\n", ":29", "without a default"),
                Arguments.of("requires a key field", EPISODE + "requires:\n  - {at_least_one_of: [level, episode_id]}\n", ":29", "optional field"),
                Arguments.of("at least one of one field", EPISODE + "requires:\n  - {at_least_one_of: [level]}\n", ":29", "two fields or more"),
                Arguments.of("unless a value not listed", EPISODE + "requires:\n  - {field: note, unless: {kind: c}}\n", ":29", "not one of kind's values"),
                Arguments.of("unless a field without values", EPISODE + "requires:\n  - {field: level, unless: {note: x}}\n", ":29", "string field with values"),
                Arguments.of("a requirement of neither form", EPISODE + "requires:\n  - {field: level}\n", ":29", "either"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mistakes")
    void aWrongDeclarationNamesItsFileLineAndProblem(String name, String text, String line, String problem) {
        RuleFileException error = assertThrows(RuleFileException.class, () -> parse("example.episode", text));
        assertTrue(error.getMessage().contains("example.episode.yaml" + line), error.getMessage());
        assertTrue(error.getMessage().contains(problem), error.getMessage());
    }

    @Test
    void aMisnamedDeclarationFileStopsTheLoadRatherThanLeavingItsTypeUnknown() throws IOException {
        Files.writeString(directory.resolve("example.episode.yml"), EPISODE);
        RuleFileException error = assertThrows(RuleFileException.class, () -> FactTypes.load(directory));
        assertTrue(error.getMessage().contains("<type>.yaml"), error.getMessage());
    }

    @Test
    void aRulesetsHashCoversTheDeclarationsOfTheTypesItReadsAndItsRecordCarriesThem() throws IOException {
        Path rules = directory.resolve("rules");
        Path program = Files.createDirectories(rules.resolve("medicaid-community-engagement"));
        Path declarations = Files.createDirectories(rules.resolve(FactTypes.FOLDER));
        for (Path file : List.of(Path.of("rules/medicaid-community-engagement/ruleset.yaml"), Path.of("rules/medicaid-community-engagement/parameters.yaml"))) {
            Files.copy(file, program.resolve(file.getFileName()));
        }
        try (Stream<Path> files = Files.list(Path.of("rules", FactTypes.FOLDER))) {
            for (Path file : files.toList()) {
                Files.copy(file, declarations.resolve(file.getFileName()));
            }
        }
        Ruleset before = RulesetLoader.loadAll(rules).get(0);
        assertTrue(before.files().containsKey("fact-types/income.monthly.yaml"), before.files().keySet().toString());
        assertEquals(before.sha256(), RulesetLoader.load(Path.of("recorded"), before.files()).sha256(),
                "a recorded version, declarations included, hashes as it did when loaded");

        Path income = declarations.resolve("income.monthly.yaml");
        Files.writeString(income, Files.readString(income).replace("never wages alone", "not wages alone"));
        assertNotEquals(before.sha256(), RulesetLoader.loadAll(rules).get(0).sha256());
    }

    private FactType parse(String name, String text) throws IOException {
        Path file = directory.resolve(name + ".yaml");
        Files.writeString(file, text);
        return FactTypeLoader.parse(file, text);
    }

    private static List<String> errors(FactType type, String data) throws IOException {
        List<FieldError> errors = new ArrayList<>();
        FactData.validate(type, JSON.readTree(data), "/data", TODAY, errors);
        return errors.stream().map(FieldError::pointer).toList();
    }
}
