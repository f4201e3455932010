-- Rulesets as they were loaded, and the immutable determinations made with them.

-- Every ruleset version the service has loaded, kept forever: a determination names the exact
-- files (sha256) it was made with, and time travel can find the version in force at an instant.
CREATE TABLE ruleset_version (
    ruleset_id      text        NOT NULL,
    sha256          text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    version         text        NOT NULL,
    title           text        NOT NULL,
    definition      jsonb       NOT NULL,
    first_loaded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (ruleset_id, sha256)
);

-- A determination and its parts are written once, in one transaction, and never changed.
CREATE TABLE determination (
    id              text        PRIMARY KEY CHECK (id ~ '^det_[0-9A-HJKMNP-TV-Z]{26}$'),
    beneficiary_id  text        NOT NULL,
    period          text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    ruleset_id      text        NOT NULL,
    ruleset_sha256  text        NOT NULL,
    ruleset_version text        NOT NULL,
    evaluated_at    timestamptz NOT NULL,
    -- The instant whose active facts were used.
    facts_as_of     timestamptz NOT NULL,
    trigger         text        NOT NULL CHECK (trigger IN ('ingest', 'request', 'rerun')),
    rerun_id        text,
    result          text        NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    FOREIGN KEY (ruleset_id, ruleset_sha256) REFERENCES ruleset_version (ruleset_id, sha256)
);
-- A beneficiary's history, newest first (ids are ULIDs: id order is creation order).
CREATE INDEX determination_history ON determination (beneficiary_id, id DESC);
CREATE INDEX determination_history_period ON determination (beneficiary_id, period, ruleset_id, id DESC);

CREATE TABLE determination_check (
    determination_id text     NOT NULL REFERENCES determination (id),
    position         smallint NOT NULL,
    check_id         text     NOT NULL,
    title            text     NOT NULL,
    result           text     NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    PRIMARY KEY (determination_id, position)
);

CREATE TABLE determination_subcheck (
    determination_id text     NOT NULL,
    check_position   smallint NOT NULL,
    position         smallint NOT NULL,
    subcheck_id      text     NOT NULL,
    title            text     NOT NULL,
    result           text     NOT NULL CHECK (result IN ('PASSED', 'NOT_PASSED', 'NO_DATA', 'ERROR', 'SKIPPED')),
    detail           text     NOT NULL,
    PRIMARY KEY (determination_id, check_position, position),
    FOREIGN KEY (determination_id, check_position) REFERENCES determination_check (determination_id, position)
);

-- Which facts each subcheck read. Facts live in one table per type, so the type says where to look.
CREATE TABLE determination_subcheck_fact (
    determination_id  text     NOT NULL,
    check_position    smallint NOT NULL,
    subcheck_position smallint NOT NULL,
    fact_id           text     NOT NULL,
    fact_type         text     NOT NULL,
    PRIMARY KEY (determination_id, check_position, subcheck_position, fact_id),
    FOREIGN KEY (determination_id, check_position, subcheck_position)
        REFERENCES determination_subcheck (determination_id, check_position, position)
);
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
