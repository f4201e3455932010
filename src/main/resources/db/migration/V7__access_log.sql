-- Who read or changed what, and about whom: one row per API request, append-only.
-- The service role may insert and read, never update or delete (triggers stop even the owner
-- without first dropping them, which a migration would show). Rows are not part of the hash chains:
-- the log records access, not decisions, and a request's row is written after its work.
CREATE TABLE access_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id      text NOT NULL,
    subject         text NOT NULL,
    roles           text[] NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    status          integer NOT NULL,
    beneficiary_ids text[] NOT NULL DEFAULT '{}',
    traceparent     text
);
CREATE INDEX access_log_beneficiaries ON access_log USING gin (beneficiary_ids);
CREATE INDEX access_log_subject ON access_log (subject, id);
