-- The per-beneficiary hash chains that were defined here were replaced by the ledger (issue 17):
-- V8__ledger.sql and V9__ledger_replaces_chains.sql, which dropped their functions, triggers and
-- tables. This file stays, empty, because Flyway remembers that it was applied and would refuse to
-- start on a database where it is missing.
-- (Repeatable: runs again whenever this file changes; it does nothing.)
SELECT 1;
