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
-- can be rebuilt from them at any time with the statement at the end of this file.

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

-- Determinations stored before this table existed.
INSERT INTO determination_latest (ruleset_id, period, beneficiary_id, determination_id, result, outcomes,
                                  previous_determination_id, previous_result)
SELECT r.ruleset_id, r.period, r.beneficiary_id, r.id, r.result, r.outcomes, r.previous_id, r.previous_result
  FROM (SELECT d.ruleset_id, d.period, d.beneficiary_id, d.id, d.result, d.outcomes,
               lead(d.id) OVER w AS previous_id, lead(d.result) OVER w AS previous_result, row_number() OVER w AS newest
          FROM determination d
        WINDOW w AS (PARTITION BY d.ruleset_id, d.period, d.beneficiary_id ORDER BY d.id DESC)) AS r
 WHERE r.newest = 1;
