-- Reruns: re-determine a set of beneficiaries for a period and ruleset, in chunks, resumable.

CREATE TABLE rerun (
    id           text        PRIMARY KEY CHECK (id ~ '^run_[0-9A-HJKMNP-TV-Z]{26}$'),
    scope        text        NOT NULL CHECK (scope IN ('changed', 'all', 'beneficiaries')),
    period       text        NOT NULL,
    ruleset_id   text        NOT NULL,
    reason       text,
    requested_by text,
    status       text        NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'CANCELLED', 'FAILED')),
    total        integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at   timestamptz,
    finished_at  timestamptz
);

-- One row per beneficiary of a run. Claimed with SKIP LOCKED; the transaction that stores the
-- beneficiary's determination marks the row DONE, so after a crash a row is either done (with its
-- determination) or still pending (without one): the run resumes where it stopped.
CREATE TABLE rerun_item (
    rerun_id                  text        NOT NULL REFERENCES rerun (id),
    beneficiary_id            text        NOT NULL,
    state                     text        NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DONE', 'FAILED')),
    determination_id          text COLLATE "C",
    previous_determination_id text COLLATE "C",
    previous_result           text,
    result                    text,
    changed                   boolean,
    error                     text,
    finished_at               timestamptz,
    PRIMARY KEY (rerun_id, beneficiary_id)
);
CREATE INDEX rerun_item_pending ON rerun_item (rerun_id, beneficiary_id) WHERE state = 'PENDING';
CREATE INDEX rerun_item_changed ON rerun_item (rerun_id, beneficiary_id) WHERE changed;

-- However a run is resumed, a beneficiary is determined at most once in it: a unique index on
-- determination (rerun_id, beneficiary_id) cannot exist on a partitioned table without the partition
-- key, so each rerun determination is recorded here by a trigger (eligo_determination_once_per_rerun).
CREATE TABLE rerun_determination (
    rerun_id         text NOT NULL,
    beneficiary_id   text NOT NULL,
    determination_id text COLLATE "C" NOT NULL,
    CONSTRAINT determination_once_per_rerun PRIMARY KEY (rerun_id, beneficiary_id)
);

-- When each beneficiary's active facts last changed: what scope 'changed' compares with the
-- facts_as_of of the beneficiary's latest determination, one index probe per beneficiary rather
-- than a scan of its facts. Kept by the fact writer; an index, not an audit record.
CREATE TABLE beneficiary_facts_changed (
    beneficiary_id text        PRIMARY KEY,
    changed_at     timestamptz NOT NULL
);
