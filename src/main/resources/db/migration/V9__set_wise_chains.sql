-- Hash chains appended set-wise (issue 7). Same function signatures, same links: a link's hash is
-- still eligo_link_hash(prev, content_hash, kind, record_table, record_id, recorded_at), seq still
-- counts 1, 2, ... per beneficiary in the order given, so IntegrityService verifies old and new
-- links alike. What changes is how much work one append costs:
--
-- * eligo_chain_append no longer loops per record (a SELECT of the head, an INSERT of the link and an
--   upsert of the head for each). One statement reads the heads of all the beneficiaries, folds each
--   chain's link hashes with a running aggregate (a window function over the records of one
--   beneficiary, in input order, starting from its head), inserts every link, and moves each head
--   once. All links appended by one call share one recorded_at (read after the locks, as before),
--   which the link hash covers like any other.
-- * A determination is still chained by its deferred row trigger at commit, but the first such
--   trigger of a transaction chains every determination the transaction names in the
--   eligo.chain_determinations setting (the service sets it after inserting a batch) in one call;
--   the other triggers of the batch find their determination chained already and return.

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

-- The deferred (commit-time) chaining of determinations, a batch per call. The service names the
-- determinations it inserted in the transaction-local setting eligo.chain_determinations (ids,
-- comma-separated); the first trigger to fire chains all of them that this transaction inserted and
-- that are not chained yet, its own first; later triggers find theirs chained and return.
--
-- Why this chains exactly what the one-at-a-time version did: every trigger of the batch fires in
-- the same pass over the deferred events (at commit, or at SET CONSTRAINTS ... IMMEDIATE), with no
-- statement in between, so content read by the first one is the content each would have read
-- itself. The setting is only a hint: an id that is not a determination of this transaction, or is
-- chained already, is ignored, and a determination left out of it is chained by its own trigger.
CREATE OR REPLACE FUNCTION eligo_chain_determination() RETURNS trigger
-- Canonical JSON renders timestamps in the session time zone: pin it, here and in the verifier.
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    batch_ids text[];
    batch_beneficiaries text[];
    contents text[];
BEGIN
    IF EXISTS (SELECT 1 FROM audit_record a WHERE a.record_table = 'determination' AND a.record_id = NEW.id) THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(b.id ORDER BY b.position), array_agg(b.beneficiary_id ORDER BY b.position)
      INTO batch_ids, batch_beneficiaries
      FROM (SELECT NEW.id AS id, NEW.beneficiary_id AS beneficiary_id, 0::bigint AS position
            UNION ALL
            SELECT d.id, d.beneficiary_id, h.position
              FROM (SELECT u.id, min(u.position) AS position
                      FROM unnest(string_to_array(nullif(current_setting('eligo.chain_determinations', true), ''), ',')) WITH ORDINALITY AS u(id, position)
                     GROUP BY u.id) AS h
              JOIN determination d ON d.id = h.id
             WHERE d.id <> NEW.id
               AND d.xmin = pg_current_xact_id()::xid
               AND NOT EXISTS (SELECT 1 FROM audit_record a WHERE a.record_table = 'determination' AND a.record_id = d.id)) AS b;
    SELECT array_agg(eligo_canonical_determination(o.id) ORDER BY o.position) INTO contents
      FROM unnest(batch_ids) WITH ORDINALITY AS o(id, position);
    PERFORM eligo_chain_append(array_fill('determination'::text, ARRAY[cardinality(batch_ids)]),
                               array_fill('determination'::text, ARRAY[cardinality(batch_ids)]),
                               batch_ids, batch_beneficiaries, contents);
    RETURN NULL;
END
$$;
