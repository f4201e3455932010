-- Rulesets as they were loaded, the immutable determinations made with them, and the queue of
-- determinations waiting to be made.

-- Every ruleset version the service has loaded, kept forever: a determination names the exact
-- files (sha256) it was made with, and time travel can find the version in force at an instant.
CREATE TABLE ruleset_version (
    ruleset_id      text        NOT NULL,
    sha256          text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    version         text        NOT NULL,
    title           text        NOT NULL,
    definition      jsonb       NOT NULL,
    first_loaded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The files of the version, so that it can be evaluated again ("what would we have decided at T"
    -- uses the rules in force at T).
    files           jsonb,
    PRIMARY KEY (ruleset_id, sha256)
);

-- When each version came into force: a row whenever an instance starts with a version that differs
-- from the latest one recorded for that ruleset. The version in force at T is the latest row at or
-- before T.
CREATE TABLE ruleset_activation (
    ruleset_id   text        NOT NULL,
    sha256       text        NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (ruleset_id, activated_at, sha256),
    FOREIGN KEY (ruleset_id, sha256) REFERENCES ruleset_version (ruleset_id, sha256)
);

-- A determination and its parts (checks, subchecks, the facts each subcheck read) are written once,
-- in one transaction, and never changed. They are partitioned by month like messages (see
-- V2__messages.sql): the parts by their determination's id, so a determination and its parts share a
-- month.
--
-- The parts carry no foreign keys to their parents: a statement-level guard checks, set-wise, that
-- each part's parent exists and was written by the same transaction (eligo_determination_parts_guard,
-- R__40_determinations.sql), one anti-join per statement where foreign keys against partitioned
-- parents made one look-up per part row. What foreign keys also guard, that a parent is not deleted
-- under its parts, the immutability triggers guard already (no update, no delete, no truncate);
-- retention drops a month of every table together, and a determination's parts share its id, so its
-- month.

CREATE TABLE determination (
    id              text COLLATE "C" NOT NULL CHECK (id ~ '^det_[0-9A-HJKMNP-TV-Z]{26}$'),
    beneficiary_id  text        NOT NULL,
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    ruleset_id      text        NOT NULL,
    ruleset_sha256  text        NOT NULL,
    ruleset_version text        NOT NULL,
    evaluated_at    timestamptz NOT NULL,
    -- The instant whose active facts were used.
    facts_as_of     timestamptz NOT NULL,
    trigger         text        NOT NULL CHECK (trigger IN ('ingest', 'request', 'rerun')),
    -- A rerun determines a beneficiary at most once (rerun_determination, V5__reruns.sql).
    rerun_id        text,
    result          text        NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    PRIMARY KEY (id),
    FOREIGN KEY (ruleset_id, ruleset_sha256) REFERENCES ruleset_version (ruleset_id, sha256)
) PARTITION BY RANGE (id);
CREATE TABLE determination_default PARTITION OF determination DEFAULT;
-- A beneficiary's history, newest first (ids are ULIDs: id order is creation order).
CREATE INDEX determination_history ON determination (beneficiary_id, id DESC);
CREATE INDEX determination_history_period ON determination (beneficiary_id, period, ruleset_id, id DESC);

CREATE TABLE determination_check (
    determination_id text COLLATE "C" NOT NULL,
    position         smallint NOT NULL,
    check_id         text     NOT NULL,
    title            text     NOT NULL,
    result           text     NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    PRIMARY KEY (determination_id, position)
) PARTITION BY RANGE (determination_id);
CREATE TABLE determination_check_default PARTITION OF determination_check DEFAULT;

CREATE TABLE determination_subcheck (
    determination_id text COLLATE "C" NOT NULL,
    check_position   smallint NOT NULL,
    position         smallint NOT NULL,
    subcheck_id      text     NOT NULL,
    title            text     NOT NULL,
    result           text     NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    detail           text     NOT NULL,
    PRIMARY KEY (determination_id, check_position, position)
) PARTITION BY RANGE (determination_id);
CREATE TABLE determination_subcheck_default PARTITION OF determination_subcheck DEFAULT;

-- Which facts each subcheck read. Facts live in one table per type, so the type says where to look.
CREATE TABLE determination_subcheck_fact (
    determination_id  text COLLATE "C" NOT NULL,
    check_position    smallint NOT NULL,
    subcheck_position smallint NOT NULL,
    fact_id           text COLLATE "C" NOT NULL,
    fact_type         text     NOT NULL,
    PRIMARY KEY (determination_id, check_position, subcheck_position, fact_id)
) PARTITION BY RANGE (determination_id);
CREATE TABLE determination_subcheck_fact_default PARTITION OF determination_subcheck_fact DEFAULT;
-- "Which determinations used this fact?"
CREATE INDEX determination_subcheck_fact_by_fact ON determination_subcheck_fact (fact_id);

-- Determinations waiting to be made after facts changed (trigger 'ingest'). One row per
-- beneficiary, period and ruleset however many changes arrive: that is the coalescing. Workers claim
-- rows with SKIP LOCKED, like messages, and delete them in the transaction that stores the determination.
CREATE TABLE determination_queue (
    beneficiary_id  text        NOT NULL,
    period          text        NOT NULL,
    ruleset_id      text        NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Pushed back a little by each further change (bounded), so a burst of messages settles first.
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    PRIMARY KEY (beneficiary_id, period, ruleset_id)
);
CREATE INDEX determination_queue_due ON determination_queue (next_attempt_at);
