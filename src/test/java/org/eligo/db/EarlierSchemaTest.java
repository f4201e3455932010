package org.eligo.db;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.eligo.testing.ThrowawayDatabase;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.junit.jupiter.api.Test;

/**
 * A database made by an earlier build (its schema history holds the eleven migrations this build's
 * baseline replaced) is refused before Flyway touches it, with a message that says what to delete;
 * a new database, and one this build migrated, are not.
 */
class EarlierSchemaTest {

    /** The schema history an earlier build wrote: V1 to V11 as applied, with their real checksums. */
    static final String EARLIER_HISTORY = """
            INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
            VALUES (1, '1', 'messages and facts', 'SQL', 'V1__messages_and_facts.sql', -1162607845, 'postgres', 40, true),
                   (2, '2', 'rulesets and determinations', 'SQL', 'V2__rulesets_and_determinations.sql', -1908160994, 'postgres', 24, true),
                   (3, '3', 'immutability and hash chains', 'SQL', 'V3__immutability_and_hash_chains.sql', 1240161567, 'postgres', 27, true),
                   (4, '4', 'ruleset history and replays', 'SQL', 'V4__ruleset_history_and_replays.sql', -1692231506, 'postgres', 19, true),
                   (5, '5', 'reruns', 'SQL', 'V5__reruns.sql', 696831715, 'postgres', 25, true),
                   (6, '6', 'audit hardening', 'SQL', 'V6__audit_hardening.sql', -1654681812, 'postgres', 18, true),
                   (7, '7', 'traceparent', 'SQL', 'V7__traceparent.sql', 1654714575, 'postgres', 3, true),
                   (8, '8', 'access log', 'SQL', 'V8__access_log.sql', 1471279073, 'postgres', 11, true),
                   (9, '10', 'monthly partitions', 'SQL', 'V10__monthly_partitions.sql', -78573320, 'postgres', 141, true),
                   (10, '11', 'set wise determinations', 'SQL', 'V11__set_wise_determinations.sql', -617212717, 'postgres', 46, true)
            """;

    /** Flyway's schema history table, as Flyway 12 creates it on PostgreSQL. */
    static final String HISTORY_TABLE = """
            CREATE TABLE flyway_schema_history (
                installed_rank integer NOT NULL PRIMARY KEY,
                version        varchar(50),
                description    varchar(200) NOT NULL,
                type           varchar(20) NOT NULL,
                script         varchar(1000) NOT NULL,
                checksum       integer,
                installed_by   varchar(100) NOT NULL,
                installed_on   timestamp NOT NULL DEFAULT now(),
                execution_time integer NOT NULL,
                success        boolean NOT NULL
            )
            """;

    @Test
    void aSchemaMadeByAnEarlierBuildIsRefusedBeforeFlywayMigratesAndTheMessageSaysWhatToDelete() {
        try (ThrowawayDatabase earlier = ThrowawayDatabase.create("earlier")) {
            earlier.execute(HISTORY_TABLE, EARLIER_HISTORY, "CREATE TABLE message (id text PRIMARY KEY)");

            // An external PostgreSQL: drop and recreate the database (or the schema).
            String external = assertThrows(IllegalStateException.class, () -> EarlierSchema.refuse(earlier.flyway(), Optional.empty()))
                    .getMessage();
            assertTrue(external.contains("this database holds a schema made by an earlier build of Eligo"), external);
            assertTrue(external.contains("V1 \"messages and facts\", V2 \"rulesets and determinations\""), external);
            assertTrue(external.contains("drop and recreate the database \"" + earlier.name() + "\" (or its schema \"public\")"), external);

            // The embedded quick start: delete its data directory, named as configured.
            Path dataDirectory = Path.of("data/pg").toAbsolutePath();
            String embedded = assertThrows(IllegalStateException.class,
                    () -> EarlierSchema.refuse(earlier.flyway(), Optional.of(dataDirectory))).getMessage();
            assertTrue(embedded.contains("delete the embedded PostgreSQL's data directory " + dataDirectory + " (eligo.embedded-postgres.data-dir)"),
                    embedded);

            // As Quarkus applies it to the migrations datasource's Flyway, before using it: Flyway never
            // gets to migrate (or to fail its validation with a message that says nothing of what to do).
            FluentConfiguration configuration = earlier.flyway();
            String refused = assertThrows(IllegalStateException.class, () -> {
                new EarlierSchema().customize(configuration);
                configuration.load().migrate();
            }).getMessage();
            assertEquals(external, refused);
            assertEquals(List.of("10"), earlier.strings("SELECT count(*) FROM flyway_schema_history"));
            assertEquals(List.of("0"), earlier.strings("SELECT count(*) FROM pg_class WHERE relname IN ('message_key', 'audit_record')"));
        }
    }

    @Test
    void aNewDatabaseAndOneThisBuildMigratedAreAcceptedButAnEditedMigrationIsNot() {
        try (ThrowawayDatabase database = ThrowawayDatabase.create("current")) {
            assertDoesNotThrow(() -> EarlierSchema.refuse(database.flyway(), Optional.empty()));
            FluentConfiguration configuration = database.flyway();
            new EarlierSchema().customize(configuration);
            assertTrue(configuration.load().migrate().success);
            assertDoesNotThrow(() -> EarlierSchema.refuse(database.flyway(), Optional.empty()));

            // A migration of a later build (this build started again after a rollback): Flyway
            // tolerates it, so does the check.
            database.execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by,"
                    + " execution_time, success) VALUES (1000, '999', 'a later change', 'SQL', 'V999__a_later_change.sql', 1, 'postgres', 1, true)");
            assertDoesNotThrow(() -> EarlierSchema.refuse(database.flyway(), Optional.empty()));

            // An applied migration whose file changed since is not this build's.
            database.execute("UPDATE flyway_schema_history SET checksum = checksum + 1 WHERE version = '2'");
            String refused = assertThrows(IllegalStateException.class, () -> EarlierSchema.refuse(database.flyway(), Optional.empty()))
                    .getMessage();
            assertTrue(refused.contains("V2 \"messages\""), refused);
        }
    }
}
