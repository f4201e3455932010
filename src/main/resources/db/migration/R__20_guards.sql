-- Guards: what a record may become once written (immutability), and what foreign keys and unique
-- constraints cannot hold across partitions. Which table carries which guard: eligo_tables() and
-- the triggers made from it (R__90_tables.sql).
-- (Repeatable: runs again whenever this file changes; every statement is idempotent.)

-- ---------------------------------------------------------------------------------------------------
-- Immutability

-- Audit records: no update, no delete, no truncate (for the kinds of table that may change at all,
-- the guards below allow exactly that change).
CREATE OR REPLACE FUNCTION eligo_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'eligo: % on % is not allowed: audit records are immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Messages: only the processing state may move.
CREATE OR REPLACE FUNCTION eligo_message_update_guard() RETURNS trigger
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

-- A revocation names the fact that rightly supersedes: a fact of the same beneficiary, type and key
-- from a later-received message (message ids order receipt, as processing decides: Facts), or a
-- replay's new fact of the same message (the same key, re-derived; or another, when today's parsers
-- read the message differently).
-- Checked at commit (a deferred constraint trigger), because a revoking fact is inserted after the
-- fact it revokes (the partial unique index of active facts lets one key have only one at a time).
-- Verification checks the same rule (org.eligo.ledger.LedgerVerifier), for a revocation written
-- with this trigger off.
CREATE OR REPLACE FUNCTION eligo_fact_revocation_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revoked_by IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM fact g
         WHERE g.id = NEW.revoked_by AND g.id <> NEW.id AND g.beneficiary_id = NEW.beneficiary_id
           AND ((g.type = NEW.type AND g.fact_key = NEW.fact_key AND g.message_id > NEW.message_id)
                OR (g.replay_id IS NOT NULL AND g.message_id = NEW.message_id))) THEN
        RAISE EXCEPTION 'eligo: fact % may only be revoked by a fact of its key from a later message (or a replay of its message), not by %', NEW.id, NEW.revoked_by
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;

-- New facts are created now (a fact cannot be slipped into the past).
CREATE OR REPLACE FUNCTION eligo_fact_insert_guard() RETURNS trigger
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

-- (A determination's fact links are guarded in R__40_determinations.sql.)

-- ---------------------------------------------------------------------------------------------------
-- What partitioned tables cannot hold themselves

-- Every new message owns its idempotency key: the global uniqueness of (source, external_id) that
-- a partitioned table cannot hold itself. The ingest path claims keys first (ON CONFLICT DO NOTHING,
-- to tell duplicates apart); any other insert gets its keys here, or fails if they are taken.
CREATE OR REPLACE FUNCTION eligo_message_owns_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The service's insert (Messages.INSERT) claims every key in the same statement, so the usual
    -- case is one read that finds each key already naming its message; only when some does not are
    -- the keys claimed here (0.3 ms less per 100 messages than claiming them all again: EXPLAIN
    -- ANALYZE of a 1,000-message insert, 5.7 ms in this trigger before, 3.2 ms after).
    IF EXISTS (SELECT 1 FROM new_rows n LEFT JOIN message_key k ON k.source = n.source AND k.external_id = n.external_id
                WHERE k.message_id IS DISTINCT FROM n.id) THEN
        INSERT INTO message_key (source, external_id, message_id)
        SELECT n.source, n.external_id, n.id FROM new_rows n
        ON CONFLICT (source, external_id) DO NOTHING;
        IF EXISTS (SELECT 1 FROM new_rows n JOIN message_key k ON k.source = n.source AND k.external_id = n.external_id
                    WHERE k.message_id <> n.id) THEN
            RAISE EXCEPTION 'eligo: duplicate key value violates unique constraint "message_idempotency_key"'
                USING ERRCODE = 'unique_violation', DETAIL = 'Another message holds this (source, external_id).';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- A key never changes, and went only with its message (retention). No table uses this since
-- V14__purged_message_keys.sql: keys are now never deleted at all (message_key is a record).
CREATE OR REPLACE FUNCTION eligo_message_key_delete_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN message m ON m.id = o.message_id) THEN
        RAISE EXCEPTION 'eligo: the idempotency key of a stored message cannot be removed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;

-- A fact comes from a stored message (a foreign key could not outlive retention, which drops whole
-- months of messages).
CREATE OR REPLACE FUNCTION eligo_fact_message_exists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.id = n.message_id)) THEN
        RAISE EXCEPTION 'eligo: a fact must come from a stored message' USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
