-- Determinations: their canonical form, their chaining at commit, and the guards of their parts and
-- of reruns. Written set-wise (issue 7): the records, links and hashes are exactly what a
-- determination-at-a-time version wrote (compared on 30,000 messages and facts and 2,000
-- determinations); only the cost of writing them differs.
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)

-- ---------------------------------------------------------------------------------------------------
-- Canonical form, set-wise

-- The canonical content of each named determination that exists: the determination's columns (nulls
-- left out), its checks in order, each with its subchecks in order, each with its fact links
-- ([fact_id, fact_type], by fact id). Built for all of them with one pass over each table: each
-- table is read by determination id (one month's partition, its primary key) and aggregated bottom-up.
-- Also what the verifier recomputes (org.eligo.audit.IntegrityService).
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
            SELECT f.determination_id, f.check_position, f.subcheck_position,
                   jsonb_agg(jsonb_build_array(f.fact_id, f.fact_type) ORDER BY f.fact_id) AS facts
              FROM determination_subcheck_fact f
             WHERE f.determination_id = ANY ($1)
             GROUP BY 1, 2, 3
        ), s AS (
            SELECT s.determination_id, s.check_position,
                   jsonb_agg(jsonb_build_object('subcheck', to_jsonb(s), 'facts', coalesce(f.facts, '[]'::jsonb)) ORDER BY s.position) AS subchecks
              FROM determination_subcheck s
              LEFT JOIN f ON f.determination_id = s.determination_id AND f.check_position = s.check_position
                         AND f.subcheck_position = s.position
             WHERE s.determination_id = ANY ($1)
             GROUP BY 1, 2
        ), c AS (
            SELECT c.determination_id,
                   jsonb_agg(jsonb_build_object('check', to_jsonb(c), 'subchecks', coalesce(s.subchecks, '[]'::jsonb)) ORDER BY c.position) AS checks
              FROM determination_check c
              LEFT JOIN s ON s.determination_id = c.determination_id AND s.check_position = c.position
             WHERE c.determination_id = ANY ($1)
             GROUP BY 1
        )
        -- jsonb_strip_nulls: the row's columns are all scalars, so it strips exactly the top-level
        -- nulls (see the canonical forms in R__30_hash_chains.sql).
        SELECT d.id, (jsonb_strip_nulls(to_jsonb(d)) || jsonb_build_object('checks', coalesce(c.checks, '[]'::jsonb)))::text
          FROM determination d
          LEFT JOIN c ON c.determination_id = d.id
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

-- A determination is chained by its deferred row trigger at commit, when its parts exist. The first
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
-- Parts and reruns

-- A determination's parts are written with it, in the same transaction, and never after: each new
-- check's determination, each new subcheck's check and each new fact link's subcheck must exist and
-- have been written by this transaction. One anti-join per statement, where foreign keys would make
-- one look-up per row (V4__rulesets_and_determinations.sql).
CREATE OR REPLACE FUNCTION eligo_determination_parts_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    orphan text;
BEGIN
    -- Each parent is looked up by its primary key (OFFSET 0 keeps the lookup a parameterised index
    -- probe: the planner, guessing that few rows carry this transaction's xmin, would otherwise scan
    -- the whole month for them), and its xmin compared outside.
    IF TG_TABLE_NAME = 'determination_check' THEN
        SELECT n.determination_id INTO orphan
          FROM (SELECT DISTINCT determination_id FROM new_rows) AS n
          LEFT JOIN LATERAL (SELECT d.xmin FROM determination d WHERE d.id = n.determination_id OFFSET 0) AS p ON true
         WHERE p.xmin IS DISTINCT FROM pg_current_xact_id()::xid
         LIMIT 1;
    ELSIF TG_TABLE_NAME = 'determination_subcheck' THEN
        SELECT n.determination_id INTO orphan
          FROM (SELECT DISTINCT determination_id, check_position FROM new_rows) AS n
          LEFT JOIN LATERAL (SELECT c.xmin FROM determination_check c
                              WHERE c.determination_id = n.determination_id AND c.position = n.check_position OFFSET 0) AS p ON true
         WHERE p.xmin IS DISTINCT FROM pg_current_xact_id()::xid
         LIMIT 1;
    ELSE
        SELECT n.determination_id INTO orphan
          FROM (SELECT DISTINCT determination_id, check_position, subcheck_position FROM new_rows) AS n
          LEFT JOIN LATERAL (SELECT s.xmin FROM determination_subcheck s
                              WHERE s.determination_id = n.determination_id AND s.check_position = n.check_position
                                AND s.position = n.subcheck_position OFFSET 0) AS p ON true
         WHERE p.xmin IS DISTINCT FROM pg_current_xact_id()::xid
         LIMIT 1;
    END IF;
    IF orphan IS NOT NULL THEN
        RAISE EXCEPTION 'eligo: determination %: a part is written with its parent, in the transaction that creates the determination (a determination is complete once committed)', orphan
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
