-- The ledger (V8__ledger.sql) replaces the per-beneficiary hash chains and their checkpoints
-- (issue 17): every record a write transaction makes is a leaf of that transaction's ledger entry,
-- hashed in the service, so no trigger writes audit rows any more. Immutability triggers stay.

-- The chain triggers go with their functions (CASCADE drops the triggers, on every partition too);
-- R__90_tables.sql no longer asks for them.
DROP FUNCTION IF EXISTS eligo_chain_messages() CASCADE;
DROP FUNCTION IF EXISTS eligo_chain_facts() CASCADE;
DROP FUNCTION IF EXISTS eligo_chain_revocations() CASCADE;
DROP FUNCTION IF EXISTS eligo_chain_determination() CASCADE;
DROP FUNCTION IF EXISTS eligo_name_determinations_to_chain() CASCADE;
DROP FUNCTION IF EXISTS eligo_audit_checkpoint(bigint, bytea, bytea, bytea, text, text[], bigint[], bytea[]);
DROP FUNCTION IF EXISTS eligo_chain_append(text[], text[], text[], text[], text[]);
DROP AGGREGATE IF EXISTS eligo_chain_fold(bytea, bytea, bytea);
DROP FUNCTION IF EXISTS eligo_chain_link_step(bytea, bytea, bytea, bytea);
DROP FUNCTION IF EXISTS eligo_link_hash(bytea, bytea, text, text, text, timestamptz);
DROP FUNCTION IF EXISTS eligo_canonical_message(message);
DROP FUNCTION IF EXISTS eligo_canonical_fact(jsonb);
DROP FUNCTION IF EXISTS eligo_canonical_revocation(jsonb);
DROP FUNCTION IF EXISTS eligo_canonical_determinations(text[]);

DROP TABLE audit_checkpoint_head;
DROP TABLE audit_checkpoint;
DROP TABLE audit_head;
DROP TABLE audit_record;

-- Which transaction wrote a determination, as the ledger names it (ledger_entry.tx): how a receipt
-- finds the entry that holds the determination's leaf, through that table's (tx, id) index. Set by
-- the database as the row is inserted. Not part of the determination's canonical content: it says
-- where the proof is, and verification checks it against the entry. Null for a determination written
-- before the ledger existed.
ALTER TABLE determination ADD COLUMN ledger_tx xid8;
ALTER TABLE determination ALTER COLUMN ledger_tx SET DEFAULT pg_current_xact_id();

-- The retention a purge applied, so verification can check that the month it removed had expired
-- under it (a purge of a month still in use is tampering). Part of the purge's canonical content.
ALTER TABLE retention_purge ADD COLUMN retention_months integer CHECK (retention_months >= 1);

-- When an entry was written (the database's clock; not hashed): an entry still unsealed long after
-- it was written means a block was removed, or no instance is sealing. Verification says so past
-- eligo.ledger.seal-grace.
ALTER TABLE ledger_entry ADD COLUMN created_at timestamptz NOT NULL DEFAULT clock_timestamp();

-- Verification runs: the scheduled incremental ones (what was sealed since the last verified block,
-- and that the blocks before it still end in the digest verified then) and full ones started as
-- background jobs (POST /v1/integrity/verifications). Working state, written by
-- org.eligo.ledger.Verifications; the answer each run gave is kept in result.
CREATE TABLE ledger_verification (
    id             text        PRIMARY KEY,
    kind           text        NOT NULL CHECK (kind IN ('full', 'incremental')),
    status         text        NOT NULL CHECK (status IN ('RUNNING', 'DONE', 'FAILED')),
    requested_by   text,
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Moved while the run works; a RUNNING run whose heartbeat stopped was abandoned (its instance stopped).
    heartbeat_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at    timestamptz,
    records_done   bigint      NOT NULL DEFAULT 0,
    records_total  bigint,
    -- The last block the run verified, and its digest: where the next incremental run starts.
    through_block  bigint,
    through_digest bytea,
    ok             boolean,
    -- GET /v1/integrity/verify's answer for this run (org.eligo.ledger.Integrity), or the failure.
    result         jsonb,
    error          text
);
CREATE INDEX ledger_verification_latest ON ledger_verification (kind, started_at DESC);
