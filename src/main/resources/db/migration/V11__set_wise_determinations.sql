-- Determinations, hash chains and canonical forms written set-wise (issue 7). After V10 partitioned
-- the tables, a rerun made about 125 determinations a second (1,534 before). Measured per
-- determination: the commit-time chain trigger asked "is this determination chained yet" with a scan
-- of every determination link (the collation mismatch of section 0), the canonical form ran one
-- query per table, and the foreign keys between a determination's parts made one look-up per part
-- row against partitioned parents. The records, links and hashes written stay exactly what they
-- were (compared on 30,000 messages and facts and 2,000 determinations written before it); only the cost
-- of writing them changes:
--
-- 0. Columns holding record ids compare as "C", like the ids V10 made "C", so their indexes serve.
-- 1. The canonical form of determinations is computed for a set of them in one query
--    (eligo_canonical_determinations); the one-determination form is that query for one id, so the
--    two cannot disagree.
-- 2. eligo_chain_append folds each chain's link hashes with a running aggregate and writes all links
--    and heads in one statement: same hashes, same seq, one recorded_at per append.
-- 3. A transaction's determinations are chained by the first of their commit-time triggers, all at
--    once: the statement trigger that sees them inserted names them in a transaction-local setting.
-- 4. The parts' foreign keys (check -> determination, subcheck -> check, fact link -> subcheck) give
--    way to the statement-level guard that already ran on every insert of parts: it now also checks,
--    set-wise, that each part's parent exists and was written by the same transaction. What the
--    foreign keys also guarded, that a parent is not deleted under its parts, the immutability
--    triggers guard already (no update, no delete, no truncate); retention drops a month of every
--    table together, and a determination's parts share its id, so its month.
-- 5. The canonical forms of messages and facts strip top-level nulls without a query per record.

-- ---------------------------------------------------------------------------------------------------
-- 0. Every column holding a record id compares as "C"
-- ---------------------------------------------------------------------------------------------------

-- V10 declared message and determination ids COLLATE "C" (partition bounds compare bytes). A column
-- naming such ids under the database's default collation (audit_record.record_id, a fact's
-- message_id, ...) then compares with them under "C" (a non-default collation beats the default), so
-- its own index, built for the default collation, can no longer serve the comparison: the chain
-- trigger's "is this determination chained yet" became a scan of every determination link (0.2 ms a
-- call, 400 ms for a batch of 2,000), and so did the verifier's joins. Ids are ASCII (a prefix and a
-- Crockford ULID), which every collation orders alike, so the columns change their collation and
-- their indexes are rebuilt; no row changes, and no canonical form (an order by id is the same order).
ALTER TABLE audit_record ALTER COLUMN record_id TYPE text COLLATE "C";
ALTER TABLE fact_income_monthly ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN message_id TYPE text COLLATE "C",
    ALTER COLUMN revoked_by TYPE text COLLATE "C";
ALTER TABLE fact_person_birthdate ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN message_id TYPE text COLLATE "C",
    ALTER COLUMN revoked_by TYPE text COLLATE "C";
ALTER TABLE fact_disability_status ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN message_id TYPE text COLLATE "C",
    ALTER COLUMN revoked_by TYPE text COLLATE "C";
ALTER TABLE determination_subcheck_fact ALTER COLUMN fact_id TYPE text COLLATE "C";
ALTER TABLE rerun_item ALTER COLUMN determination_id TYPE text COLLATE "C",
    ALTER COLUMN previous_determination_id TYPE text COLLATE "C";
ALTER TABLE rerun_determination ALTER COLUMN determination_id TYPE text COLLATE "C";
ALTER TABLE retention_purge ALTER COLUMN ids_from TYPE text COLLATE "C", ALTER COLUMN ids_before TYPE text COLLATE "C";

-- ---------------------------------------------------------------------------------------------------
-- 1. Canonical form, set-wise
-- ---------------------------------------------------------------------------------------------------

-- The canonical content of each named determination that exists: the determination's columns (nulls
-- left out), its checks in order, each with its subchecks in order, each with its fact links
-- ([fact_id, fact_type], by fact id). Exactly what V6's eligo_canonical_determination built one
-- determination at a time, built for all of them with one pass over each table: each table is read
-- by determination id (one month's partition, its primary key) and aggregated bottom-up.
CREATE FUNCTION eligo_canonical_determinations(determination_ids text[]) RETURNS TABLE (id text, content text)
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
        -- jsonb_strip_nulls: the row's columns are all scalars, so it strips what eligo_strip_top_nulls
        -- strips (the top-level nulls), in C rather than in a query per row.
        SELECT d.id, (jsonb_strip_nulls(to_jsonb(d)) || jsonb_build_object('checks', coalesce(c.checks, '[]'::jsonb)))::text
          FROM determination d
          LEFT JOIN c ON c.determination_id = d.id
         WHERE d.id = ANY ($1)
    $sql$ USING determination_ids;
END
$$;

-- One determination's canonical content: the set-wise form for one id, so the two cannot disagree.
CREATE OR REPLACE FUNCTION eligo_canonical_determination(determination_id text) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT c.content FROM eligo_canonical_determinations(ARRAY[determination_id]) AS c
$$;

-- ---------------------------------------------------------------------------------------------------
-- 2. Chain appends, set-wise
-- ---------------------------------------------------------------------------------------------------

-- One step of a chain: the link hash after a record, from the previous link's hash (the state), or
-- from the chain's head for the first record of the call. Equal to eligo_link_hash(prev, content,
-- kind, record_table, record_id, recorded_at) when tail is convert_to of the link's
-- 'kind/record_table/record_id/recorded_at' text (see eligo_chain_append).
CREATE FUNCTION eligo_chain_link_step(state bytea, head bytea, content bytea, tail bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(state, head) || content || tail)
$$;

-- eligo_chain_fold(head, content, tail) OVER (PARTITION BY beneficiary ORDER BY position): each
-- record's link hash. Not strict, so the first step sees the NULL initial state and starts at head.
CREATE AGGREGATE eligo_chain_fold(bytea, bytea, bytea) (
    SFUNC = eligo_chain_link_step,
    STYPE = bytea
);

-- The beneficiaries' advisory locks in one statement rather than a loop of them: still in ascending
-- hash order (the aggregate consumes the sorted subquery in order), so no deadlock; same return.
CREATE OR REPLACE FUNCTION eligo_lock_beneficiaries(beneficiary_ids text[]) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(pg_advisory_xact_lock(17772, l.h))
       FROM (SELECT DISTINCT hashtext(b) AS h FROM unnest(beneficiary_ids) AS b ORDER BY 1) AS l;
    RETURN clock_timestamp();
END
$$;

CREATE OR REPLACE FUNCTION eligo_chain_append(kinds text[], tables text[], ids text[], beneficiaries text[], contents text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    at timestamptz;
    head_seq bigint;
    head_hash bytea;
    content bytea;
    link bytea;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- Appends to one chain never interleave: the beneficiaries' advisory locks come first (sorted,
    -- re-entrant), and the statements below take their snapshots after them (READ COMMITTED, a
    -- volatile function: a new snapshot per statement), so they read the head the previous writer committed.
    PERFORM eligo_lock_beneficiaries(beneficiaries);
    at := clock_timestamp();
    IF cardinality(ids) = 1 THEN
        -- One record (a determination's commit-time trigger, a single message): three small
        -- statements cost less than planning and running the set-wise one.
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h WHERE h.beneficiary_id = beneficiaries[1];
        IF NOT FOUND THEN
            head_seq := 0;
            head_hash := decode(repeat('00', 32), 'hex');
        END IF;
        content := sha256(convert_to(contents[1], 'UTF8'));
        link := eligo_link_hash(head_hash, content, kinds[1], tables[1], ids[1], at);
        INSERT INTO audit_record (beneficiary_id, seq, kind, record_table, record_id, content_hash, prev_hash, hash, recorded_at)
        VALUES (beneficiaries[1], head_seq + 1, kinds[1], tables[1], ids[1], content, head_hash, link, at);
        INSERT INTO audit_head (beneficiary_id, seq, hash) VALUES (beneficiaries[1], head_seq + 1, link)
        ON CONFLICT (beneficiary_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
        RETURN;
    END IF;
    -- EXECUTE: planned for these arrays each time. A cached generic plan guesses 10 rows per array and
    -- keeps whatever it chose while audit_head was small (a scan of all heads per beneficiary).
    EXECUTE $sql$
        WITH input AS (
            SELECT r.position, r.kind, r.record_table, r.record_id, r.beneficiary_id,
                   sha256(convert_to(r.content, 'UTF8')) AS content_hash,
                   -- The text eligo_link_hash appends after prev and content.
                   convert_to(r.kind || '/' || r.record_table || '/' || r.record_id || '/'
                              || to_char($6 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8') AS tail
              FROM unnest($1, $2, $3, $4, $5) WITH ORDINALITY
                   AS r(kind, record_table, record_id, beneficiary_id, content, position)
        ), heads AS (
            -- One index probe per beneficiary (OFFSET 0 keeps the lateral subquery a parameterised index
            -- scan, never a scan of every chain's head).
            SELECT b.beneficiary_id, coalesce(h.seq, 0) AS seq, coalesce(h.hash, decode(repeat('00', 32), 'hex')) AS hash
              FROM (SELECT DISTINCT beneficiary_id FROM input) AS b
              LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_head a WHERE a.beneficiary_id = b.beneficiary_id OFFSET 0) AS h ON true
        ), linked AS (
            SELECT i.beneficiary_id, i.position, i.kind, i.record_table, i.record_id, i.content_hash,
                   hd.seq + row_number() OVER w AS seq,
                   eligo_chain_fold(hd.hash, i.content_hash, i.tail) OVER w AS hash,
                   hd.hash AS head_hash
              FROM input i JOIN heads hd ON hd.beneficiary_id = i.beneficiary_id
            WINDOW w AS (PARTITION BY i.beneficiary_id COLLATE "C" ORDER BY i.position ROWS UNBOUNDED PRECEDING)
        ), records AS (
            INSERT INTO audit_record (beneficiary_id, seq, kind, record_table, record_id, content_hash, prev_hash, hash, recorded_at)
            SELECT l.beneficiary_id, l.seq, l.kind, l.record_table, l.record_id, l.content_hash,
                   coalesce(lag(l.hash) OVER (PARTITION BY l.beneficiary_id COLLATE "C" ORDER BY l.position), l.head_hash), l.hash, $6
              FROM linked l
             ORDER BY l.beneficiary_id COLLATE "C", l.seq
            RETURNING beneficiary_id, seq, hash
        )
        -- One row per beneficiary (its last link), so the upsert touches each head once.
        INSERT INTO audit_head (beneficiary_id, seq, hash)
        SELECT DISTINCT ON (r.beneficiary_id COLLATE "C") r.beneficiary_id, r.seq, r.hash
          FROM records r
         ORDER BY r.beneficiary_id COLLATE "C", r.seq DESC
        ON CONFLICT (beneficiary_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
    $sql$ USING kinds, tables, ids, beneficiaries, contents, at;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- 3. A transaction's determinations chained at commit by one call
-- ---------------------------------------------------------------------------------------------------

-- Every insert into determination names its rows, in the order inserted, in the transaction-local
-- setting eligo.chain_determinations (comma-separated ids). A setting, not a table: it costs no
-- write, and it goes with the transaction (or with a subtransaction rolled back, like the rows).
CREATE FUNCTION eligo_name_determinations_to_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('eligo.chain_determinations',
                       concat_ws(',', nullif(current_setting('eligo.chain_determinations', true), ''),
                                 (SELECT string_agg(n.id, ',') FROM new_rows n)),
                       true);
    RETURN NULL;
END
$$;
CREATE TRIGGER determination_named_to_chain AFTER INSERT ON determination REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_name_determinations_to_chain();

-- A determination is still chained by its deferred row trigger at commit, when its parts exist. The
-- first such trigger of a transaction chains, in one call, its own determination and every other
-- one the setting names that this transaction inserted and that is not chained yet, in the order
-- inserted; the other triggers of the batch find theirs chained and return.
--
-- Why this chains exactly what the one-at-a-time version did: the triggers of the batch fire in one
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
-- 4. Parts: the guard checks their parents; the foreign keys go
-- ---------------------------------------------------------------------------------------------------

-- A determination's parts are written with it, in the same transaction, and never after: each new
-- check's determination, each new subcheck's check and each new fact link's subcheck must exist and
-- have been written by this transaction. One anti-join per statement, where the foreign keys made
-- one look-up per row.
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

-- The foreign keys among the parts (their names were shortened by PostgreSQL, so found by what they join).
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT c.conrelid::regclass AS child, c.conname
                FROM pg_constraint c
               WHERE c.contype = 'f' AND c.conparentid = 0
                 AND c.conrelid::regclass::text IN ('determination_check', 'determination_subcheck', 'determination_subcheck_fact')
                 AND c.confrelid::regclass::text IN ('determination', 'determination_check', 'determination_subcheck') LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.child, fk.conname);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- 5. Canonical forms of messages and facts without a query per row
-- ---------------------------------------------------------------------------------------------------

-- eligo_strip_top_nulls is a query (jsonb_each, then an aggregate) run once per record: half of the
-- canonical form's cost at ingest. jsonb_strip_nulls does the same in C wherever no value is an
-- object or array, since it strips nulls at every depth and eligo_strip_top_nulls only at the top:
-- * a fact's columns are scalars (org.eligo.facts.Field.Kind: integer, bigint, numeric, boolean,
--   date; and text and timestamptz for ids and times), so its form is unchanged;
-- * a message's only non-scalar column is data (jsonb, NOT NULL), whose nested nulls are content and
--   must stay: it is taken out before stripping and put back whole.
-- Same text as before for every record, so links written earlier verify unchanged. A column of
-- another kind added later must be treated like message.data here.
CREATE OR REPLACE FUNCTION eligo_canonical_message(m message) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT (jsonb_strip_nulls(to_jsonb(m) - 'data' - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at')
            || jsonb_build_object('data', m.data))::text
$$;

CREATE OR REPLACE FUNCTION eligo_canonical_fact(fact jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(fact - 'revoked_at' - 'revoked_by')::text
$$;
