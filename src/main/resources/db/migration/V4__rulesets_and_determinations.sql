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

-- A determination is one row, written once and never changed: its result, ruleset, times, trigger and
-- rerun as columns, what the API shows of its checks and subchecks as one JSON document, and each
-- check's and subcheck's result again as plain text (outcomes) for population reports to count. The
-- facts it read are also rows of determination_fact, so that "which determinations read fact F" is
-- an index probe. Determinations are partitioned by month like messages (see V2__messages.sql), their
-- fact links by their determination's id, so a determination and its links share a month.
--
-- (This replaced four tables, a determination with one row per check, per subcheck and per fact a
-- subcheck read: 13 rows for a Medicaid determination, all read back to show it, hashed bottom-up
-- into its chain, and joined by a report. PostgreSQL now spends about a quarter less CPU per
-- determination: bench/README.md.)

-- The outcomes of a checks document, in order: 'check=RESULT' for each check, followed by
-- 'check/subcheck=RESULT' for each of its subchecks, e.g. {age_exemption=NOT_PASSED,
-- age_exemption/under_19=NOT_PASSED, ...}. Check and subcheck ids are lower_snake_case
-- (org.eligo.rules.RulesetLoader) and results upper case, so '/' and '=' cannot be ambiguous. A
-- report counts with unnest(outcomes) ... GROUP BY, reading no JSON:
--     SELECT o, count(*) FROM determination, unnest(outcomes) AS o
--      WHERE ruleset_id = 'medicaid-community-engagement' AND period = '2027-07' GROUP BY o;
-- Defined here, with the table whose generated column uses it, and not in a repeatable file: a new
-- definition would leave every stored row's outcomes computed by the old one. A new format is a new
-- column.
CREATE FUNCTION eligo_determination_outcomes(checks jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(o.outcome ORDER BY c.position, o.position), '{}')
      FROM jsonb_array_elements(checks) WITH ORDINALITY AS c (item, position)
     CROSS JOIN LATERAL (
            SELECT 0::bigint AS position, (c.item ->> 'id') || '=' || (c.item ->> 'result') AS outcome
            UNION ALL
            SELECT s.position, (c.item ->> 'id') || '/' || (s.item ->> 'id') || '=' || (s.item ->> 'result')
              FROM jsonb_array_elements(c.item -> 'subchecks') WITH ORDINALITY AS s (item, position)) AS o
$$;

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
    -- The checks as the API shows them, in order: [{"id", "title", "result", "subchecks": [{"id",
    -- "title", "result", "fact_ids", "detail"}]}]. Its format is DeterminationStore's (written and
    -- read there), not the API's serialisation: a renamed Java field changes neither stored documents
    -- nor their hashes.
    checks          jsonb       NOT NULL CHECK (jsonb_typeof(checks) = 'array'),
    -- Each check's and subcheck's result, computed from checks by the database: reports and the API
    -- cannot disagree, and no writer can store one without the other.
    outcomes        text[]      NOT NULL GENERATED ALWAYS AS (eligo_determination_outcomes(checks)) STORED,
    PRIMARY KEY (id),
    FOREIGN KEY (ruleset_id, ruleset_sha256) REFERENCES ruleset_version (ruleset_id, sha256)
) PARTITION BY RANGE (id);
CREATE TABLE determination_default PARTITION OF determination DEFAULT;
-- A beneficiary's history, newest first (ids are ULIDs: id order is creation order).
CREATE INDEX determination_history ON determination (beneficiary_id, id DESC);
CREATE INDEX determination_history_period ON determination (beneficiary_id, period, ruleset_id, id DESC);
-- (No index on outcomes: a report reads every determination of a period, which a GIN index would not
-- spare it, and every insert would pay for one. A query that picks a few determinations by outcome
-- would be the reason to add one.)

-- The distinct facts a determination read (the fact ids of all its subchecks), one row each, written
-- with the determination, in the same transaction (eligo_determination_parts_guard,
-- R__40_determinations.sql), and covered by its hash (its canonical form lists them). A foreign key
-- against the partitioned parent would cost one look-up per row where the guard makes one per
-- statement; what a foreign key also guards, that the parent is not deleted, the immutability
-- triggers guard already, and retention drops a month of both tables together. The beneficiary is
-- its determination's (the guard checks): a beneficiary's rows stay together when distributed by it
-- (docs/scaling.md).
CREATE TABLE determination_fact (
    determination_id text COLLATE "C" NOT NULL,
    beneficiary_id   text NOT NULL,
    fact_id          text COLLATE "C" NOT NULL,
    PRIMARY KEY (determination_id, fact_id)
) PARTITION BY RANGE (determination_id);
CREATE TABLE determination_fact_default PARTITION OF determination_fact DEFAULT;
-- "Which determinations read fact F?": one probe per month, newest first, from the index alone.
CREATE INDEX determination_fact_by_fact ON determination_fact (fact_id, determination_id DESC);

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
