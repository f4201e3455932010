-- Ruleset history, so that "what would we have decided at T" uses the rules in force at T; and
-- replays, which re-derive facts from stored messages after a parser fix.

-- The files of each loaded version, so an older version can be evaluated again. Versions recorded
-- before this migration have none (they stay identifiable by their sha256).
ALTER TABLE ruleset_version ADD COLUMN files jsonb;

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
CREATE TRIGGER ruleset_activation_immutable BEFORE UPDATE OR DELETE ON ruleset_activation FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER ruleset_activation_no_truncate BEFORE TRUNCATE ON ruleset_activation FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();

-- A replay: who asked, for what, and what it changed. Written once, when it finishes.
CREATE TABLE replay (
    id           text        PRIMARY KEY,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    scope        jsonb       NOT NULL,
    reason       text,
    dry_run      boolean     NOT NULL,
    summary      jsonb       NOT NULL
);
CREATE TRIGGER replay_immutable BEFORE UPDATE OR DELETE ON replay FOR EACH ROW EXECUTE FUNCTION eligo_refuse_change();
CREATE TRIGGER replay_no_truncate BEFORE TRUNCATE ON replay FOR EACH STATEMENT EXECUTE FUNCTION eligo_refuse_change();

-- A replay re-derives a fact from the same message: several facts may now come from one message,
-- at most one of them from ordinary processing (replay_id NULL), so processing a message twice
-- still cannot make a second fact. Chained content drops nulls, so older facts' hashes still hold.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['fact_income_monthly', 'fact_person_birthdate', 'fact_disability_status'] LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN replay_id text REFERENCES replay (id) DEFERRABLE INITIALLY DEFERRED', t);
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_one_per_message');
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (message_id) WHERE replay_id IS NULL', t || '_one_per_message', t);
        EXECUTE format('CREATE INDEX %I ON %I (message_id)', t || '_by_message', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT ON ruleset_activation, replay TO eligo_service;
