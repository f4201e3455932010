-- Retention never frees an idempotency key (issue 20). Before, dropping a month of messages deleted
-- their keys from message_key, so a message re-sent after its month was dropped was stored as new,
-- with a greater id, and superseded the correction that is active today. Now a key stays in
-- message_key for ever (R__90_tables.sql makes it a record: never updated or deleted), and when its
-- message is dropped, what is needed to answer a resubmission stays here: which message it was, its
-- status, and a digest of its content (never the content: retention is there to remove it). A
-- resubmission with the same content is answered 200 as a duplicate that says it was purged; other
-- content for the key, 409. Written by the retention function only (R__50_partitions.sql), as the
-- owner; read by org.eligo.ingest.Messages.
CREATE TABLE message_key_purged (
    source         text NOT NULL,
    external_id    text NOT NULL,
    message_id     text COLLATE "C" NOT NULL,
    status         text NOT NULL,
    content_sha256 bytea NOT NULL,
    purged_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (source, external_id)
);

-- A message's content as a resubmission is compared with it (IncomingMessage.sameContentAs): its
-- type, beneficiary, occurred_at (as an instant, written in UTC so the session's time zone cannot
-- change it) and data (as jsonb, whose text has one spelling per value: keys sorted, spaces fixed).
-- The same function digests the message being dropped and the one re-sent.
CREATE FUNCTION eligo_message_digest(type text, beneficiary_id text, occurred_at timestamptz, data jsonb) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(jsonb_build_array(type, beneficiary_id, to_jsonb(occurred_at AT TIME ZONE 'UTC'), data)::text, 'UTF8'))
$$;
