-- Coordination of the service's writers: per-beneficiary locks, and waking idle workers.
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)
--
-- Advisory lock classes (the first of the two keys), one per purpose, so no two purposes collide:
--   17772  a beneficiary (second key: hashtext of its id), here, and only here
--   17773  (was: the hash chains' checkpoints, replaced by the ledger; not reused)
--   17774  partition maintenance (R__50_partitions.sql)
--   17775  applying fact-type declarations at start (org.eligo.facts.FactTypeSchema)
--   17776  sealing the ledger into blocks (org.eligo.ledger.Sealer)
--   17777  the scheduled incremental verification of the ledger (org.eligo.ledger.Verifications)
--   17778  all beneficiaries at once (second key 0): every beneficiary lock below holds it shared; a
--          replay of more beneficiaries than its transaction could lock one by one takes it alone

-- Serialises all fact writers of the same beneficiaries: transaction-scoped advisory locks, taken in
-- ascending hash order so that two transactions locking overlapping sets wait for each other instead
-- of deadlocking. The first key (0x456C, "El") keeps these locks apart from any other advisory lock.
-- Returns clock_timestamp() read after the locks are held: any earlier writer of these beneficiaries
-- has committed by then, so fact timestamps for one key only move forward.
-- The locks are taken in one statement rather than a loop of them: still in ascending hash order
-- (the aggregate consumes the sorted subquery in order), so no deadlock.
CREATE OR REPLACE FUNCTION eligo_lock_beneficiaries(beneficiary_ids text[]) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(17778, 0);
    PERFORM count(pg_advisory_xact_lock(17772, l.h))
       FROM (SELECT DISTINCT hashtext(b) AS h FROM unnest(beneficiary_ids) AS b ORDER BY 1) AS l;
    RETURN clock_timestamp();
END
$$;

-- The beneficiaries among these whose locks are free at once, locked; never waits (a worker passes
-- over a beneficiary whose facts are being written and comes back to it).
CREATE OR REPLACE FUNCTION eligo_try_lock_beneficiaries(beneficiary_ids text[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock_shared(17778, 0) THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT b FROM (SELECT DISTINCT b FROM unnest(beneficiary_ids) AS b ORDER BY 1) AS l(b)
                  WHERE pg_try_advisory_xact_lock(17772, hashtext(b));
END
$$;

-- Every beneficiary at once, for a transaction that would otherwise take thousands of the locks
-- above (more than PostgreSQL's shared lock table holds: "out of shared memory"): one exclusive
-- lock that each beneficiary lock holds shared, so it waits for every writer of any beneficiary
-- to finish and every later one waits for it. Returns clock_timestamp() read after, as above.
CREATE OR REPLACE FUNCTION eligo_lock_all_beneficiaries() RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(17778, 0);
    RETURN clock_timestamp();
END
$$;

-- Wakes idle workers (in every service instance) when messages arrive. NOTIFY is delivered at
-- commit and collapsed per transaction, so a batch insert sends one notification.
-- (Trigger message_received, R__90_tables.sql.)
CREATE OR REPLACE FUNCTION eligo_notify_message_received() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eligo_message_received', '');
    RETURN NULL;
END
$$;
