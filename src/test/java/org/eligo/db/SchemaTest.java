package org.eligo.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.eligo.testing.ThrowawayDatabase;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * The migrations as a whole, on a database of their own: every table is in the one list its
 * triggers and grants are made from (R__90_tables.sql), the service role can never delete or
 * truncate an audit record, and the repeatable migrations can run again without changing anything.
 */
class SchemaTest {

    /** What the schema is made of, as text that two equal schemas render equally. */
    static final String SNAPSHOT = """
            SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL
            SELECT 'function ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '') || ' '
                   || CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END
              FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
            UNION ALL
            SELECT 'table ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, '') FROM pg_class c
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
            UNION ALL
            SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || a.attacl::text FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = current_schema()::regnamespace AND a.attacl IS NOT NULL
            ORDER BY 1
            """;

    @Test
    void everyTableIsInTheListAndTheServiceRoleCanNeverRemoveAnAuditRecord() {
        try (ThrowawayDatabase database = ThrowawayDatabase.create("schema")) {
            assertTrue(database.flyway().load().migrate().success);

            assertEquals(List.of(), database.strings("""
                    SELECT c.relname FROM pg_class c
                     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                    EXCEPT SELECT name FROM eligo_tables()"""), "tables missing from eligo_tables() (R__90_tables.sql)");
            // Each table carries exactly the triggers of its kind; each partition its own TRUNCATE guard.
            assertEquals(List.of(), database.strings("""
                    WITH expected AS (
                        SELECT e.name || '.' || e.name || k.suffix AS t FROM eligo_tables() e JOIN eligo_kind_triggers() k ON k.kind = e.kind
                        UNION ALL
                        SELECT p.relname || '.' || p.relname || '_no_truncate' FROM eligo_partitioned_tables() f
                          JOIN pg_inherits i ON i.inhparent = f.parent::regclass JOIN pg_class p ON p.oid = i.inhrelid
                    ), actual AS (
                        SELECT c.relname || '.' || g.tgname AS t FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                         WHERE NOT g.tgisinternal AND g.tgparentid = 0
                    )
                    (SELECT 'missing ' || t FROM (SELECT t FROM expected EXCEPT ALL SELECT t FROM actual) AS m)
                    UNION ALL
                    (SELECT 'unexpected ' || t FROM (SELECT t FROM actual EXCEPT ALL SELECT t FROM expected) AS u)"""));
            // Row triggers reach every partition from its parent.
            assertEquals(List.of(), database.strings("""
                    SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
                     WHERE i.inhparent = 'message'::regclass
                       AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = p.oid AND g.tgname = 'message_immutable' AND g.tgparentid <> 0)"""));

            // No DELETE but on the determination queue and an import's staged lines (working state, deleted as they are
            // stored), no TRUNCATE, no UPDATE of anything immutable.
            assertEquals(List.of("determination_queue", "import_line"), database.strings("""
                    SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
                       AND (has_table_privilege('eligo_service', c.oid, 'DELETE') OR has_table_privilege('eligo_service', c.oid, 'TRUNCATE'))
                     ORDER BY 1"""));
            assertEquals(List.of("fact", "message"), database.strings("""
                    SELECT c.relname FROM pg_class c WHERE c.relname IN ('message', 'fact', 'determination', 'ledger_entry', 'ledger_block')
                       AND has_any_column_privilege('eligo_service', c.oid, 'UPDATE')
                     ORDER BY 1"""));
            assertEquals(List.of("false"), database.strings("SELECT has_column_privilege('eligo_service', 'message', 'data', 'UPDATE')::text"));
        }
    }

    @Test
    void theRepeatableMigrationsRunAgainWithoutChangingAnythingAndTakeAwayWhatTheListNoLongerAsks() {
        try (ThrowawayDatabase database = ThrowawayDatabase.create("repeat")) {
            assertTrue(database.flyway().load().migrate().success);
            List<String> before = database.strings(SNAPSHOT);

            // What an edit of the list would leave behind: a trigger and a privilege it no longer names.
            database.execute("CREATE TRIGGER rerun_no_delete BEFORE DELETE ON rerun FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change()",
                    "GRANT DELETE ON ledger_entry TO eligo_service");
            // Flyway runs a repeatable migration again when its checksum changed.
            database.execute("UPDATE flyway_schema_history SET checksum = checksum + 1 WHERE version IS NULL");
            MigrateResult again = database.flyway().load().migrate();
            assertTrue(again.success);
            assertEquals(6, again.migrationsExecuted);

            assertEquals(before, database.strings(SNAPSHOT));
        }
    }
}
