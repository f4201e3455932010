-- The ledger: one entry per write transaction, sealed into signed blocks (README, "The ledger").
-- The service hashes each record it writes (its canonical content, org.eligo.ledger.Canonical) as a
-- leaf naming its table and id, and stores, in the same transaction, one entry: the Merkle root over
-- those leaves (RFC 6962). A sealer chains committed entries into blocks and signs each block's
-- digest with Ed25519, with a key the database never sees.

-- One write transaction's records. Written only by org.eligo.ledger.Ledger, at the end of the
-- transaction whose records it names; never changed.
CREATE TABLE ledger_entry (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: the sealer takes entries in (tx, id) order, and only those of
    -- transactions older than every one still running (pg_snapshot_xmin), so an entry that commits
    -- late is neither skipped nor sealed twice.
    tx     xid8   NOT NULL DEFAULT pg_current_xact_id(),
    -- Each leaf's label, '<table>/<id>' (a fact's revocation: 'fact/<id>/revocation'), in leaf order.
    labels text[] COLLATE "C" NOT NULL CHECK (cardinality(labels) >= 1),
    -- The leaf hashes, 32 bytes each, in the same order: SHA-256(0x00 || label || 0x00 || content).
    leaves bytea  NOT NULL CHECK (length(leaves) = 32 * cardinality(labels)),
    -- The Merkle root over the leaf hashes.
    root   bytea  NOT NULL CHECK (length(root) = 32)
);
CREATE INDEX ledger_entry_by_tx ON ledger_entry (tx, id);

-- Sealed blocks: the entries of the transactions from_tx <= tx < to_tx (each block starts where
-- the one before ended), their Merkle root, the previous block's digest, and a signature of this
-- one's digest. Written only by org.eligo.ledger.Sealer, one sealer at a time (advisory lock 17776).
CREATE TABLE ledger_block (
    id          bigint      PRIMARY KEY CHECK (id >= 1),
    from_tx     xid8        NOT NULL,
    to_tx       xid8        NOT NULL CHECK (to_tx > from_tx),
    entries     integer     NOT NULL CHECK (entries >= 1),
    -- The Merkle root over the entries' roots, in (tx, id) order.
    root        bytea       NOT NULL CHECK (length(root) = 32),
    prev_digest bytea       NOT NULL CHECK (length(prev_digest) = 32),
    sealed_at   timestamptz NOT NULL,
    -- SHA-256 over the block's fields (README, "The ledger": byte for byte).
    digest      bytea       NOT NULL CHECK (length(digest) = 32),
    key_id      text        NOT NULL,
    -- Ed25519 over the digest's 32 bytes.
    signature   bytea       NOT NULL CHECK (length(signature) = 64)
);

-- The public keys that have signed blocks, each from the first block it signed. For showing when
-- each key was in use (GET /v1/integrity/public-key); trust comes from the service's configuration,
-- never from this table, which a database owner could write.
CREATE TABLE ledger_key (
    key_id      text        PRIMARY KEY,
    public_key  text        NOT NULL,
    first_block bigint      NOT NULL,
    first_used  timestamptz NOT NULL
);
