-- Closing gaps in the audit trail (review of V3/V4). These migrations assume a database created by
-- this release: no release wrote chain records with the earlier canonical forms.

-- Canonical content drops only top-level nulls (a column added later), never nulls inside data,
-- so {"hours": null} and {} are different contents.
CREATE OR REPLACE FUNCTION eligo_strip_top_nulls(value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, v), '{}'::jsonb) FROM jsonb_each(value) AS e(key, v) WHERE v <> 'null'::jsonb
$$;

CREATE OR REPLACE FUNCTION eligo_canonical_message(m message) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT eligo_strip_top_nulls(to_jsonb(m) - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at')::text
$$;

CREATE OR REPLACE FUNCTION eligo_canonical_fact(fact jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT eligo_strip_top_nulls(fact - 'revoked_at' - 'revoked_by')::text
$$;

-- The determination now also covers each linked fact's type.
CREATE OR REPLACE FUNCTION eligo_canonical_determination(determination_id text) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT (eligo_strip_top_nulls(to_jsonb(d)) || jsonb_build_object('checks', coalesce((
        SELECT jsonb_agg(jsonb_build_object('check', to_jsonb(c), 'subchecks', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('subcheck', to_jsonb(s), 'facts', coalesce((
                              SELECT jsonb_agg(jsonb_build_array(f.fact_id, f.fact_type) ORDER BY f.fact_id) FROM determination_subcheck_fact f
                               WHERE f.determination_id = s.determination_id AND f.check_position = s.check_position
                                 AND f.subcheck_position = s.position), '[]'::jsonb)) ORDER BY s.position)
                     FROM determination_subcheck s
                    WHERE s.determination_id = c.determination_id AND s.check_position = c.position), '[]'::jsonb))
                ORDER BY c.position)
          FROM determination_check c WHERE c.determination_id = d.id), '[]'::jsonb)))::text
      FROM determination d WHERE d.id = determination_id
$$;

-- Revocations happen now, after the fact was created, by another fact: not backdated, not self-made.
CREATE OR REPLACE FUNCTION eligo_fact_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'eligo: fact % is already revoked', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.revoked_at IS NULL OR NEW.revoked_by IS NULL
       OR (to_jsonb(NEW) - 'revoked_at' - 'revoked_by') IS DISTINCT FROM (to_jsonb(OLD) - 'revoked_at' - 'revoked_by') THEN
        RAISE EXCEPTION 'eligo: fact % is immutable except for its revocation', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.revoked_by = OLD.id OR NEW.revoked_at < OLD.created_at
       OR NEW.revoked_at > clock_timestamp() OR NEW.revoked_at < clock_timestamp() - interval '10 minutes' THEN
        RAISE EXCEPTION 'eligo: fact % may only be revoked now, by another fact', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

-- New facts are created now (a fact cannot be slipped into the past).
CREATE FUNCTION eligo_fact_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.created_at > clock_timestamp() OR NEW.created_at < clock_timestamp() - interval '10 minutes'
       OR (NEW.revoked_at IS NOT NULL AND NEW.revoked_at <> NEW.created_at) THEN
        RAISE EXCEPTION 'eligo: fact % must be created now (and revoked from birth only at its creation)', NEW.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

-- A determination's parts are written with it, in the same transaction, and never after.
CREATE FUNCTION eligo_determination_part_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM determination d WHERE d.id = NEW.determination_id AND d.xmin = pg_current_xact_id()::xid) THEN
        RAISE EXCEPTION 'eligo: determination % is complete; parts cannot be added to it', NEW.determination_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['fact_income_monthly', 'fact_person_birthdate', 'fact_disability_status'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW EXECUTE FUNCTION eligo_fact_insert_guard()', t || '_created_now', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['determination_check', 'determination_subcheck', 'determination_subcheck_fact'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I FOR EACH ROW EXECUTE FUNCTION eligo_determination_part_guard()', t || '_with_parent', t);
    END LOOP;
END
$$;

-- Chain heads and checkpoints: no deletes, no truncates, and no direct writes by the service role.
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER audit_checkpoint_head_no_truncate BEFORE TRUNCATE ON audit_checkpoint_head FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();
REVOKE UPDATE (checkpointed_seq) ON audit_head FROM eligo_service;
REVOKE INSERT ON audit_checkpoint, audit_checkpoint_head FROM eligo_service;
ALTER TABLE audit_head DROP COLUMN checkpointed_seq;
-- Which key signed a checkpoint (a fingerprint, not the key), so a key can be added or rotated.
ALTER TABLE audit_checkpoint ADD COLUMN key_id text;
CREATE INDEX audit_checkpoint_head_by_chain ON audit_checkpoint_head (beneficiary_id, seq DESC);

-- The one way to write a checkpoint. It checks what the service cannot be trusted to get right: the
-- id follows the last one, prev is the last digest, every head is a real link of its chain and
-- moves past what was covered, and the digest is the digest of exactly these heads. Only the
-- signature (made outside the database, with a key it never sees) is taken as given.
CREATE FUNCTION eligo_audit_checkpoint(checkpoint_id bigint, prev bytea, digest bytea, signature bytea, key_id text,
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

-- A link's hash also covers when it was recorded, so the time a link was made (which verify uses to
-- demand checkpoint coverage) cannot be moved.
CREATE FUNCTION eligo_link_hash(prev bytea, content bytea, kind text, record_table text, record_id text, recorded_at timestamptz) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || content || convert_to(kind || '/' || record_table || '/' || record_id || '/'
                  || to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION eligo_chain_append(kinds text[], tables text[], ids text[], beneficiaries text[], contents text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    i integer;
    head_seq bigint;
    head_hash bytea;
    content bytea;
    link bytea;
    at timestamptz;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM eligo_lock_beneficiaries(beneficiaries);
    FOR i IN 1 .. cardinality(ids) LOOP
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h WHERE h.beneficiary_id = beneficiaries[i];
        IF NOT FOUND THEN
            head_seq := 0;
            head_hash := decode(repeat('00', 32), 'hex');
        END IF;
        at := clock_timestamp();
        content := sha256(convert_to(contents[i], 'UTF8'));
        link := eligo_link_hash(head_hash, content, kinds[i], tables[i], ids[i], at);
        INSERT INTO audit_record (beneficiary_id, seq, kind, record_table, record_id, content_hash, prev_hash, hash, recorded_at)
        VALUES (beneficiaries[i], head_seq + 1, kinds[i], tables[i], ids[i], content, head_hash, link, at);
        INSERT INTO audit_head (beneficiary_id, seq, hash) VALUES (beneficiaries[i], head_seq + 1, link)
        ON CONFLICT (beneficiary_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
    END LOOP;
END
$$;
