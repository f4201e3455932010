-- Messages as agencies sent them, and the typed facts derived from them.
--
-- A message row is kept forever. Its content columns never change; only its processing state
-- (status, attempts, last_error, next_attempt_at, processed_at) moves, under the row lock the
-- worker holds while it turns the message into a fact.

CREATE TABLE message (
    id              text        PRIMARY KEY CHECK (id ~ '^msg_[0-9A-HJKMNP-TV-Z]{26}$'),
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
    -- The idempotency key: resubmitting (source, external_id) never stores a second message.
    CONSTRAINT message_idempotency_key UNIQUE (source, external_id)
);

-- The work queue is the set of RECEIVED messages, claimed oldest id first. The partial index holds
-- only the backlog, so claiming stays cheap however many processed messages the table keeps.
CREATE INDEX message_backlog ON message (id) WHERE status = 'RECEIVED';
CREATE INDEX message_beneficiary ON message (beneficiary_id, id);

-- One table per fact type, with typed columns named like the fields of the message data.
-- For each key at most one fact is active (revoked_at IS NULL); a partial unique index enforces it.
-- A revoked fact names the fact that superseded it. Revocation happens once: NULL -> value.

CREATE TABLE fact_income_monthly (
    id             text        PRIMARY KEY,
    beneficiary_id text        NOT NULL,
    message_id     text        NOT NULL REFERENCES message (id),
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_by     text        REFERENCES fact_income_monthly (id) DEFERRABLE INITIALLY DEFERRED,
    year           integer     NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    month          integer     NOT NULL CHECK (month BETWEEN 1 AND 12),
    amount_cents   bigint      NOT NULL CHECK (amount_cents BETWEEN 0 AND 1000000000000),
    hours          numeric     CHECK (hours BETWEEN 0 AND 744),
    employers      integer     CHECK (employers >= 0),
    CONSTRAINT fact_income_monthly_one_per_message UNIQUE (message_id),
    CONSTRAINT fact_income_monthly_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_income_monthly_active ON fact_income_monthly (beneficiary_id, year, month) WHERE revoked_at IS NULL;
CREATE INDEX fact_income_monthly_beneficiary ON fact_income_monthly (beneficiary_id, created_at);

CREATE TABLE fact_person_birthdate (
    id             text        PRIMARY KEY,
    beneficiary_id text        NOT NULL,
    message_id     text        NOT NULL REFERENCES message (id),
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_by     text        REFERENCES fact_person_birthdate (id) DEFERRABLE INITIALLY DEFERRED,
    birth_date     date        NOT NULL,
    CONSTRAINT fact_person_birthdate_one_per_message UNIQUE (message_id),
    CONSTRAINT fact_person_birthdate_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_person_birthdate_active ON fact_person_birthdate (beneficiary_id) WHERE revoked_at IS NULL;
CREATE INDEX fact_person_birthdate_beneficiary ON fact_person_birthdate (beneficiary_id, created_at);

CREATE TABLE fact_disability_status (
    id              text        PRIMARY KEY,
    beneficiary_id  text        NOT NULL,
    message_id      text        NOT NULL REFERENCES message (id),
    created_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_by      text        REFERENCES fact_disability_status (id) DEFERRABLE INITIALLY DEFERRED,
    disabled        boolean     NOT NULL,
    medically_frail boolean     NOT NULL,
    CONSTRAINT fact_disability_status_one_per_message UNIQUE (message_id),
    CONSTRAINT fact_disability_status_revocation CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX fact_disability_status_active ON fact_disability_status (beneficiary_id) WHERE revoked_at IS NULL;
CREATE INDEX fact_disability_status_beneficiary ON fact_disability_status (beneficiary_id, created_at);

-- Serialises all fact writers of the same beneficiaries: transaction-scoped advisory locks, taken in
-- ascending hash order so that two transactions locking overlapping sets wait for each other instead
-- of deadlocking. The first key (0x456C, "El") keeps these locks apart from any other advisory lock.
-- Returns clock_timestamp() read after the locks are held: any earlier writer of these beneficiaries
-- has committed by then, so fact timestamps for one key only move forward.
CREATE FUNCTION eligo_lock_beneficiaries(beneficiary_ids text[]) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    h integer;
BEGIN
    FOR h IN SELECT DISTINCT hashtext(b) FROM unnest(beneficiary_ids) AS b ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(17772, h);
    END LOOP;
    RETURN clock_timestamp();
END
$$;

-- Wakes idle workers (in every service instance) when messages arrive. NOTIFY is delivered at
-- commit and collapsed per transaction, so a batch insert sends one notification.
CREATE FUNCTION eligo_notify_message_received() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eligo_message_received', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER message_received AFTER INSERT ON message
    FOR EACH STATEMENT EXECUTE FUNCTION eligo_notify_message_received();
