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

-- One table per fact type (org.eligo.facts.FactTypes), with typed columns named like the fields of
-- the message data. For each key at most one fact is active (revoked_at IS NULL); a partial unique
-- index enforces it. A revoked fact names the fact that superseded it. Revocation happens once:
-- NULL -> value.
--
-- A replay re-derives a fact from the same message: several facts may come from one message, at most
-- one of them from ordinary processing (replay_id NULL), so processing a message twice still cannot
-- make a second fact.
--
-- Facts are not partitioned and carry no foreign key to message: retention may drop a month of
-- messages whose facts are still active. A statement trigger checks at insert that a fact's message
-- exists; the message's content hash stays in its chain after the row is gone.
--
-- Columns are only ever added at the end, nullable: chained content drops top-level nulls, so older
-- facts' hashes still hold (R__30_hash_chains.sql).

CREATE TABLE fact_income_monthly (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    beneficiary_id text        NOT NULL,
    message_id     text COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_by     text COLLATE "C" REFERENCES fact_income_monthly (id) DEFERRABLE INITIALLY DEFERRED,
    year           integer     NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    month          integer     NOT NULL CHECK (month BETWEEN 1 AND 12),
    amount_cents   bigint      NOT NULL CHECK (amount_cents BETWEEN 0 AND 1000000000000),
    hours          numeric     CHECK (hours BETWEEN 0 AND 744),
    employers      integer     CHECK (employers >= 0),
    replay_id      text        REFERENCES replay (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT fact_income_monthly_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_income_monthly_active ON fact_income_monthly (beneficiary_id, year, month) WHERE revoked_at IS NULL;
CREATE INDEX fact_income_monthly_beneficiary ON fact_income_monthly (beneficiary_id, created_at);
CREATE UNIQUE INDEX fact_income_monthly_one_per_message ON fact_income_monthly (message_id) WHERE replay_id IS NULL;
CREATE INDEX fact_income_monthly_by_message ON fact_income_monthly (message_id);

CREATE TABLE fact_person_birthdate (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    beneficiary_id text        NOT NULL,
    message_id     text COLLATE "C" NOT NULL,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_by     text COLLATE "C" REFERENCES fact_person_birthdate (id) DEFERRABLE INITIALLY DEFERRED,
    birth_date     date        NOT NULL,
    replay_id      text        REFERENCES replay (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT fact_person_birthdate_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_person_birthdate_active ON fact_person_birthdate (beneficiary_id) WHERE revoked_at IS NULL;
CREATE INDEX fact_person_birthdate_beneficiary ON fact_person_birthdate (beneficiary_id, created_at);
CREATE UNIQUE INDEX fact_person_birthdate_one_per_message ON fact_person_birthdate (message_id) WHERE replay_id IS NULL;
CREATE INDEX fact_person_birthdate_by_message ON fact_person_birthdate (message_id);

CREATE TABLE fact_disability_status (
    id              text COLLATE "C" NOT NULL PRIMARY KEY,
    beneficiary_id  text        NOT NULL,
    message_id      text COLLATE "C" NOT NULL,
    created_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_by      text COLLATE "C" REFERENCES fact_disability_status (id) DEFERRABLE INITIALLY DEFERRED,
    disabled        boolean     NOT NULL,
    medically_frail boolean     NOT NULL,
    replay_id       text        REFERENCES replay (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT fact_disability_status_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_disability_status_active ON fact_disability_status (beneficiary_id) WHERE revoked_at IS NULL;
CREATE INDEX fact_disability_status_beneficiary ON fact_disability_status (beneficiary_id, created_at);
CREATE UNIQUE INDEX fact_disability_status_one_per_message ON fact_disability_status (message_id) WHERE replay_id IS NULL;
CREATE INDEX fact_disability_status_by_message ON fact_disability_status (message_id);
