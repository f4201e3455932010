-- Determinations: their canonical form, their chaining at commit, and the guards of their fact links
-- and of reruns. Written set-wise (issue 7): one statement per table for a batch of determinations,
-- and each chained with the others of its transaction by one call at commit.
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)

-- ---------------------------------------------------------------------------------------------------
-- Canonical form, set-wise

-- The canonical content of each named determination that exists: the determination's columns (nulls
-- left out; outcomes included, so a report's numbers are covered too), its checks document whole, and
-- the ids of the facts it read as determination_fact holds them (by fact id; a link naming another
-- beneficiary is left out, so moving one changes the content). Built for all of them with one pass
-- over each table, each read by determination id (one month's partition, its primary key). Also what
-- the verifier recomputes (org.eligo.audit.IntegrityService).
CREATE OR REPLACE FUNCTION eligo_canonical_determinations(determination_ids text[]) RETURNS TABLE (id text, content text)
-- Canonical JSON renders timestamps in the session time zone: pinned, here and in the verifier.
-- Every table is read by primary key, never scanned: a month's partition written since its last
-- ANALYZE has no statistics, and the planner, guessing that 100 ids match half of it, would read all
-- of it once per batch (71 ms a batch of 100 at 20,000 determinations, and growing with the month).
LANGUAGE plpgsql STABLE SET timezone = 'UTC' SET enable_seqscan = off AS $$
BEGIN
    -- EXECUTE: planned for the ids given, where a plan kept for any array (a generic plan, or any plan
    -- of a SQL function before PostgreSQL 18) guesses how many.
    RETURN QUERY EXECUTE $sql$
        WITH f AS (
            SELECT f.determination_id, f.beneficiary_id, jsonb_agg(f.fact_id ORDER BY f.fact_id) AS fact_ids
              FROM determination_fact f
             WHERE f.determination_id = ANY ($1)
             GROUP BY 1, 2
        )
        -- As for a message's data (R__30_hash_chains.sql): checks is taken out before jsonb_strip_nulls,
        -- which strips at every depth, and put back whole (a null inside it is content). What stays
        -- is scalars and outcomes, an array of strings, so exactly the top-level nulls are stripped.
        SELECT d.id, (jsonb_strip_nulls(to_jsonb(d) - 'checks')
                      || jsonb_build_object('checks', d.checks, 'fact_ids', coalesce(f.fact_ids, '[]'::jsonb)))::text
          FROM determination d
          LEFT JOIN f ON f.determination_id = d.id AND f.beneficiary_id = d.beneficiary_id
         WHERE d.id = ANY ($1)
    $sql$ USING determination_ids;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- A transaction's determinations chained at commit by one call

-- Every insert into determination names its rows, in the order inserted, in the transaction-local
-- setting eligo.chain_determinations (comma-separated ids). A setting, not a table: it costs no
-- write, and it goes with the transaction (or with a subtransaction rolled back, like the rows).
CREATE OR REPLACE FUNCTION eligo_name_determinations_to_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('eligo.chain_determinations',
                       concat_ws(',', nullif(current_setting('eligo.chain_determinations', true), ''),
                                 (SELECT string_agg(n.id, ',') FROM new_rows n)),
                       true);
    RETURN NULL;
END
$$;

-- A determination is chained by its deferred row trigger at commit, when its fact links exist. The first
-- such trigger of a transaction chains, in one call, its own determination and every other one the
-- setting names that this transaction inserted and that is not chained yet, in the order inserted;
-- the other triggers of the batch find theirs chained and return.
--
-- Why this chains exactly what chaining one at a time would: the triggers of the batch fire in one
-- pass over the deferred events (at commit, or at SET CONSTRAINTS ... IMMEDIATE), with no statement
-- of the transaction in between, so the content the first one reads is the content each would have
-- read itself. The setting is only a hint, and anyone may set it: a named id that is not a
-- determination of this transaction's top level, or is chained already, is ignored, and a
-- determination left out (one inserted in a subtransaction, say) is chained by its own trigger.
CREATE OR REPLACE FUNCTION eligo_chain_determination() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
    named text[];
    batch_ids text[];
    batch_beneficiaries text[];
    contents text[];
BEGIN
    IF EXISTS (SELECT 1 FROM audit_record a WHERE a.record_table = 'determination' AND a.record_id = NEW.id) THEN
        RETURN NULL;
    END IF;
    named := string_to_array(nullif(current_setting('eligo.chain_determinations', true), ''), ',');
    -- Consumed: what it names is chained below, or is chained by its own trigger.
    PERFORM set_config('eligo.chain_determinations', '', true);
    SELECT array_agg(b.id ORDER BY b.position), array_agg(b.beneficiary_id ORDER BY b.position)
      INTO batch_ids, batch_beneficiaries
      FROM (SELECT NEW.id AS id, NEW.beneficiary_id AS beneficiary_id, 0::bigint AS position
            UNION ALL
            SELECT d.id, d.beneficiary_id, h.position
              FROM (SELECT u.id, min(u.position) AS position
                      FROM unnest(named) WITH ORDINALITY AS u(id, position)
                     WHERE u.id <> NEW.id
                     GROUP BY u.id) AS h
              -- One index probe per id (OFFSET 0: never a scan of the month filtered on xmin).
              CROSS JOIN LATERAL (SELECT d.id, d.beneficiary_id, d.xmin FROM determination d WHERE d.id = h.id OFFSET 0) AS d
             WHERE d.xmin = pg_current_xact_id()::xid
               AND NOT EXISTS (SELECT 1 FROM audit_record a WHERE a.record_table = 'determination' AND a.record_id = d.id)) AS b;
    SELECT array_agg(c.content ORDER BY o.position) INTO contents
      FROM unnest(batch_ids) WITH ORDINALITY AS o(id, position)
      JOIN eligo_canonical_determinations(batch_ids) AS c ON c.id = o.id;
    PERFORM eligo_chain_append(array_fill('determination'::text, ARRAY[cardinality(batch_ids)]),
                               array_fill('determination'::text, ARRAY[cardinality(batch_ids)]),
                               batch_ids, batch_beneficiaries, contents);
    RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Fact links and reruns

-- A determination's parts (its fact links, determination_fact) are written with it, in the same
-- transaction, and never after, and belong to its beneficiary: each new part's determination must
-- exist, have been written by this transaction, and name the same beneficiary. One anti-join per
-- statement, where a foreign key would make one look-up per row (V4__rulesets_and_determinations.sql).
-- Whether the links are exactly the fact ids of the checks document is the writer's
-- (org.eligo.determinations.Determinations); the hash chain holds both as they were at commit.
CREATE OR REPLACE FUNCTION eligo_determination_parts_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    orphan text;
BEGIN
    -- Each parent is looked up by its primary key (OFFSET 0 keeps the lookup a parameterised index
    -- probe: the planner, guessing that few rows carry this transaction's xmin, would otherwise scan
    -- the whole month for them), and its xmin and beneficiary compared outside.
    SELECT n.determination_id INTO orphan
      FROM (SELECT DISTINCT determination_id, beneficiary_id FROM new_rows) AS n
      LEFT JOIN LATERAL (SELECT d.xmin, d.beneficiary_id FROM determination d WHERE d.id = n.determination_id OFFSET 0) AS p ON true
     WHERE p.xmin IS DISTINCT FROM pg_current_xact_id()::xid OR p.beneficiary_id IS DISTINCT FROM n.beneficiary_id
     LIMIT 1;
    IF orphan IS NOT NULL THEN
        RAISE EXCEPTION 'eligo: determination %: a part is written with its determination, for its beneficiary, in the transaction that creates it (a determination is complete once committed)', orphan
            USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$;

-- A rerun determines a beneficiary at most once, however it is resumed: each rerun determination is
-- recorded in rerun_determination, whose primary key refuses a second one (V5__reruns.sql).
CREATE OR REPLACE FUNCTION eligo_determination_once_per_rerun() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rerun_determination (rerun_id, beneficiary_id, determination_id)
    SELECT n.rerun_id, n.beneficiary_id, n.id FROM new_rows n WHERE n.rerun_id IS NOT NULL;
    RETURN NULL;
END
$$;
