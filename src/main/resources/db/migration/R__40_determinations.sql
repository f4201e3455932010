-- Determinations: the guards of their fact links and of reruns. Written set-wise (issue 7): one
-- statement per table for a batch of determinations. (Their canonical content is hashed into the
-- ledger by the service: org.eligo.determinations.Determinations, README "The ledger".)
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)
-- On Citus (eligo.database.distribution=citus) these three triggers run in another form, installed
-- after every migrate by db/citus/afterMigrate.sql: the same rules, one statement per beneficiary.
-- A change to a rule here is a change there too.

-- ---------------------------------------------------------------------------------------------------
-- Fact links and reruns

-- A determination's parts (its fact links, determination_fact) are written with it, in the same
-- transaction, and never after, and belong to its beneficiary: each new part's determination must
-- exist, have been written by this transaction, and name the same beneficiary. One anti-join per
-- statement, where a foreign key would make one look-up per row (V4__rulesets_and_determinations.sql).
-- Whether the links are exactly the fact ids of the checks document is the writer's
-- (org.eligo.determinations.Determinations); the ledger holds both as they were written.
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

-- ---------------------------------------------------------------------------------------------------
-- Each beneficiary's latest determination (determination_latest, V11__population_reports.sql)

-- Moves determination_latest forward for the new determinations of a statement: for each ruleset,
-- period and beneficiary, the newest new one becomes the latest unless a newer one is already there,
-- and the one it replaces becomes the previous (the one before it in this statement, if the
-- statement wrote two). Rows are upserted in key order, so that two transactions upserting some of
-- the same keys lock them in the same order and cannot deadlock on them; in practice they do not
-- meet, since every writer of determinations holds their beneficiaries' locks (lock class 17772,
-- org.eligo.facts.Facts). "Latest" is the greatest id, as everywhere in the service (ids are ULIDs
-- minted by the instance that makes the determination, under the beneficiary's lock; instances whose
-- clocks disagree by more than the time between two determinations of one beneficiary could order
-- two of them against their commit order). SECURITY DEFINER: it writes as the schema's owner, and the
-- service role may only read determination_latest (R__90_tables.sql), so no statement of the service
-- can make a report say what the determinations do not.
CREATE OR REPLACE FUNCTION eligo_determination_latest() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- new_rows has the partition's row type; ROW(n.*) makes each row the parent's, column for column.
    PERFORM eligo_determination_latest_of(ARRAY(SELECT ROW(n.*)::determination FROM new_rows n));
    RETURN NULL;
END
$$;

-- The upsert itself, for the given new determinations: the one-node trigger above passes a statement's
-- rows, the Citus form (db/citus/afterMigrate.sql) one beneficiary's at a time. Not SECURITY DEFINER:
-- it writes with the rights of whoever calls it, so called by the service itself it is refused, and
-- only the triggers (running as the schema's owner) can move determination_latest.
CREATE OR REPLACE FUNCTION eligo_determination_latest_of(made determination[]) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO determination_latest AS l (ruleset_id, period, beneficiary_id, determination_id, result, outcomes,
                                           previous_determination_id, previous_result)
    SELECT r.ruleset_id, r.period, r.beneficiary_id, r.id, r.result, r.outcomes, r.previous_id, r.previous_result
      FROM (SELECT n.ruleset_id, n.period, n.beneficiary_id, n.id, n.result, n.outcomes,
                   lead(n.id) OVER w AS previous_id, lead(n.result) OVER w AS previous_result, row_number() OVER w AS newest
              FROM unnest(made) n
            WINDOW w AS (PARTITION BY n.ruleset_id, n.period, n.beneficiary_id ORDER BY n.id DESC)) AS r
     WHERE r.newest = 1
     ORDER BY r.ruleset_id, r.period, r.beneficiary_id
        ON CONFLICT (ruleset_id, period, beneficiary_id) DO UPDATE
       SET determination_id = excluded.determination_id, result = excluded.result, outcomes = excluded.outcomes,
           previous_determination_id = coalesce(excluded.previous_determination_id, l.determination_id),
           previous_result = CASE WHEN excluded.previous_determination_id IS NULL THEN l.result ELSE excluded.previous_result END
     WHERE excluded.determination_id > l.determination_id;
END
$$;
