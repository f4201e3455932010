-- The audit trail, enforced by PostgreSQL rather than promised by the code.
--
-- 1. Immutability: triggers refuse UPDATE of message content, of facts (except the one revocation,
--    NULL -> value, once), of determinations and their parts, of ruleset versions and chain records;
--    DELETE and TRUNCATE of all of them.
-- 2. A restricted role, eligo_service, that the service's connections switch to (SET ROLE): it may
--    read and insert, update only the columns that legitimately move, and never delete or truncate.
--    Migrations run as the connecting user, the owner.
-- 3. Hash chains: every stored record (message, fact, revocation, determination) is appended to its
--    beneficiary's chain; each link's hash covers the record's canonical content and the previous
--    link's hash. One chain per beneficiary, so writers of different beneficiaries never wait for
--    each other; writers of one beneficiary are already serialised by its advisory lock.

-- ---------------------------------------------------------------------------------------------------
-- Immutability

CREATE FUNCTION eligo_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'eligo: % on % is not allowed: audit records are immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Messages: only the processing state may move.
CREATE FUNCTION eligo_message_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at')
       IS DISTINCT FROM
       (to_jsonb(OLD) - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at') THEN
        RAISE EXCEPTION 'eligo: the content of message % is immutable', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

-- Facts: the only change is the revocation, once: revoked_at and revoked_by from NULL to values.
CREATE FUNCTION eligo_fact_update_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'eligo: fact % is already revoked', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.revoked_at IS NULL OR NEW.revoked_by IS NULL
       OR (to_jsonb(NEW) - 'revoked_at' - 'revoked_by') IS DISTINCT FROM (to_jsonb(OLD) - 'revoked_at' - 'revoked_by') THEN
        RAISE EXCEPTION 'eligo: fact % is immutable except for its revocation', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER message_immutable BEFORE UPDATE ON message FOR EACH ROW EXECUTE FUNCTION eligo_message_update_guard();
CREATE TRIGGER message_no_delete BEFORE DELETE ON message FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER message_no_truncate BEFORE TRUNCATE ON message FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['fact_income_monthly', 'fact_person_birthdate', 'fact_disability_status'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_fact_update_guard()', t || '_immutable', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE DELETE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change()', t || '_no_delete', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()', t || '_no_truncate', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['determination', 'determination_check', 'determination_subcheck', 'determination_subcheck_fact', 'ruleset_version'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change()', t || '_immutable', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()', t || '_no_truncate', t);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Hash chains

CREATE TABLE audit_record (
    beneficiary_id text        NOT NULL,
    seq            bigint      NOT NULL CHECK (seq >= 1),
    kind           text        NOT NULL CHECK (kind IN ('message', 'fact', 'revocation', 'determination')),
    record_table   text        NOT NULL,
    record_id      text        NOT NULL,
    content_hash   bytea       NOT NULL,
    prev_hash      bytea       NOT NULL,
    hash           bytea       NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (beneficiary_id, seq)
);
CREATE INDEX audit_record_by_record ON audit_record (record_table, record_id);

-- The last link of each chain; a cache the verifier checks against the chain, not a source of truth.
CREATE TABLE audit_head (
    beneficiary_id   text   PRIMARY KEY,
    seq              bigint NOT NULL,
    hash             bytea  NOT NULL,
    -- The seq up to which a signed checkpoint covers this chain.
    checkpointed_seq bigint NOT NULL DEFAULT 0
);

-- Periodic checkpoints: a digest of the heads that moved since the previous checkpoint, chained to
-- it and signed with a key the database does not hold (see README "Audit trail").
CREATE TABLE audit_checkpoint (
    id          bigint      PRIMARY KEY,
    taken_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    prev_digest bytea       NOT NULL,
    digest      bytea       NOT NULL,
    heads       integer     NOT NULL,
    signature   bytea
);
CREATE TABLE audit_checkpoint_head (
    checkpoint_id  bigint NOT NULL REFERENCES audit_checkpoint (id),
    beneficiary_id text   NOT NULL,
    seq            bigint NOT NULL,
    hash           bytea  NOT NULL,
    PRIMARY KEY (checkpoint_id, beneficiary_id)
);

CREATE TRIGGER audit_record_immutable BEFORE UPDATE OR DELETE ON audit_record FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER audit_checkpoint_immutable BEFORE UPDATE OR DELETE ON audit_checkpoint FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER audit_checkpoint_head_immutable BEFORE UPDATE OR DELETE ON audit_checkpoint_head FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();

-- Canonical content: the record's immutable columns as JSON (jsonb orders keys; UTC timestamps;
-- nulls dropped so that a nullable column added later does not change the content of older rows).
CREATE FUNCTION eligo_canonical_message(m message) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT jsonb_strip_nulls(to_jsonb(m) - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at')::text
$$;

CREATE FUNCTION eligo_canonical_fact(fact jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(fact - 'revoked_at' - 'revoked_by')::text
$$;

CREATE FUNCTION eligo_canonical_revocation(fact jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', fact -> 'id', 'revoked_at', fact -> 'revoked_at', 'revoked_by', fact -> 'revoked_by')::text
$$;

CREATE FUNCTION eligo_canonical_determination(determination_id text) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT (jsonb_strip_nulls(to_jsonb(d)) || jsonb_build_object('checks', coalesce((
        SELECT jsonb_agg(jsonb_build_object('check', to_jsonb(c), 'subchecks', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('subcheck', to_jsonb(s), 'facts', coalesce((
                              SELECT jsonb_agg(f.fact_id ORDER BY f.fact_id) FROM determination_subcheck_fact f
                               WHERE f.determination_id = s.determination_id AND f.check_position = s.check_position
                                 AND f.subcheck_position = s.position), '[]'::jsonb)) ORDER BY s.position)
                     FROM determination_subcheck s
                    WHERE s.determination_id = c.determination_id AND s.check_position = c.position), '[]'::jsonb))
                ORDER BY c.position)
          FROM determination_check c WHERE c.determination_id = d.id), '[]'::jsonb)))::text
      FROM determination d WHERE d.id = determination_id
$$;

CREATE FUNCTION eligo_link_hash(prev bytea, content bytea, kind text, record_table text, record_id text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(prev || content || convert_to(kind || '/' || record_table || '/' || record_id, 'UTF8'))
$$;

-- Appends records to their beneficiaries' chains, in the order given. Takes the beneficiaries'
-- advisory locks first (sorted, re-entrant: the service's writers hold them already), so appends
-- to one chain never interleave. SECURITY DEFINER: the service role cannot write chain rows itself.
CREATE FUNCTION eligo_chain_append(kinds text[], tables text[], ids text[], beneficiaries text[], contents text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    i integer;
    head_seq bigint;
    head_hash bytea;
    content bytea;
    link bytea;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM eligo_lock_beneficiaries(beneficiaries);
    FOR i IN 1 .. cardinality(ids) LOOP
        SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h WHERE h.beneficiary_id = beneficiaries[i];
        IF NOT FOUND THEN
            head_seq := 0;
            head_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
        END IF;
        content := sha256(convert_to(contents[i], 'UTF8'));
        link := eligo_link_hash(head_hash, content, kinds[i], tables[i], ids[i]);
        INSERT INTO audit_record (beneficiary_id, seq, kind, record_table, record_id, content_hash, prev_hash, hash)
        VALUES (beneficiaries[i], head_seq + 1, kinds[i], tables[i], ids[i], content, head_hash, link);
        INSERT INTO audit_head (beneficiary_id, seq, hash) VALUES (beneficiaries[i], head_seq + 1, link)
        ON CONFLICT (beneficiary_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
    END LOOP;
END
$$;

-- Statement-level triggers with transition tables: one call per statement, however many rows.
CREATE FUNCTION eligo_chain_messages() RETURNS trigger
-- Canonical JSON renders timestamps in the session time zone: pin it, here and in the verifier.
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
BEGIN
    PERFORM eligo_chain_append(array_agg('message'::text ORDER BY n.id), array_agg('message'::text ORDER BY n.id), array_agg(n.id ORDER BY n.id),
                               array_agg(n.beneficiary_id ORDER BY n.id), array_agg(eligo_canonical_message(n) ORDER BY n.id))
      FROM new_rows n;
    RETURN NULL;
END
$$;

CREATE FUNCTION eligo_chain_facts() RETURNS trigger
-- Canonical JSON renders timestamps in the session time zone: pin it, here and in the verifier.
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
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

CREATE FUNCTION eligo_chain_revocations() RETURNS trigger
-- Canonical JSON renders timestamps in the session time zone: pin it, here and in the verifier.
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
BEGIN
    PERFORM eligo_chain_append(array_agg('revocation'::text ORDER BY n.id), array_agg(TG_TABLE_NAME::text ORDER BY n.id), array_agg(n.id ORDER BY n.id),
                               array_agg(n.beneficiary_id ORDER BY n.id), array_agg(eligo_canonical_revocation(to_jsonb(n)) ORDER BY n.id))
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE o.revoked_at IS NULL AND n.revoked_at IS NOT NULL;
    RETURN NULL;
END
$$;

-- A determination is chained at commit (deferred), when its checks, subchecks and fact links exist.
CREATE FUNCTION eligo_chain_determination() RETURNS trigger
-- Canonical JSON renders timestamps in the session time zone: pin it, here and in the verifier.
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
BEGIN
    PERFORM eligo_chain_append(ARRAY['determination'], ARRAY['determination'], ARRAY[NEW.id], ARRAY[NEW.beneficiary_id],
                               ARRAY[eligo_canonical_determination(NEW.id)]);
    RETURN NULL;
END
$$;

CREATE TRIGGER message_chain AFTER INSERT ON message REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_chain_messages();
CREATE CONSTRAINT TRIGGER determination_chain AFTER INSERT ON determination DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION eligo_chain_determination();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['fact_income_monthly', 'fact_person_birthdate', 'fact_disability_status'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_chain_facts()', t || '_chain', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_chain_revocations()', t || '_chain_revocation', t);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- The restricted role the service works as

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'eligo_service') THEN
        CREATE ROLE eligo_service NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'eligo_service', 'MEMBER') THEN
        EXECUTE format('GRANT eligo_service TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO eligo_service', current_schema());
END
$$;

GRANT SELECT, INSERT ON message, fact_income_monthly, fact_person_birthdate, fact_disability_status,
    ruleset_version, determination, determination_check, determination_subcheck, determination_subcheck_fact TO eligo_service;
GRANT UPDATE (status, attempts, last_error, next_attempt_at, processed_at) ON message TO eligo_service;
GRANT UPDATE (revoked_at, revoked_by) ON fact_income_monthly, fact_person_birthdate, fact_disability_status TO eligo_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON determination_queue TO eligo_service;
-- Chain rows are written only by eligo_chain_append (SECURITY DEFINER). Checkpoints are written by
-- the service, which signs them with a key the database never sees.
GRANT SELECT ON audit_record, audit_head, audit_checkpoint, audit_checkpoint_head TO eligo_service;
GRANT UPDATE (checkpointed_seq) ON audit_head TO eligo_service;
GRANT INSERT ON audit_checkpoint, audit_checkpoint_head TO eligo_service;
GRANT SELECT ON flyway_schema_history TO eligo_service;
-- Tables added by later migrations need their own grants to eligo_service.
