-- The access log gets a retention: it becomes range-partitioned by the month of `at`, so that the
-- partition job (R__50_partitions.sql, org.eligo.partitions.Partitions) can drop a month once it is
-- older than eligo.access-log.retention-years, as it does for messages and determinations. Until now
-- (V7__access_log.sql) nothing could remove a row, so the table grew for ever and a policy that keeps
-- access records for N years, and no longer, could not be followed.
--
-- Rows stay append-only: the triggers that refuse UPDATE, DELETE and TRUNCATE come from the table's
-- row in eligo_tables() (R__90_tables.sql, kind 'record'), and row triggers reach every partition.
-- Only eligo_drop_expired_access_log, running as the owner, removes rows, a whole expired month at a
-- time (DETACH and DROP fire no row trigger), each drop recorded in retention_purge and the ledger.
--
-- The key is `at` (unlike messages, whose ids are ULIDs, the ids here are a plain sequence and say
-- nothing about time), so a primary key must include it: (id, at). Ids stay unique in practice (one
-- identity sequence); the page query orders and pages by id, which the primary key's index serves
-- in every partition.
--
-- Every existing row is kept, with its id, in the partition of its month; the identity sequence
-- continues where the old one stood. Writers wait on the lock below while the rows are copied (a
-- large log makes this migration as long as one pass over the table).

LOCK TABLE access_log IN ACCESS EXCLUSIVE MODE;

-- The old table, its index names and its sequence out of the way of the new ones.
ALTER TABLE access_log RENAME TO access_log_v7;
ALTER INDEX access_log_pkey RENAME TO access_log_v7_pkey;
ALTER INDEX access_log_beneficiaries RENAME TO access_log_v7_beneficiaries;
ALTER INDEX access_log_subject RENAME TO access_log_v7_subject;
ALTER SEQUENCE access_log_id_seq RENAME TO access_log_v7_id_seq;

CREATE TABLE access_log (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id      text NOT NULL,
    subject         text NOT NULL,
    roles           text[] NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    status          integer NOT NULL,
    beneficiary_ids text[] NOT NULL DEFAULT '{}',
    traceparent     text,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);

-- Rows of a month that has no partition (maintenance did not run in time) land here, where nothing
-- is lost. The monthly partitions are made by eligo_create_month_partition (R__50_partitions.sql).
CREATE TABLE access_log_default PARTITION OF access_log DEFAULT;

-- (Indexes of a partitioned table: each partition gets its own.)
CREATE INDEX access_log_beneficiaries ON access_log USING gin (beneficiary_ids);
CREATE INDEX access_log_subject ON access_log (subject, id);

-- A partition for every UTC month from the oldest row's to the current one, so that each existing
-- row lands in its month (and can expire with it) rather than in the default partition, which keeps
-- what it holds for good. Named and bounded as eligo_create_month_partition names and bounds them;
-- their TRUNCATE guards are made by R__90_tables.sql, which runs after this file.
DO $$
DECLARE
    month date;
    last constant date := date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT date_trunc('month', min(at) AT TIME ZONE 'UTC')::date INTO month FROM access_log_v7;
    WHILE month IS NOT NULL AND month <= last LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF access_log FOR VALUES FROM (%L) TO (%L)',
                       'access_log_' || to_char(month, 'YYYYMM'),
                       to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
                       to_char((month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
        month := (month + interval '1 month')::date;
    END LOOP;
END
$$;

INSERT INTO access_log (id, at, request_id, subject, roles, method, path, status, beneficiary_ids, traceparent)
OVERRIDING SYSTEM VALUE
SELECT id, at, request_id, subject, roles, method, path, status, beneficiary_ids, traceparent FROM access_log_v7 ORDER BY id;

-- The new identity continues where the old one stood (past ids that rolled back too), never below a stored id.
SELECT setval(pg_get_serial_sequence('access_log', 'id'),
              greatest(s.last_value, coalesce((SELECT max(id) FROM access_log_v7), 0), 1),
              s.is_called OR EXISTS (SELECT 1 FROM access_log_v7))
  FROM access_log_v7_id_seq s;

DROP TABLE access_log_v7;

-- The service keeps writing the log from here on. R__90_tables.sql (which runs after this file, in
-- a transaction of its own) makes the table's grants and triggers from its row in eligo_tables();
-- until then, the same grant and guards from here, so that no request of a running instance fails
-- for want of its INSERT and no row is changeable in between. (On a new database the guard function
-- does not exist yet: R__20_guards.sql makes it after the versioned files, and R__90 the triggers.)
GRANT SELECT, INSERT ON access_log TO eligo_service;
DO $$
BEGIN
    IF to_regprocedure('eligo_refuse_change()') IS NOT NULL THEN
        CREATE TRIGGER access_log_immutable BEFORE UPDATE OR DELETE ON access_log
            FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
        CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
            FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();
    END IF;
END
$$;
