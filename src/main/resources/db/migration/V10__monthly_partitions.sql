-- Growth: messages and determinations (with their checks, subchecks and fact links) are
-- range-partitioned by month, so that the working set of the hot paths (the backlog, point look-ups
-- by id, the newest determinations) stays the same size however many years are kept, and so that
-- retention drops whole months instead of deleting rows.
--
-- The partition key is the id itself. Ids are a prefix and a ULID whose first ten characters encode
-- the creation instant in milliseconds, and Crockford base32 sorts in time order under the "C"
-- collation; so "the month of msg_X" is a range of ids. Keeping id as the key keeps id the primary
-- key (a primary key must contain the partition key), keeps every existing look-up by id a single-
-- partition probe, and lets the parts of a determination share its partition bounds.
--
-- Idempotency stays global: a unique index of a partitioned table must contain the partition key,
-- so (source, external_id) moves to its own unpartitioned table, message_key, which every message
-- must own (a statement trigger checks it).
--
-- Facts stay unpartitioned and no longer carry a foreign key to message: retention may drop a month
-- of messages whose facts are still active. A statement trigger checks at insert that a fact's
-- message exists; the message's content hash stays in its chain after the row is gone.

-- ---------------------------------------------------------------------------------------------------
-- Month bounds in id space

-- The smallest id with this prefix created at or after `at`.
CREATE FUNCTION eligo_ulid_floor(prefix text, at timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    ms bigint := floor(extract(epoch FROM at) * 1000)::bigint;
    digits constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    encoded text := '';
BEGIN
    FOR i IN 1 .. 10 LOOP
        encoded := substr(digits, (ms % 32)::integer + 1, 1) || encoded;
        ms := ms / 32;
    END LOOP;
    RETURN prefix || encoded || repeat('0', 16);
END
$$;

-- When an id was minted (millisecond precision).
CREATE FUNCTION eligo_ulid_time(id text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    ms bigint := 0;
    ulid constant text := substr(id, strpos(id, '_') + 1, 10);
BEGIN
    FOR i IN 1 .. 10 LOOP
        ms := ms * 32 + strpos('0123456789ABCDEFGHJKMNPQRSTVWXYZ', substr(ulid, i, 1)) - 1;
    END LOOP;
    RETURN to_timestamp(ms / 1000.0);
END
$$;

-- The partitioned families, parents before children (creation order; retention drops in reverse).
CREATE FUNCTION eligo_partitioned_tables() RETURNS TABLE (ord integer, parent text, prefix text, key text)
LANGUAGE sql IMMUTABLE AS $$
    VALUES (1, 'message', 'msg_', 'id'),
           (2, 'determination', 'det_', 'id'),
           (3, 'determination_check', 'det_', 'determination_id'),
           (4, 'determination_subcheck', 'det_', 'determination_id'),
           (5, 'determination_subcheck_fact', 'det_', 'determination_id')
$$;

-- Creates the partition of `parent` for the UTC month starting `month`, unless it exists. When the
-- default partition already holds rows of that month (the job did not run in time), the month stays
-- in the default partition, where nothing is lost, and a warning says so. Returns whether it created.
CREATE FUNCTION eligo_create_month_partition(parent text, month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    family record;
    name constant text := parent || '_' || to_char(month, 'YYYYMM');
    lo text;
    hi text;
    occupied boolean;
BEGIN
    SELECT * INTO family FROM eligo_partitioned_tables() t WHERE t.parent = eligo_create_month_partition.parent;
    IF NOT FOUND OR month <> date_trunc('month', month)::date THEN
        RAISE EXCEPTION 'eligo: no monthly partitions for % starting %', parent, month;
    END IF;
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    lo := eligo_ulid_floor(family.prefix, month::timestamp AT TIME ZONE 'UTC');
    hi := eligo_ulid_floor(family.prefix, (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)', parent || '_default', family.key, lo, family.key, hi)
       INTO occupied;
    IF occupied THEN
        RAISE WARNING 'eligo: % rows of % are in %_default; that month keeps them there', parent, to_char(month, 'YYYY-MM'), parent;
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', name, parent, lo, hi);
    -- Row triggers are inherited from the parent; a TRUNCATE trigger is not, and a partition can be
    -- truncated on its own.
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()',
                   name || '_no_truncate', name);
    RETURN true;
END
$$;

-- Every month a table holds records, from its oldest record to `months_ahead` months past now.
CREATE FUNCTION eligo_create_partitions(months_ahead integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    family record;
    month date;
    last constant date := (date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC') + make_interval(months => months_ahead))::date;
    created integer := 0;
BEGIN
    -- Instances maintain partitions one at a time.
    PERFORM pg_advisory_xact_lock(17774, 0);
    FOR family IN SELECT * FROM eligo_partitioned_tables() t ORDER BY t.ord LOOP
        month := date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC')::date;
        WHILE month <= last LOOP
            IF eligo_create_month_partition(family.parent, month) THEN
                created := created + 1;
            END IF;
            month := (month + interval '1 month')::date;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

-- What retention removed: an id range of a table, kept forever. The verifier reads it to tell a
-- record removed by retention from one removed behind the service's back.
CREATE TABLE retention_purge (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text        NOT NULL,
    partition  text        NOT NULL,
    ids_from   text        NOT NULL,
    ids_before text        NOT NULL,
    purged_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TRIGGER retention_purge_immutable BEFORE UPDATE OR DELETE ON retention_purge FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER retention_purge_no_truncate BEFORE TRUNCATE ON retention_purge FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();

-- Drops the monthly partitions that ended more than `retention_months` ago (children before their
-- determinations), and the idempotency keys of the dropped messages, recording each range. Refuses
-- less than a year: a misread setting must not cost the history. 0 keeps everything.
CREATE FUNCTION eligo_drop_expired_partitions(retention_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    family record;
    part record;
    cutoff date;
    dropped integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(17774, 0);
    IF retention_months = 0 THEN
        RETURN 0;
    END IF;
    IF retention_months IS NULL OR retention_months < 12 THEN
        RAISE EXCEPTION 'eligo: a retention of % months is refused (0 keeps everything; otherwise at least 12)', retention_months;
    END IF;
    cutoff := (date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC') - make_interval(months => retention_months))::date;
    FOR family IN SELECT * FROM eligo_partitioned_tables() t ORDER BY t.ord DESC LOOP
        FOR part IN
            SELECT c.relname, to_date(right(c.relname, 6), 'YYYYMM') AS month
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = family.parent::regclass AND c.relname ~ ('^' || family.parent || '_[0-9]{6}$')
               AND to_date(right(c.relname, 6), 'YYYYMM') < cutoff
             ORDER BY 2
        LOOP
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', family.parent, part.relname);
            EXECUTE format('DROP TABLE %I', part.relname);
            INSERT INTO retention_purge (table_name, partition, ids_from, ids_before)
            VALUES (family.parent, part.relname, eligo_ulid_floor(family.prefix, part.month::timestamp AT TIME ZONE 'UTC'),
                    eligo_ulid_floor(family.prefix, (part.month + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            IF family.parent = 'message' THEN
                DELETE FROM message_key k
                 WHERE k.message_id >= eligo_ulid_floor('msg_', part.month::timestamp AT TIME ZONE 'UTC')
                   AND k.message_id < eligo_ulid_floor('msg_', (part.month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            END IF;
            dropped := dropped + 1;
        END LOOP;
    END LOOP;
    RETURN dropped;
END
$$;

-- Whether a record absent from its table was removed by retention.
CREATE FUNCTION eligo_purged(table_name text, id text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM retention_purge r
                    WHERE r.table_name = eligo_purged.table_name AND eligo_purged.id >= r.ids_from AND eligo_purged.id < r.ids_before)
$$;

-- ---------------------------------------------------------------------------------------------------
-- Messages

CREATE TABLE message_key (
    source      text NOT NULL,
    external_id text NOT NULL,
    message_id  text COLLATE "C" NOT NULL,
    PRIMARY KEY (source, external_id)
);
INSERT INTO message_key (source, external_id, message_id) SELECT source, external_id, id FROM message;

-- A key never changes, and goes only with its message (retention): while the message exists, its
-- key stays, so no second message can take it.
CREATE FUNCTION eligo_message_key_delete_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN message m ON m.id = o.message_id) THEN
        RAISE EXCEPTION 'eligo: the idempotency key of a stored message cannot be removed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER message_key_immutable BEFORE UPDATE ON message_key FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER message_key_no_truncate BEFORE TRUNCATE ON message_key FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();

CREATE TABLE message_partitioned (
    id              text COLLATE "C" NOT NULL CHECK (id ~ '^msg_[0-9A-HJKMNP-TV-Z]{26}$'),
    source          text        NOT NULL,
    external_id     text        NOT NULL,
    type            text        NOT NULL,
    beneficiary_id  text        NOT NULL,
    occurred_at     timestamptz,
    received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    data            jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'RECEIVED' CHECK (status IN ('RECEIVED', 'PROCESSED', 'FAILED')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    processed_at    timestamptz,
    traceparent     text CHECK (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'),
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);

CREATE TABLE determination_partitioned (
    id              text COLLATE "C" NOT NULL CHECK (id ~ '^det_[0-9A-HJKMNP-TV-Z]{26}$'),
    beneficiary_id  text        NOT NULL,
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    ruleset_id      text        NOT NULL,
    ruleset_sha256  text        NOT NULL,
    ruleset_version text        NOT NULL,
    evaluated_at    timestamptz NOT NULL,
    facts_as_of     timestamptz NOT NULL,
    trigger         text        NOT NULL CHECK (trigger IN ('ingest', 'request', 'rerun')),
    rerun_id        text,
    result          text        NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    PRIMARY KEY (id),
    FOREIGN KEY (ruleset_id, ruleset_sha256) REFERENCES ruleset_version (ruleset_id, sha256)
) PARTITION BY RANGE (id);

CREATE TABLE determination_check_partitioned (
    determination_id text COLLATE "C" NOT NULL REFERENCES determination_partitioned (id),
    position         smallint NOT NULL,
    check_id         text     NOT NULL,
    title            text     NOT NULL,
    result           text     NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    PRIMARY KEY (determination_id, position)
) PARTITION BY RANGE (determination_id);

CREATE TABLE determination_subcheck_partitioned (
    determination_id text COLLATE "C" NOT NULL,
    check_position   smallint NOT NULL,
    position         smallint NOT NULL,
    subcheck_id      text     NOT NULL,
    title            text     NOT NULL,
    result           text     NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    detail           text     NOT NULL,
    PRIMARY KEY (determination_id, check_position, position),
    FOREIGN KEY (determination_id, check_position) REFERENCES determination_check_partitioned (determination_id, position)
) PARTITION BY RANGE (determination_id);

CREATE TABLE determination_subcheck_fact_partitioned (
    determination_id  text COLLATE "C" NOT NULL,
    check_position    smallint NOT NULL,
    subcheck_position smallint NOT NULL,
    fact_id           text     NOT NULL,
    fact_type         text     NOT NULL,
    PRIMARY KEY (determination_id, check_position, subcheck_position, fact_id),
    FOREIGN KEY (determination_id, check_position, subcheck_position)
        REFERENCES determination_subcheck_partitioned (determination_id, check_position, position)
) PARTITION BY RANGE (determination_id);

-- Swap the new tables in. The old ones go with what hangs on them (their triggers, the facts'
-- foreign keys to message, the canonical form bound to the old message row type: recreated below).
DO $$
DECLARE
    family record;
BEGIN
    FOR family IN SELECT * FROM eligo_partitioned_tables() t ORDER BY t.ord LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', family.parent, family.parent || '_unpartitioned');
        EXECUTE format('ALTER TABLE %I RENAME TO %I', family.parent || '_partitioned', family.parent);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', family.parent || '_default', family.parent);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()',
                       family.parent || '_default_no_truncate', family.parent || '_default');
    END LOOP;
END
$$;

-- A month for every month that holds records, and the next three: then the rows move across.
DO $$
DECLARE
    family record;
    month date;
    first date;
BEGIN
    SELECT date_trunc('month', least(
               (SELECT eligo_ulid_time(min(id)) FROM message_unpartitioned),
               (SELECT eligo_ulid_time(min(id)) FROM determination_unpartitioned),
               clock_timestamp()) AT TIME ZONE 'UTC')::date
      INTO first;
    FOR family IN SELECT * FROM eligo_partitioned_tables() t ORDER BY t.ord LOOP
        month := first;
        WHILE month < date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC') LOOP
            PERFORM eligo_create_month_partition(family.parent, month);
            month := (month + interval '1 month')::date;
        END LOOP;
    END LOOP;
    PERFORM eligo_create_partitions(3);
END
$$;

INSERT INTO message (id, source, external_id, type, beneficiary_id, occurred_at, received_at, data, status, attempts,
                     last_error, next_attempt_at, processed_at, traceparent)
SELECT id, source, external_id, type, beneficiary_id, occurred_at, received_at, data, status, attempts,
       last_error, next_attempt_at, processed_at, traceparent
  FROM message_unpartitioned;
INSERT INTO determination SELECT * FROM determination_unpartitioned;
INSERT INTO determination_check SELECT * FROM determination_check_unpartitioned;
INSERT INTO determination_subcheck SELECT * FROM determination_subcheck_unpartitioned;
INSERT INTO determination_subcheck_fact SELECT * FROM determination_subcheck_fact_unpartitioned;

DROP TABLE determination_subcheck_fact_unpartitioned, determination_subcheck_unpartitioned, determination_check_unpartitioned,
           determination_unpartitioned;
DROP TABLE message_unpartitioned CASCADE;

DO $$
DECLARE
    family record;
BEGIN
    FOR family IN SELECT * FROM eligo_partitioned_tables() t ORDER BY t.ord LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', family.parent || '_partitioned_pkey', family.parent || '_pkey');
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Indexes (partitioned: each partition gets its own)

CREATE INDEX message_backlog ON message (id) WHERE status = 'RECEIVED';
CREATE INDEX message_beneficiary ON message (beneficiary_id, id);
CREATE INDEX determination_history ON determination (beneficiary_id, id DESC);
CREATE INDEX determination_history_period ON determination (beneficiary_id, period, ruleset_id, id DESC);
CREATE INDEX determination_subcheck_fact_by_fact ON determination_subcheck_fact (fact_id);

-- ---------------------------------------------------------------------------------------------------
-- The guards and chains of V3/V6, on the new tables

CREATE FUNCTION eligo_canonical_message(m message) RETURNS text
LANGUAGE sql STABLE SET timezone = 'UTC' AS $$
    SELECT eligo_strip_top_nulls(to_jsonb(m) - 'status' - 'attempts' - 'last_error' - 'next_attempt_at' - 'processed_at')::text
$$;

-- Every new message owns its idempotency key: the global uniqueness of (source, external_id) that
-- a partitioned table cannot hold itself. The ingest path claims keys first (ON CONFLICT DO NOTHING,
-- to tell duplicates apart); any other insert gets its keys here, or fails if they are taken.
CREATE FUNCTION eligo_message_owns_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_key (source, external_id, message_id)
    SELECT n.source, n.external_id, n.id FROM new_rows n
    ON CONFLICT (source, external_id) DO NOTHING;
    IF EXISTS (SELECT 1 FROM new_rows n JOIN message_key k ON k.source = n.source AND k.external_id = n.external_id
                WHERE k.message_id <> n.id) THEN
        RAISE EXCEPTION 'eligo: duplicate key value violates unique constraint "message_idempotency_key"'
            USING ERRCODE = 'unique_violation', DETAIL = 'Another message holds this (source, external_id).';
    END IF;
    RETURN NULL;
END
$$;

-- A fact comes from a stored message (the foreign key this replaces could not outlive retention).
CREATE FUNCTION eligo_fact_message_exists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.id = n.message_id)) THEN
        RAISE EXCEPTION 'eligo: a fact must come from a stored message' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

-- A determination's parts are written with it, in its transaction: one check per statement
-- (the per-row guard of V6 cost a look-up per part).
CREATE FUNCTION eligo_determination_parts_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT determination_id FROM new_rows) n
                WHERE NOT EXISTS (SELECT 1 FROM determination d WHERE d.id = n.determination_id AND d.xmin = pg_current_xact_id()::xid)) THEN
        RAISE EXCEPTION 'eligo: a determination is complete once committed; parts cannot be added to it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;

-- A rerun determines a beneficiary at most once, however it is resumed (the unique index V5 put on
-- determination cannot exist on a partitioned table without the partition key).
CREATE TABLE rerun_determination (
    rerun_id         text NOT NULL,
    beneficiary_id   text NOT NULL,
    determination_id text NOT NULL,
    CONSTRAINT determination_once_per_rerun PRIMARY KEY (rerun_id, beneficiary_id)
);
CREATE FUNCTION eligo_determination_once_per_rerun() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rerun_determination (rerun_id, beneficiary_id, determination_id)
    SELECT n.rerun_id, n.beneficiary_id, n.id FROM new_rows n WHERE n.rerun_id IS NOT NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER rerun_determination_immutable BEFORE UPDATE OR DELETE ON rerun_determination FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER rerun_determination_no_truncate BEFORE TRUNCATE ON rerun_determination FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();

CREATE TRIGGER message_immutable BEFORE UPDATE ON message FOR EACH ROW EXECUTE FUNCTION eligo_message_update_guard();
CREATE TRIGGER message_no_delete BEFORE DELETE ON message FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER message_no_truncate BEFORE TRUNCATE ON message FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER message_chain AFTER INSERT ON message REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_chain_messages();
CREATE TRIGGER message_owns_key AFTER INSERT ON message REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_message_owns_key();
CREATE TRIGGER message_received AFTER INSERT ON message
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_notify_message_received();
CREATE TRIGGER message_key_no_orphaning AFTER DELETE ON message_key REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_message_key_delete_guard();

CREATE CONSTRAINT TRIGGER determination_chain AFTER INSERT ON determination DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION eligo_chain_determination();
CREATE TRIGGER determination_once_per_rerun AFTER INSERT ON determination REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_determination_once_per_rerun();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['determination', 'determination_check', 'determination_subcheck', 'determination_subcheck_fact'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change()', t || '_immutable', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()', t || '_no_truncate', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['determination_check', 'determination_subcheck', 'determination_subcheck_fact'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_determination_parts_guard()',
                       t || '_with_parent', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['fact_income_monthly', 'fact_person_birthdate', 'fact_disability_status'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eligo_fact_message_exists()',
                       t || '_from_message', t);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Privileges. The service works on the parents only: a partition cannot be written around the
-- parent's statement triggers (chains, key ownership) because the service role has no grant on it.

GRANT SELECT, INSERT ON message, message_key, determination, determination_check, determination_subcheck,
    determination_subcheck_fact, rerun_determination TO eligo_service;
GRANT UPDATE (status, attempts, last_error, next_attempt_at, processed_at) ON message TO eligo_service;
GRANT SELECT ON retention_purge TO eligo_service;

-- Chain appends and partition maintenance run as the owner. Only the chain triggers (now owner's
-- functions too) may append links: the service role can no longer call eligo_chain_append itself.
ALTER FUNCTION eligo_chain_messages() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION eligo_chain_facts() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION eligo_chain_revocations() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION eligo_chain_determination() SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION eligo_chain_append(text[], text[], text[], text[], text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION eligo_audit_checkpoint(bigint, bytea, bytea, bytea, text, text[], bigint[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eligo_audit_checkpoint(bigint, bytea, bytea, bytea, text, text[], bigint[], bytea[]) TO eligo_service;
REVOKE EXECUTE ON FUNCTION eligo_create_month_partition(text, date), eligo_create_partitions(integer),
    eligo_drop_expired_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eligo_create_partitions(integer), eligo_drop_expired_partitions(integer) TO eligo_service;
