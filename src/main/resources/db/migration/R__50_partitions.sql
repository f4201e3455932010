-- Monthly partitions and retention (the partitioned tables and why: V2__messages.sql and, for the
-- access log, V13__access_log_partitions.sql; which tables: eligo_partitioned_tables(),
-- R__90_tables.sql). The service calls eligo_create_partitions, eligo_drop_expired_partitions and
-- eligo_drop_expired_access_log (org.eligo.partitions.Partitions); they run as the owner and check
-- their arguments. Instances maintain partitions one at a time (advisory lock 17774).
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)

-- ---------------------------------------------------------------------------------------------------
-- Month bounds in id space

-- The smallest id with this prefix created at or after `at`.
CREATE OR REPLACE FUNCTION eligo_ulid_floor(prefix text, at timestamptz) RETURNS text
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

-- Where the UTC month starting `month` begins in a family's partition key, as a bound literal: the
-- smallest id minted in it, for a family keyed by ids that start with their creation time (prefix
-- given); the instant itself, for one keyed by a time (prefix NULL: the access log, keyed by `at`).
CREATE OR REPLACE FUNCTION eligo_month_bound(prefix text, month date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN prefix IS NULL THEN to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00'
                ELSE eligo_ulid_floor(prefix, month::timestamp AT TIME ZONE 'UTC') END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Making months ahead

-- Creates the partition of `parent` for the UTC month starting `month`, unless it exists. When the
-- default partition already holds rows of that month (the job did not run in time), the month stays
-- in the default partition, where nothing is lost, and a warning says so. Returns whether it created.
CREATE OR REPLACE FUNCTION eligo_create_month_partition(parent text, month date) RETURNS boolean
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
    lo := eligo_month_bound(family.prefix, month);
    hi := eligo_month_bound(family.prefix, (month + interval '1 month')::date);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)', parent || '_default', family.key, lo, family.key, hi)
       INTO occupied;
    IF occupied THEN
        RAISE WARNING 'eligo: % rows of % are in %_default; that month keeps them there', parent, to_char(month, 'YYYY-MM'), parent;
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', name, parent, lo, hi);
    -- Row triggers are inherited from the parent; a TRUNCATE trigger is not, and a partition can be
    -- truncated on its own. (The same trigger as R__90_tables.sql gives every existing partition.)
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change()',
                   name || '_no_truncate', name);
    RETURN true;
END
$$;

-- Every month a table holds records, from its oldest record to `months_ahead` months past now.
CREATE OR REPLACE FUNCTION eligo_create_partitions(months_ahead integer) RETURNS integer
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

-- ---------------------------------------------------------------------------------------------------
-- Retention

-- Drops the monthly partitions of the families named in `parents` that ended more than
-- `retention_months` ago (children before their determinations), and the idempotency keys of the
-- dropped messages, recording each month in retention_purge (ids_from and ids_before: the month's
-- bounds in the family's partition key, eligo_month_bound). Refuses less than a year: a misread
-- setting must not cost the history. 0 keeps everything. Not for the service: each retention has
-- its own entry point below, so that one setting cannot shorten what another keeps.
CREATE OR REPLACE FUNCTION eligo_drop_expired_months(parents text[], retention_months integer) RETURNS integer
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
    FOR family IN SELECT * FROM eligo_partitioned_tables() t WHERE t.parent = ANY (parents) ORDER BY t.ord DESC LOOP
        FOR part IN
            SELECT c.relname, to_date(right(c.relname, 6), 'YYYYMM') AS month
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = family.parent::regclass AND c.relname ~ ('^' || family.parent || '_[0-9]{6}$')
               AND to_date(right(c.relname, 6), 'YYYYMM') < cutoff
             ORDER BY 2
        LOOP
            -- The keys stay (retention never frees one, V14__purged_message_keys.sql); what answers
            -- a resubmission of a dropped message is kept with each: its id, status, content digest.
            IF family.parent = 'message' THEN
                EXECUTE format('INSERT INTO message_key_purged (source, external_id, message_id, status, content_sha256) '
                            || 'SELECT m.source, m.external_id, m.id, m.status, eligo_message_digest(m.type, m.beneficiary_id, m.occurred_at, m.data) '
                            || 'FROM %I m ON CONFLICT (source, external_id) DO NOTHING', part.relname);
            END IF;
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', family.parent, part.relname);
            EXECUTE format('DROP TABLE %I', part.relname);
            INSERT INTO retention_purge (table_name, partition, ids_from, ids_before, retention_months)
            VALUES (family.parent, part.relname, eligo_month_bound(family.prefix, part.month),
                    eligo_month_bound(family.prefix, (part.month + interval '1 month')::date), retention_months);
            -- A latest determination that retention removed is no longer anyone's latest: the
            -- beneficiary leaves that period's latest-based reports with it; and one that was the
            -- previous is no longer known (its transition reads as from none). A scan of the table
            -- (no index on the ids), once per month dropped.
            IF family.parent = 'determination' THEN
                DELETE FROM determination_latest l
                 WHERE l.determination_id >= eligo_ulid_floor('det_', part.month::timestamp AT TIME ZONE 'UTC')
                   AND l.determination_id < eligo_ulid_floor('det_', (part.month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
                UPDATE determination_latest l SET previous_determination_id = NULL, previous_result = NULL
                 WHERE l.previous_determination_id >= eligo_ulid_floor('det_', part.month::timestamp AT TIME ZONE 'UTC')
                   AND l.previous_determination_id < eligo_ulid_floor('det_', (part.month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            END IF;
            dropped := dropped + 1;
        END LOOP;
    END LOOP;
    RETURN dropped;
END
$$;

-- The records' retention (eligo.partitions.retention-years): every partitioned family but the
-- access log, which has its own. (PL/pgSQL, whose body is not resolved until it runs: the list of
-- families is made by R__90_tables.sql, after this file.)
CREATE OR REPLACE FUNCTION eligo_drop_expired_partitions(retention_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN eligo_drop_expired_months(ARRAY(SELECT t.parent FROM eligo_partitioned_tables() t WHERE t.parent <> 'access_log'),
                                     retention_months);
END
$$;

-- The access log's retention (eligo.access-log.retention-years).
CREATE OR REPLACE FUNCTION eligo_drop_expired_access_log(retention_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN eligo_drop_expired_months(ARRAY['access_log'], retention_months);
END
$$;

-- (Whether a record absent from its table was removed by retention is the verifier's to say now,
-- from the purges the ledger holds: org.eligo.ledger.LedgerVerifier.)
DROP FUNCTION IF EXISTS eligo_purged(text, text);

-- ---------------------------------------------------------------------------------------------------
-- Who may call what: the service maintains partitions through these three functions only.

REVOKE EXECUTE ON FUNCTION eligo_create_month_partition(text, date), eligo_create_partitions(integer),
    eligo_drop_expired_months(text[], integer), eligo_drop_expired_partitions(integer), eligo_drop_expired_access_log(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION eligo_create_partitions(integer), eligo_drop_expired_partitions(integer), eligo_drop_expired_access_log(integer)
    TO eligo_service;
