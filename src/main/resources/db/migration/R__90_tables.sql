-- Every table of the schema and its traits: the one list from which each table's triggers and the
-- service role's privileges are made. A new table: create it in a new versioned migration and add its
-- row to eligo_tables() here; this file then runs again, after the migration, and makes its triggers
-- and grants. A table's row is the whole truth about them: a trigger or privilege its row no longer
-- asks for is removed.
--
-- (Repeatable: runs again whenever this file changes, and only then; every statement is idempotent.
-- The trigger functions live in the files before this one; CREATE OR REPLACE there keeps the
-- triggers made here. A change elsewhere that drops a trigger function must change this file too.)

-- ---------------------------------------------------------------------------------------------------
-- The list

-- kind: what may happen to a row once written, which decides the table's triggers
-- (eligo_kind_triggers() below):
--   record              written once: never updated, deleted or truncated
--   message             content immutable, processing state moves, never deleted; owns its
--                       idempotency key; wakes the workers
--   fact                revoked once (by a newer fact of its key, or a replay's of its message) and
--                       otherwise never changed, never deleted; created now, from a stored message
--   determination       a record; at most once per rerun
--   determination part  a record, written with its determination in the same transaction, for its
--                       beneficiary (its fact links)
--   mutable             working state (queues, progress, indexes kept by the service): no guards
-- partitioned: monthly partitions (R__50_partitions.sql), families in creation order (retention drops
--   in reverse), their ids' prefix and the partition key column; NULL: not partitioned. A family with
--   no prefix is keyed by a time (its months are ranges of instants), not by its ids.
-- eligo_service may: the privileges of the role the service works as (UPDATE (columns): only those
--   columns); NULL: none. Partitions get none: the service works on the parents only, so a partition
--   cannot be written around the parent's statement triggers (key ownership, fact links).
-- (A change of the function's columns needs a DROP FUNCTION eligo_tables() before it.)
CREATE OR REPLACE FUNCTION eligo_tables()
RETURNS TABLE (name text, kind text, partition_order integer, id_prefix text, partition_key text, service_may text)
LANGUAGE sql IMMUTABLE AS $$
    VALUES
    -- table                        kind                  partitioned                      eligo_service may
    ('message',                     'message',            1,    'msg_', 'id',               'SELECT, INSERT, UPDATE (status, attempts, last_error, next_attempt_at, processed_at)'),
    -- Idempotency keys outlive their messages: retention never frees one (V14__purged_message_keys.sql).
    ('message_key',                 'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('message_key_purged',          'record',             NULL, NULL,   NULL,               'SELECT'),
    ('replay',                      'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    -- Written by the migration step only (org.eligo.facts.FactTypeSchema), as the owner.
    ('fact_type',                   'mutable',            NULL, NULL,   NULL,               'SELECT'),
    ('fact',                        'fact',               NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE (revoked_at, revoked_by)'),
    ('ruleset_version',             'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('ruleset_activation',          'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('determination',               'determination',      2,    'det_', 'id',               'SELECT, INSERT'),
    ('determination_fact',          'determination part', 3,    'det_', 'determination_id', 'SELECT, INSERT'),
    ('determination_queue',         'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE, DELETE'),
    ('rerun',                       'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE'),
    ('rerun_item',                  'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE'),
    ('rerun_determination',         'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('beneficiary_facts_changed',   'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE'),
    -- Each beneficiary's latest determination per period and ruleset, kept by a trigger on determination (V11__population_reports.sql).
    ('determination_latest',        'mutable',            NULL, NULL,   NULL,               'SELECT'),
    ('retention_purge',             'record',             NULL, NULL,   NULL,               'SELECT'),
    -- Partitioned by the month of `at` (V13__access_log_partitions.sql), with a retention of its own.
    ('access_log',                  'record',             4,    NULL,   'at',               'SELECT, INSERT'),
    -- The ledger (V8__ledger.sql): entries written with each write transaction, blocks and keys by the sealer.
    ('ledger_entry',                'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('ledger_block',                'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('ledger_key',                  'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    ('ledger_verification',         'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE'),
    -- Bulk imports (V10__imports.sql): staged lines deleted as they are stored; the report kept.
    ('import',                      'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, UPDATE'),
    ('import_line',                 'mutable',            NULL, NULL,   NULL,               'SELECT, INSERT, DELETE'),
    ('import_rejection',            'record',             NULL, NULL,   NULL,               'SELECT, INSERT'),
    -- Flyway's own. Read with the pool's login where pods do not migrate (readiness, validation).
    ('flyway_schema_history',       'mutable',            NULL, NULL,   NULL,               'SELECT')
$$;

-- The partitioned families, parents before children (creation order; retention drops in reverse).
CREATE OR REPLACE FUNCTION eligo_partitioned_tables() RETURNS TABLE (ord integer, parent text, prefix text, key text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT t.partition_order, t.name, t.id_prefix, t.partition_key FROM eligo_tables() t WHERE t.partition_order IS NOT NULL
$$;

-- The triggers each kind of table carries, each named <table><suffix>. definition: the statement
-- after CREATE [OR REPLACE], with %I for the trigger's name, then the table's. on_partitions: also made
-- on every partition of a partitioned table (row triggers are inherited from the parent; a TRUNCATE
-- trigger is not, and a partition can be truncated on its own). Same-event triggers fire in name order.
CREATE OR REPLACE FUNCTION eligo_kind_triggers() RETURNS TABLE (kind text, suffix text, definition text, on_partitions boolean)
LANGUAGE sql IMMUTABLE AS $$
    SELECT k.kind, t.suffix, t.definition, t.on_partitions
      FROM (VALUES
        -- What a record may become (R__20_guards.sql)
        ('{record,determination,determination part}', '_immutable',
         'TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change()', false),
        ('{message}', '_immutable',
         'TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_message_update_guard()', false),
        ('{fact}', '_immutable',
         'TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_fact_update_guard()', false),
        ('{message,fact}', '_no_delete',
         'TRIGGER %I BEFORE DELETE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change()', false),
        ('{record,determination,determination part,message,fact}', '_no_truncate',
         'TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()', true),
        ('{fact}', '_created_now',
         'TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW EXECUTE FUNCTION eligo_fact_insert_guard()', false),
        -- At commit, when the revoking fact exists (it is inserted after the fact it revokes).
        ('{fact}', '_revoked_rightly',
         'CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE ON %I DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.revoked_by IS NOT NULL) EXECUTE FUNCTION eligo_fact_revocation_guard()', false),
        -- What partitioned tables cannot hold themselves (R__20_guards.sql, R__40_determinations.sql)
        ('{message}', '_owns_key',
         'TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_message_owns_key()', false),
        ('{fact}', '_from_message',
         'TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_fact_message_exists()', false),
        ('{determination part}', '_with_parent',
         'TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_determination_parts_guard()', false),
        ('{determination}', '_once_per_rerun',
         'TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_determination_once_per_rerun()', false),
        ('{determination}', '_latest',
         'TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_determination_latest()', false),
        -- Waking the workers (R__10_coordination.sql)
        ('{message}', '_received',
         'TRIGGER %I AFTER INSERT ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_notify_message_received()', false)
      ) AS t (kinds, suffix, definition, on_partitions)
      CROSS JOIN LATERAL unnest(t.kinds::text[]) AS k (kind)
$$;

-- ---------------------------------------------------------------------------------------------------
-- What follows from the list

DO $$
DECLARE
    t record;
    made text[] := '{}';
BEGIN
    FOR t IN SELECT e.name, e.kind FROM eligo_tables() e
              WHERE to_regclass(e.name) IS NULL OR (e.kind <> 'mutable' AND e.kind NOT IN (SELECT k.kind FROM eligo_kind_triggers() k)) LOOP
        RAISE EXCEPTION 'eligo_tables(): % is not a table, or % not a kind of table', t.name, t.kind;
    END LOOP;
    FOR t IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                AND c.relname NOT IN (SELECT e.name FROM eligo_tables() e) LOOP
        RAISE WARNING 'eligo: table % is not in eligo_tables() (R__90_tables.sql): it has no triggers and no grants', t.relname;
    END LOOP;

    -- Each table's triggers, and every partition's own.
    FOR t IN SELECT e.name AS table_name, e.name || k.suffix AS trigger_name, k.definition
               FROM eligo_tables() e JOIN eligo_kind_triggers() k ON k.kind = e.kind
             UNION ALL
             SELECT p.relname::text, p.relname || k.suffix, k.definition
               FROM eligo_tables() e JOIN eligo_kind_triggers() k ON k.kind = e.kind AND k.on_partitions
               JOIN pg_inherits i ON i.inhparent = to_regclass(e.name)
               JOIN pg_class p ON p.oid = i.inhrelid
              WHERE e.partition_order IS NOT NULL
             ORDER BY 1, 2 LOOP
        IF t.definition LIKE 'CONSTRAINT %' THEN
            -- A constraint trigger cannot be replaced in place.
            IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = to_regclass(t.table_name) AND g.tgname = t.trigger_name) THEN
                EXECUTE format('DROP TRIGGER %I ON %I', t.trigger_name, t.table_name);
            END IF;
            EXECUTE 'CREATE ' || format(t.definition, t.trigger_name, t.table_name);
        ELSE
            EXECUTE 'CREATE OR REPLACE ' || format(t.definition, t.trigger_name, t.table_name);
        END IF;
        made := made || (t.table_name || '.' || t.trigger_name);
    END LOOP;

    -- Triggers of ours that no table's row asks for any more. (A partition's copies of its parent's
    -- row triggers go with the parent's.)
    FOR t IN SELECT c.relname AS table_name, g.tgname AS trigger_name
               FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc f ON f.oid = g.tgfoid
              WHERE c.relnamespace = current_schema()::regnamespace AND NOT g.tgisinternal AND g.tgparentid = 0
                AND f.proname LIKE 'eligo\_%' AND NOT (c.relname || '.' || g.tgname) = ANY (made) LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t.trigger_name, t.table_name);
    END LOOP;

    -- The service role's privileges: exactly what each row says (revoked first, so that a privilege
    -- taken off the list goes; in one transaction, so the service never sees the gap).
    FOR t IN SELECT e.name, e.service_may FROM eligo_tables() e LOOP
        EXECUTE format('REVOKE ALL ON %I FROM eligo_service', t.name);
        IF t.service_may IS NOT NULL THEN
            EXECUTE format('GRANT %s ON %I TO eligo_service', t.service_may, t.name);
        END IF;
    END LOOP;
END
$$;

-- The months ahead exist from the start (the service keeps them ahead: org.eligo.partitions.Partitions).
DO $$
BEGIN
    PERFORM eligo_create_partitions(3);
END
$$;

-- Each beneficiary's latest determination (determination_latest, V11__population_reports.sql): the
-- trigger made above keeps it from now on; this catches up with every determination stored before
-- (V11 made the table empty; this file's next runs find it filled and read no determination). In the
-- transaction that made the trigger, whose lock on determination holds writers back until it
-- commits: none is missed in between. An upsert that only moves a row forward, so that a run on a
-- table filled meanwhile would change nothing either.
INSERT INTO determination_latest AS l (ruleset_id, period, beneficiary_id, determination_id, result, outcomes,
                                       previous_determination_id, previous_result)
SELECT r.ruleset_id, r.period, r.beneficiary_id, r.id, r.result, r.outcomes, r.previous_id, r.previous_result
  FROM (SELECT d.ruleset_id, d.period, d.beneficiary_id, d.id, d.result, d.outcomes,
               lead(d.id) OVER w AS previous_id, lead(d.result) OVER w AS previous_result, row_number() OVER w AS newest
          FROM determination d
        WINDOW w AS (PARTITION BY d.ruleset_id, d.period, d.beneficiary_id ORDER BY d.id DESC)) AS r
 WHERE r.newest = 1 AND NOT EXISTS (SELECT 1 FROM determination_latest)
    ON CONFLICT (ruleset_id, period, beneficiary_id) DO UPDATE
   SET determination_id = excluded.determination_id, result = excluded.result, outcomes = excluded.outcomes,
       previous_determination_id = excluded.previous_determination_id, previous_result = excluded.previous_result
 WHERE excluded.determination_id > l.determination_id;
