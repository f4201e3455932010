-- The Citus mode of the migration step (docs/scaling.md, "Step 3: Citus"). Flyway runs this file
-- after every migrate; it does nothing unless the service is configured with
--
--     eligo.database.distribution=citus        (ELIGO_DATABASE_DISTRIBUTION=citus)
--
-- and then expects a Citus coordinator whose workers are added (citus_add_node) and which is in the
-- metadata itself (citus_set_coordinator_host). The migrations in db/migration build the same schema
-- as on one PostgreSQL; this file then distributes it, once, and on every start puts back what a
-- repeatable migration may have reset. A migration adding a beneficiary-owned table adds it here.
--
-- What goes where, and why:
--
--  * Distributed by beneficiary_id, all co-located with fact (a beneficiary's rows of every one of
--    them live on one worker, so a transaction of one beneficiary runs on one node):
--      fact, determination, determination_fact, determination_latest, rerun_determination.
--    Citus enforces unique keys per shard, so each must include beneficiary_id: fact's already do
--    (the key (id, beneficiary_id); one active fact per key (beneficiary_id, type, fact_key); one fact
--    per message (message_id, beneficiary_id), a message having one beneficiary); determination's key
--    becomes (id, beneficiary_id) and determination_fact's (determination_id, fact_id,
--    beneficiary_id). Ids are ULIDs minted by the service, unique by construction.
--  * Reference tables (a copy on every node, written through the coordinator with two-phase
--    commit), because distributed tables hold foreign keys to them: fact_type, replay,
--    ruleset_version, ruleset_activation.
--  * Left on the coordinator as they are (plain tables of the coordinator):
--    - the work queues, claimed across beneficiaries with FOR UPDATE SKIP LOCKED, which Citus runs
--      on one node only: message, determination_queue, rerun, rerun_item, import, import_line;
--    - beneficiary_facts_changed, upserted by every batch of facts: distributed, Citus routes that
--      upsert (INSERT … SELECT … ON CONFLICT) through the coordinator and concurrent batches waited
--      for each other even for disjoint beneficiaries (a batch of 6,000 messages went at 40 a second);
--    - the idempotency keys, unique across every beneficiary: message_key, message_key_purged;
--    - the ledger, whose sealing order is the coordinator's transaction ids: ledger_entry,
--      ledger_block, ledger_key, ledger_verification; the access log and retention_purge.
--  * One guard cannot run on a worker: fact_from_message (a fact's message must exist) reads message,
--    which lives on the coordinator, from a trigger that runs on the fact's shard. It is dropped here
--    (after every migrate: R__90_tables.sql puts it back whenever it runs). On Citus that rule holds by
--    the service alone, which writes a fact only from a message it claimed in the same transaction; a
--    fact written behind its back is a record the ledger does not hold, which verification names.
-- The determination triggers, in their Citus form (R__40_determinations.sql has the one-node form and
-- the reasons; R__ migrations put that form back whenever they run, and this file, run after them,
-- puts this one back). On Citus a trigger runs on the shard, with that shard's rows as new_rows, and
-- a statement inside it that names another distributed table is planned by Citus and executed apart
-- from the trigger, where new_rows does not exist. So the rows are first copied into an array (a
-- local read), and every statement reads the array and names one beneficiary's rows, so that Citus
-- routes it to the co-located shard on the same node, in the same transaction (a determination, its
-- fact links, its latest row and its rerun row all live on its beneficiary's shards).
CREATE OR REPLACE FUNCTION eligo_citus_determination_parts_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parts determination_fact[];
    b text;
    orphan text;
BEGIN
    SELECT array_agg(n) INTO parts FROM new_rows n;
    FOR b IN SELECT DISTINCT p.beneficiary_id FROM unnest(parts) p LOOP
        SELECT n.determination_id INTO orphan
          FROM (SELECT DISTINCT p.determination_id FROM unnest(parts) p WHERE p.beneficiary_id = b) AS n
          LEFT JOIN determination d ON d.beneficiary_id = b AND d.id = n.determination_id
         WHERE d.xmin IS DISTINCT FROM pg_current_xact_id()::xid
         LIMIT 1;
        IF orphan IS NOT NULL THEN
            RAISE EXCEPTION 'eligo: determination %: a part is written with its determination, for its beneficiary, in the transaction that creates it (a determination is complete once committed)', orphan
                USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION eligo_citus_determination_once_per_rerun() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    made determination[];
    b text;
BEGIN
    SELECT array_agg(n) INTO made FROM new_rows n WHERE n.rerun_id IS NOT NULL;
    FOR b IN SELECT DISTINCT m.beneficiary_id FROM unnest(made) m LOOP
        INSERT INTO rerun_determination (rerun_id, beneficiary_id, determination_id)
        SELECT m.rerun_id, m.beneficiary_id, m.id FROM unnest(made) m WHERE m.beneficiary_id = b;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION eligo_citus_determination_latest() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    made determination[];
    b text;
BEGIN
    SELECT array_agg(n) INTO made FROM new_rows n;
    FOR b IN SELECT DISTINCT m.beneficiary_id FROM unnest(made) m ORDER BY 1 LOOP
        PERFORM eligo_determination_latest_of(ARRAY(SELECT m FROM unnest(made) m WHERE m.beneficiary_id = b));
    END LOOP;
    RETURN NULL;
END
$$;

DO $citus$
DECLARE
    t record;
BEGIN
    IF '${distribution}' <> 'citus' THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'eligo: eligo.database.distribution is citus, and this database has no citus extension'
            USING HINT = 'On one PostgreSQL, leave eligo.database.distribution at none.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0) THEN
        RAISE EXCEPTION 'eligo: this Citus coordinator has no worker nodes (citus_add_node)';
    END IF;

    -- Citus reaches the workers as the current role, which for the service is eligo_service after
    -- its SET ROLE. That role cannot log in (the pool logs in as another role and switches); on the
    -- workers it must, and only there (their pg_hba.conf, or pg_dist_authinfo, says how it
    -- authenticates). Not propagated, so the coordinator's role stays as it is. Every start: a node
    -- added since gets it too.
    PERFORM run_command_on_workers($$SET citus.enable_ddl_propagation TO off; ALTER ROLE eligo_service LOGIN$$);

    -- Once: the distribution. (Citus copies each table's grants to its shards.)
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'fact'::regclass) THEN
        -- DDL and distribution in one transaction: one connection per worker, one step after the other.
        SET LOCAL citus.multi_shard_modify_mode = 'sequential';
        SET LOCAL client_min_messages = warning;

        -- Foreign keys to the future reference tables are dropped and made again once both sides are
        -- in place (Citus would otherwise pull their referencing tables onto the coordinator first).
        ALTER TABLE determination DROP CONSTRAINT determination_ruleset_id_ruleset_sha256_fkey;
        ALTER TABLE fact DROP CONSTRAINT fact_type_fkey;
        ALTER TABLE fact DROP CONSTRAINT fact_replay_id_fkey;
        ALTER TABLE ruleset_activation DROP CONSTRAINT ruleset_activation_ruleset_id_sha256_fkey;

        PERFORM create_reference_table('fact_type');
        PERFORM create_reference_table('replay');
        PERFORM create_reference_table('ruleset_version');
        PERFORM create_reference_table('ruleset_activation');

        ALTER TABLE determination DROP CONSTRAINT determination_pkey;
        ALTER TABLE determination ADD PRIMARY KEY (id, beneficiary_id);
        ALTER TABLE determination_fact DROP CONSTRAINT determination_fact_pkey;
        ALTER TABLE determination_fact ADD PRIMARY KEY (determination_id, fact_id, beneficiary_id);

        PERFORM create_distributed_table('fact', 'beneficiary_id');
        PERFORM create_distributed_table('determination', 'beneficiary_id', colocate_with => 'fact');
        PERFORM create_distributed_table('determination_fact', 'beneficiary_id', colocate_with => 'fact');
        PERFORM create_distributed_table('determination_latest', 'beneficiary_id', colocate_with => 'fact');
        PERFORM create_distributed_table('rerun_determination', 'beneficiary_id', colocate_with => 'fact');

        ALTER TABLE fact ADD CONSTRAINT fact_type_fkey FOREIGN KEY (type) REFERENCES fact_type (name);
        ALTER TABLE fact ADD CONSTRAINT fact_replay_id_fkey FOREIGN KEY (replay_id) REFERENCES replay (id) DEFERRABLE INITIALLY DEFERRED;
        ALTER TABLE determination ADD CONSTRAINT determination_ruleset_id_ruleset_sha256_fkey
            FOREIGN KEY (ruleset_id, ruleset_sha256) REFERENCES ruleset_version (ruleset_id, sha256);
        ALTER TABLE ruleset_activation ADD CONSTRAINT ruleset_activation_ruleset_id_sha256_fkey
            FOREIGN KEY (ruleset_id, sha256) REFERENCES ruleset_version (ruleset_id, sha256);
    END IF;

    -- The upsert of determination_latest (R__40_determinations.sql), which the Citus form of its
    -- trigger calls on the workers: Citus copies a function to them only when a distributed object
    -- depends on it, and this one is named only in a function body. Once; Citus then carries each
    -- CREATE OR REPLACE of it to the workers.
    IF NOT EXISTS (SELECT 1 FROM pg_dist_object WHERE classid = 'pg_proc'::regclass
                                                  AND objid = 'eligo_determination_latest_of(determination[])'::regprocedure) THEN
        PERFORM create_distributed_function('eligo_determination_latest_of(determination[])');
    END IF;

    -- Every start, after R__90_tables.sql may have made them again: the guard that cannot run on a
    -- worker goes, and the determination triggers call their Citus form (above).
    EXECUTE 'DROP TRIGGER IF EXISTS fact_from_message ON fact';
    FOR t IN SELECT g.tgname, g.tgrelid::regclass AS rel, f.proname
               FROM pg_trigger g JOIN pg_proc f ON f.oid = g.tgfoid
              WHERE g.tgparentid = 0 AND NOT g.tgisinternal
                AND f.proname IN ('eligo_determination_parts_guard', 'eligo_determination_once_per_rerun', 'eligo_determination_latest') LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       t.tgname, t.rel, replace(t.proname, 'eligo_', 'eligo_citus_'));
    END LOOP;
END
$citus$;
