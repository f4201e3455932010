-- Messages as agencies sent them.
--
-- A message row is kept until retention drops its month. Its content columns never change; only its
-- processing state (status, attempts, last_error, next_attempt_at, processed_at) moves, under the
-- row lock the worker holds while it turns the message into a fact (guards: R__20_guards.sql).
--
-- Growth: messages and determinations (with their checks, subchecks and fact links) are
-- range-partitioned by month, so that the working set of the hot paths (the backlog, point look-ups
-- by id, the newest determinations) stays the same size however many years are kept, and so that
-- retention drops whole months instead of deleting rows (R__50_partitions.sql).
--
-- The partition key is the id itself. Ids are a prefix and a ULID whose first ten characters encode
-- the creation instant in milliseconds, and Crockford base32 sorts in time order under the "C"
-- collation; so "the month of msg_X" is a range of ids. Keeping id as the key keeps id the primary
-- key (a primary key must contain the partition key), keeps every look-up by id a single-partition
-- probe, and lets the parts of a determination share its partition bounds.
--
-- Ids compare as "C" (partition bounds compare bytes), and so does every column elsewhere that holds
-- a record id (a fact's message_id, audit_record.record_id, ...): a column under the database's
-- default collation compared with a "C" one compares under "C" (a non-default collation beats the
-- default), and its own index, built for the default collation, could not serve the comparison. Ids
-- are ASCII (a prefix and a Crockford ULID), which every collation orders alike.
--
-- Idempotency is global: a unique index of a partitioned table must contain the partition key, so
-- (source, external_id) lives in its own unpartitioned table, message_key, which every message must
-- own (a statement trigger checks it).

CREATE TABLE message (
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
    -- A failed attempt pushes this into the future (backoff); the claim query skips the message until then.
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    processed_at    timestamptz,
    -- The W3C traceparent of the request that submitted the message, to follow a submission across
    -- systems. Part of the message's content: chained (when present) and immutable like the rest.
    traceparent     text CHECK (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'),
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);

-- Rows of a month that has no partition (maintenance did not run in time) land here, where nothing
-- is lost. The monthly partitions are made by eligo_create_month_partition (R__50_partitions.sql).
CREATE TABLE message_default PARTITION OF message DEFAULT;

-- The work queue is the set of RECEIVED messages, claimed oldest id first. The partial index holds
-- only the backlog, so claiming stays cheap however many processed messages the table keeps.
-- (Indexes of a partitioned table: each partition gets its own.)
CREATE INDEX message_backlog ON message (id) WHERE status = 'RECEIVED';
CREATE INDEX message_beneficiary ON message (beneficiary_id, id);

-- The idempotency key: resubmitting (source, external_id) never stores a second message. A key never
-- changes, and goes only with its message (retention): while the message exists, its key stays, so
-- no second message can take it.
CREATE TABLE message_key (
    source      text NOT NULL,
    external_id text NOT NULL,
    message_id  text COLLATE "C" NOT NULL,
    PRIMARY KEY (source, external_id)
);
