-- Population reports (GET /v1/reports/outcomes and /transitions, org.eligo.reports): how a ruleset's
-- population fares in a period, counted by the database.
--
-- A report of "each beneficiary's latest determination for the period" must not read every
-- determination of the period: a period is determined again by every rerun (the bench keeps 30
-- determinations per beneficiary), and the latest of each beneficiary would be a sort of all of them.
-- So the latest is kept as it is written: one row per ruleset, period and beneficiary, moved forward
-- by a statement trigger on determination (eligo_determination_latest, R__40_determinations.sql) in
-- the transaction that writes the newer determination. It copies what the reports count (the result
-- and the outcomes) and keeps the one before it (for transitions). It is an index kept by the
-- database, not a record: the determinations are the record, and the ledger covers them; this table
-- is filled from them by the catch-up at the end of R__90_tables.sql (run in the transaction that
-- makes the trigger, so no determination written meanwhile is missed; emptied, it is filled again
-- the next time that file runs). Only the
-- database writes it: the trigger runs as the schema's owner, and the service may only read it.

CREATE TABLE determination_latest (
    ruleset_id                text NOT NULL,
    period                    text NOT NULL,
    beneficiary_id            text NOT NULL,
    -- The newest determination (ids are ULIDs: id order is creation order), its result and outcomes
    -- as stored with it (determination.outcomes).
    determination_id          text COLLATE "C" NOT NULL,
    result                    text NOT NULL,
    outcomes                  text[] NOT NULL,
    -- The determination it replaced as the latest, and its result; NULL for the first one.
    previous_determination_id text COLLATE "C",
    previous_result           text,
    PRIMARY KEY (ruleset_id, period, beneficiary_id)
);
