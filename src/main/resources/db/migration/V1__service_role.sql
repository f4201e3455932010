-- Eligo's schema: the audit trail, enforced by PostgreSQL rather than promised by the code.
--
-- 1. Immutability: triggers refuse UPDATE of message content, of facts (except the one revocation,
--    NULL -> value, once), of determinations and their fact links, of ruleset versions and chain records;
--    DELETE and TRUNCATE of all of them.
-- 2. A restricted role, eligo_service, that the service's connections switch to (SET ROLE): it may
--    read and insert, update only the columns that legitimately move, and never delete or truncate.
--    Migrations run as the connecting user, the owner.
-- 3. Hash chains: every stored record (message, fact, revocation, determination) is appended to its
--    beneficiary's chain; each link's hash covers the record's canonical content and the previous
--    link's hash. One chain per beneficiary, so writers of different beneficiaries never wait for
--    each other; writers of one beneficiary are already serialised by its advisory lock.
--
-- Where things are, one concern a file:
--
--   V1__service_role.sql                   this overview; the role the service works as
--   V2__messages.sql                       messages as agencies sent them, and their idempotency keys
--   V3__facts_and_replays.sql              the typed facts derived from messages; replays
--   V4__rulesets_and_determinations.sql    rulesets as loaded; determinations made with them; their queue
--   V5__reruns.sql                         reruns of a set of beneficiaries, resumable
--   V6__audit_trail.sql                    hash chains, signed checkpoints, what retention removed
--   V7__access_log.sql                     who read or changed what, and about whom
--   R__10_coordination.sql                 per-beneficiary locks; waking the workers
--   R__20_guards.sql                       what a record may become (immutability), and what foreign
--                                          keys and unique constraints cannot hold across partitions
--   R__30_hash_chains.sql                  canonical forms, link hashes, chain appends, checkpoints
--   R__40_determinations.sql               determinations: canonical form, chaining at commit, fact links
--   R__50_partitions.sql                   monthly partitions and retention
--   R__90_tables.sql                       every table's traits (eligo_tables()), from which each
--                                          table's triggers and the service's grants are made
--
-- Versioned files (V<n>__*.sql) hold the tables, indexes, constraints and the role. Repeatable files
-- (R__*.sql) hold every function and trigger, each defined once in its current form, and the grants;
-- except a function that a stored generated column computes (eligo_determination_outcomes, V4), which
-- lives with its table: a new definition would not recompute the rows already stored.
--
-- The rules from here on:
-- * An applied versioned migration is never edited. A change to the tables is a new versioned
--   migration (V8__...), and it must work with the previous release still running (a rolling update
--   migrates while old pods serve): add columns and tables first, remove them a release later.
-- * Repeatable files may change. Flyway runs a repeatable file again, after the versioned ones,
--   whenever its checksum changes; repeatable files run in name order (R__10_ before R__20_ ...), and
--   only the changed ones. So every statement in them is idempotent (CREATE OR REPLACE FUNCTION,
--   CREATE OR REPLACE TRIGGER, grants), and a file may use what an earlier-named file defines.
-- * A new table: create it in a new versioned migration and add it to eligo_tables()
--   (R__90_tables.sql): its triggers and grants follow from its row there.
--
-- This baseline replaced the eleven-step history (V1 to V11) of earlier builds; a database made by
-- one of them is not upgraded: the service refuses to start on it (org.eligo.db.EarlierSchema) and
-- says what to delete.

-- ---------------------------------------------------------------------------------------------------
-- The restricted role the service works as. Its privileges: R__90_tables.sql (tables) and the files
-- defining the few functions it may call.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'eligo_service') THEN
        CREATE ROLE eligo_service NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'eligo_service', 'MEMBER') THEN
        EXECUTE format('GRANT eligo_service TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO eligo_service', current_schema());
END
$$;
