-- Issue 14: a live call has one owner process at a time, with a lease renewed by its
-- checkpoints. The owner is a real column so a process finds the calls it holds (a drain
-- hands them over); the lease itself lives in the sealed payload with the rest of the row.
-- Rows sealed before this migration have no owner in their payload: they read as owned by no
-- one with a long-expired lease (CALL_LEASE_DEFAULTS in server/store/migrations.ts), so the
-- first process to look takes such a call over or ends it.
ALTER TABLE calls ADD COLUMN owner_id text;
CREATE INDEX calls_owner_id ON calls (owner_id);
