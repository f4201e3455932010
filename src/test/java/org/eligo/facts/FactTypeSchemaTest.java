package org.eligo.facts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.eligo.testing.ThrowawayDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The migration step's part for fact types, on a database of its own: a declaration is applied with
 * its typed view; once facts of the type exist, gaining an optional field is applied and anything
 * else stops the start; an instance that does not migrate only checks.
 */
class FactTypeSchemaTest {

    private static final String DECLARATION = """
            type: example.volunteering
            description: Hours volunteered in a month.
            reference: Example Act, s. 2
            key: month
            absent: unknown
            fields:
              hours:
                type: number
                required: true
                min: 0
                max: 744
                decimals: 2
            """;

    @TempDir
    Path folder;

    @Test
    void onceFactsExistADeclarationMayOnlyGainOptionalFields() throws Exception {
        try (ThrowawayDatabase database = ThrowawayDatabase.create("facttypes")) {
            assertTrue(database.flyway().load().migrate().success);
            apply(database, DECLARATION, true);
            assertEquals(List.of("id", "beneficiary_id", "message_id", "created_at", "revoked_at", "revoked_by", "replay_id", "withdrawn",
                    "year", "month", "hours"), columns(database));

            // With no facts yet, any change is applied.
            apply(database, DECLARATION.replace("max: 744", "max: 700"), true);
            apply(database, DECLARATION, true);

            database.execute("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES"
                            + " ('msg_01ARZ3NDEKTSV4RRFFQ69G5FAV', 's', 'e', 'example.volunteering', 'B-1', '{}')",
                    "INSERT INTO fact (id, beneficiary_id, message_id, created_at, type, fact_key, data) VALUES ('fact_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'B-1',"
                            + " 'msg_01ARZ3NDEKTSV4RRFFQ69G5FAV', clock_timestamp(), 'example.volunteering', '2027-06', '{\"year\": 2027, \"month\": 6, \"hours\": 12.5}')");

            // Prose may change; a new optional field is applied, and the view shows it.
            apply(database, DECLARATION.replace("Hours volunteered", "The hours volunteered"), true);
            String gained = DECLARATION + "  kind:\n    type: string\n    values: [community, school]\n";
            apply(database, gained, true);
            assertEquals("kind", columns(database).get(11));
            assertEquals(List.of("12.5"), database.strings("SELECT hours::text FROM fact_example_volunteering"));

            // Anything else is refused, naming the file.
            for (String changed : List.of(gained.replace("max: 744", "max: 700"), gained.replace("key: month", "key: person"),
                    gained.replace("absent: unknown", "absent: none"), gained.replace("values: [community, school]", "values: [community]"),
                    DECLARATION + "  note:\n    type: string\n    max_length: 9\n    required: true\n")) {
                IllegalStateException refused = assertThrows(IllegalStateException.class, () -> apply(database, changed, true), changed);
                assertTrue(refused.getMessage().contains("example.volunteering.yaml") && refused.getMessage().contains("facts of the type exist"),
                        refused.getMessage());
            }
            // An older release (without the new field) leaves the newer declaration in place.
            apply(database, DECLARATION, true);
            assertEquals("kind", columns(database).get(11));

            // An instance that does not migrate only checks: applied (or newer) is fine, anything else stops it.
            apply(database, gained, false);
            IllegalStateException unapplied = assertThrows(IllegalStateException.class,
                    () -> apply(database, gained + "  more:\n    type: boolean\n", false));
            assertTrue(unapplied.getMessage().contains("not applied"), unapplied.getMessage());
        }
    }

    private void apply(ThrowawayDatabase database, String declaration, boolean migrates) throws IOException, SQLException {
        Path types = Files.createDirectories(folder.resolve("fact-types"));
        Files.writeString(types.resolve("example.volunteering.yaml"), declaration);
        FactTypeSchema schema = new FactTypeSchema(null, FactTypes.load(types), migrates);
        try (Connection connection = database.connect()) {
            connection.setAutoCommit(false);
            try {
                schema.apply(connection);
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
    }

    private static List<String> columns(ThrowawayDatabase database) {
        return database.strings("SELECT attname FROM pg_attribute WHERE attrelid = 'fact_example_volunteering'::regclass AND attnum > 0 ORDER BY attnum");
    }
}
