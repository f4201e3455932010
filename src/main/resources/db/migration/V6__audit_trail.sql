-- The hash chains, their signed checkpoints, and what retention removed (see V1__service_role.sql for
-- the design; the functions that write and check them: R__30_hash_chains.sql).

-- Every stored record (message, fact, revocation, determination) as a link of its beneficiary's
-- chain. Written only by eligo_chain_append (SECURITY DEFINER), called by the chain triggers; the
-- service role can only read. A link's hash covers the previous link's hash, the record's content
-- hash, what and where the record is, and when the link was recorded.
CREATE TABLE audit_record (
    beneficiary_id text        NOT NULL,
    seq            bigint      NOT NULL CHECK (seq >= 1),
    kind           text        NOT NULL CHECK (kind IN ('message', 'fact', 'revocation', 'determination')),
    record_table   text        NOT NULL,
    record_id      text COLLATE "C" NOT NULL,
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
    hash             bytea  NOT NULL
);

-- Periodic checkpoints: a digest of the heads that moved since the previous checkpoint, chained to
-- it and signed with a key the database does not hold (see README "Audit trail"). Written only
-- through eligo_audit_checkpoint, which checks everything but the signature.
CREATE TABLE audit_checkpoint (
    id          bigint      PRIMARY KEY,
    taken_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    prev_digest bytea       NOT NULL,
    digest      bytea       NOT NULL,
    heads       integer     NOT NULL,
    signature   bytea,
    -- Which key signed the checkpoint (a fingerprint, not the key), so a key can be added or rotated.
    key_id      text
);
CREATE TABLE audit_checkpoint_head (
    checkpoint_id  bigint NOT NULL REFERENCES audit_checkpoint (id),
    beneficiary_id text   NOT NULL,
    seq            bigint NOT NULL,
    hash           bytea  NOT NULL,
    PRIMARY KEY (checkpoint_id, beneficiary_id)
);
CREATE INDEX audit_checkpoint_head_by_chain ON audit_checkpoint_head (beneficiary_id, seq DESC);

-- What retention removed: an id range of a table, kept forever. The verifier reads it to tell a
-- record removed by retention from one removed behind the service's back.
CREATE TABLE retention_purge (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text        NOT NULL,
    partition  text        NOT NULL,
    ids_from   text COLLATE "C" NOT NULL,
    ids_before text COLLATE "C" NOT NULL,
    purged_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
