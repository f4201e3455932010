-- The typed facts derived from messages, and the replays that re-derive them from stored messages
-- after a parser fix.

-- A replay: who asked, for what, and what it changed. Written once, when it finishes.
CREATE TABLE replay (
    id           text        PRIMARY KEY,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    scope        jsonb       NOT NULL,
    reason       text,
    dry_run      boolean     NOT NULL,
    summary      jsonb       NOT NULL
);

-- The fact types applied to this database: one row per declaration in rules/fact-types/, written
-- by the step that migrates the schema (org.eligo.facts.FactTypeSchema, as the owner), with the
-- declaration as applied (its key, what absence means, its fields and their bounds; not its prose).
-- Once facts of a type exist, its declaration may only gain optional fields. The same step makes
-- each type's typed view, fact_<type> (dots become underscores), one column per field, so analysts
-- query facts by field name in SQL. A type no longer declared keeps its row and view.
CREATE TABLE fact_type (
    name        text        PRIMARY KEY,
    key_kind    text        NOT NULL CHECK (key_kind IN ('person', 'month', 'episode')),
    declaration jsonb       NOT NULL,
    source      text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every fact, of every type: one table, so a beneficiary's facts are one index range whatever the
-- number of types, and a new type needs no DDL of its own beyond its view. data holds the typed
-- fields as the declaration validated them (numbers exact, dates YYYY-MM-DD; absent optional
-- fields without a default left out).
--
-- fact_key is the key within the beneficiary and type: '' for a person fact, 'YYYY-MM' for a month
-- (so keys sort as months do), the episode id for an episode. For each (beneficiary, type, key) at
-- most one fact is active (revoked_at IS NULL); a partial unique index enforces it. A revoked fact
-- names the fact that superseded it. Revocation happens once: NULL -> value. A withdrawal
-- (withdrawn, data holding the key's fields only) supersedes like any fact, and its key then reads
-- as having no fact.
--
-- A replay re-derives a fact from the same message: several facts may come from one message, at most
-- one of them from ordinary processing (replay_id NULL), so processing a message twice still cannot
-- make a second fact.
--
-- Facts are not partitioned and carry no foreign key to message: retention may drop a month of
-- messages whose facts are still active. A statement trigger checks at insert that a fact's message
-- exists; the message's content hash stays in its chain after the row is gone.
--
-- beneficiary_id is in every unique key (the primary key leads with id for look-ups by id), so the
-- table can be distributed by beneficiary (docs/scaling.md).
CREATE TABLE fact (
    id             text COLLATE "C" NOT NULL CHECK (id ~ '^fact_[0-9A-HJKMNP-TV-Z]{26}$'),
    beneficiary_id text        NOT NULL,
    message_id     text COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_by     text COLLATE "C",
    replay_id      text        REFERENCES replay (id) DEFERRABLE INITIALLY DEFERRED,
    type           text        NOT NULL REFERENCES fact_type (name),
    fact_key       text COLLATE "C" NOT NULL,
    withdrawn      boolean     NOT NULL DEFAULT false,
    data           jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    PRIMARY KEY (id, beneficiary_id),
    CONSTRAINT fact_revoked_by FOREIGN KEY (revoked_by, beneficiary_id) REFERENCES fact (id, beneficiary_id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT fact_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_active ON fact (beneficiary_id, type, fact_key) WHERE revoked_at IS NULL;
CREATE INDEX fact_beneficiary ON fact (beneficiary_id, created_at);
CREATE UNIQUE INDEX fact_one_per_message ON fact (message_id, beneficiary_id) WHERE replay_id IS NULL;
