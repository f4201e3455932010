-- Hash chains: canonical content, link hashes, chain appends, the chain triggers of messages and
-- facts, and checkpoints. (Determinations are chained at commit: R__40_determinations.sql.)
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)
--
-- Links already written must keep verifying, and the verifier recomputes content and links with these
-- functions: any edit must produce the exact same text and bytes for every record.

-- ---------------------------------------------------------------------------------------------------
-- Canonical content

-- Canonical content: the record's immutable columns as JSON (jsonb orders keys; UTC timestamps:
-- canonical JSON renders timestamps in the session time zone, so it is pinned, here, in the chain
-- triggers and in the verifier). Top-level nulls are dropped, so that a nullable column added later
-- does not change the content of older rows; nulls inside data are content and stay, so
-- {"hours": null} and {} are different contents.
--
-- jsonb_strip_nulls strips nulls at every depth, so it strips exactly the top-level ones wherever no
-- value is an object or array:
-- * a fact's columns are scalars (org.eligo.facts.Field.Kind: integer, bigint, numeric, boolean,
--   date; and text and timestamptz for ids and times), so it applies as is;
-- * a message's only non-scalar column is data (jsonb, NOT NULL), whose nested nulls are content and
--   must stay: it is taken out before stripping and put back whole.
-- A column of another kind added later must be treated like message.data here.
CREATE OR REPLACE FUNCTION eligo_canonical_message(m message) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT (jsonb_strip_nulls(to_jsonb(m) - 'data' - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at')
            || jsonb_build_object('data', m.data))::text
$$;

CREATE OR REPLACE FUNCTION eligo_canonical_fact(fact jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(fact - 'revoked_at' - 'revoked_by')::text
$$;

CREATE OR REPLACE FUNCTION eligo_canonical_revocation(fact jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', fact -> 'id', 'revoked_at', fact -> 'revoked_at', 'revoked_by', fact -> 'revoked_by')::text
$$;

-- ---------------------------------------------------------------------------------------------------
-- Links

-- A link's hash: the previous link's hash, the record's content hash, what and where the record is,
-- and when the link was recorded (so the time a link was made, which verify uses to demand checkpoint
-- coverage, cannot be moved).
CREATE OR REPLACE FUNCTION eligo_link_hash(prev bytea, content bytea, kind text, record_table text, record_id text, recorded_at timestamptz) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || content || convert_to(kind || '/' || record_table || '/' || record_id || '/'
                  || to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8'))
$$;

-- One step of a chain: the link hash after a record, from the previous link's hash (the state), or
-- from the chain's head for the first record of the call. Equal to eligo_link_hash(prev, content,
-- kind, record_table, record_id, recorded_at) when tail is convert_to of the link's
-- 'kind/record_table/record_id/recorded_at' text (see eligo_chain_append).
CREATE OR REPLACE FUNCTION eligo_chain_link_step(state bytea, head bytea, content bytea, tail bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(state, head) || content || tail)
$$;

-- eligo_chain_fold(head, content, tail) OVER (PARTITION BY beneficiary ORDER BY position): each
-- record's link hash. Not strict, so the first step sees the NULL initial state and starts at head.
CREATE OR REPLACE AGGREGATE eligo_chain_fold(bytea, bytea, bytea) (
    SFUNC = eligo_chain_link_step,
    STYPE = bytea
);

-- Appends records to their beneficiaries' chains, in the order given. SECURITY DEFINER: the service
-- role cannot write chain rows itself, nor call this (only the chain triggers, the owner's functions
-- too, may append links). Each chain's link hashes are folded with a running aggregate and all links
-- and heads written in one statement: one recorded_at per append.
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
REVOKE EXECUTE ON FUNCTION eligo_chain_append(text[], text[], text[], text[], text[]) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- The chain triggers of messages and facts: statement-level, with transition tables, so one call per
-- statement however many rows. They run as the owner (SECURITY DEFINER), which may call
-- eligo_chain_append; the service role may not. The triggers: R__90_tables.sql.

CREATE OR REPLACE FUNCTION eligo_chain_messages() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET timezone = 'UTC' SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM eligo_chain_append(array_agg('message'::text ORDER BY n.id), array_agg('message'::text ORDER BY n.id), array_agg(n.id ORDER BY n.id),
                               array_agg(n.beneficiary_id ORDER BY n.id), array_agg(eligo_canonical_message(n) ORDER BY n.id))
      FROM new_rows n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION eligo_chain_facts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET timezone = 'UTC' SET search_path = public, pg_temp AS $$
BEGIN
    -- The fact's creation; and for a fact revoked from birth (processed after a newer message for its
    -- key), its revocation as a record of its own, as for any later revocation.
    PERFORM eligo_chain_append(array_agg(r.kind ORDER BY r.id, r.ord), array_agg(TG_TABLE_NAME::text ORDER BY r.id, r.ord),
                               array_agg(r.id ORDER BY r.id, r.ord), array_agg(r.beneficiary_id ORDER BY r.id, r.ord),
                               array_agg(r.content ORDER BY r.id, r.ord))
      FROM (SELECT n.id, 1 AS ord, 'fact'::text AS kind, n.beneficiary_id, eligo_canonical_fact(to_jsonb(n)) AS content FROM new_rows n
            UNION ALL
            SELECT n.id, 2, 'revocation', n.beneficiary_id, eligo_canonical_revocation(to_jsonb(n)) FROM new_rows n
             WHERE n.revoked_at IS NOT NULL) AS r;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION eligo_chain_revocations() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET timezone = 'UTC' SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM eligo_chain_append(array_agg('revocation'::text ORDER BY n.id), array_agg(TG_TABLE_NAME::text ORDER BY n.id), array_agg(n.id ORDER BY n.id),
                               array_agg(n.beneficiary_id ORDER BY n.id), array_agg(eligo_canonical_revocation(to_jsonb(n)) ORDER BY n.id))
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE o.revoked_at IS NULL AND n.revoked_at IS NOT NULL;
    RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Checkpoints

-- The one way to write a checkpoint. It checks what the service cannot be trusted to get right: the
-- id follows the last one, prev is the last digest, every head is a real link of its chain and
-- moves past what was covered, and the digest is the digest of exactly these heads. Only the
-- signature (made outside the database, with a key it never sees) is taken as given.
CREATE OR REPLACE FUNCTION eligo_audit_checkpoint(checkpoint_id bigint, prev bytea, digest bytea, signature bytea, key_id text,
                                                  beneficiaries text[], seqs bigint[], hashes bytea[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last_id bigint;
    last_digest bytea;
    computed bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(17773, 0);
    SELECT c.id, c.digest INTO last_id, last_digest FROM audit_checkpoint c ORDER BY c.id DESC LIMIT 1;
    IF checkpoint_id <> coalesce(last_id, 0) + 1 OR prev <> coalesce(last_digest, decode(repeat('00', 32), 'hex')) THEN
        RAISE EXCEPTION 'eligo: checkpoint % does not follow checkpoint %', checkpoint_id, last_id;
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(beneficiaries, seqs, hashes) AS h(b, s, x)
                LEFT JOIN audit_record a ON a.beneficiary_id = h.b AND a.seq = h.s
               WHERE a.hash IS DISTINCT FROM h.x
                  OR h.s <= coalesce((SELECT max(c.seq) FROM audit_checkpoint_head c WHERE c.beneficiary_id = h.b), 0)) THEN
        RAISE EXCEPTION 'eligo: checkpoint % names a head that is not a new link of its chain', checkpoint_id;
    END IF;
    SELECT sha256(prev || coalesce(string_agg(convert_to(h.b, 'UTF8') || '\x00'::bytea || int8send(h.s) || h.x, ''::bytea
                                              ORDER BY h.b COLLATE "C"), ''::bytea))
      INTO computed FROM unnest(beneficiaries, seqs, hashes) AS h(b, s, x);
    IF computed <> digest THEN
        RAISE EXCEPTION 'eligo: checkpoint % digest does not match its heads', checkpoint_id;
    END IF;
    INSERT INTO audit_checkpoint (id, prev_digest, digest, heads, signature, key_id)
    VALUES (checkpoint_id, prev, digest, cardinality(beneficiaries), signature, key_id);
    INSERT INTO audit_checkpoint_head (checkpoint_id, beneficiary_id, seq, hash)
    SELECT checkpoint_id, h.b, h.s, h.x FROM unnest(beneficiaries, seqs, hashes) AS h(b, s, x);
END
$$;
-- Checkpoints are written by the service, which signs them with a key the database never sees, only
-- through this function.
REVOKE EXECUTE ON FUNCTION eligo_audit_checkpoint(bigint, bytea, bytea, bytea, text, text[], bigint[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eligo_audit_checkpoint(bigint, bytea, bytea, bytea, text, text[], bigint[], bytea[]) TO eligo_service;
