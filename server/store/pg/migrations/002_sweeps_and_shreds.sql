-- Issue 14: several processes share one database. A data key destroyed by one process must be
-- cleared from the files (VACUUM FULL data_keys, a checkpoint) even when that process dies
-- before its own compaction: the destruction is recorded here in the same transaction, and
-- whichever process compacts next (or opens the store next) does it, then removes the rows.
CREATE TABLE pending_shreds (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now()
);

-- Issue 12 (a): retention sweeps are range queries on real columns, not scans. Fields swept that
-- had no column get one. Rows sealed before this migration have NULL there until the store
-- fills the columns in from their payloads at the next start (PgStore.open, once per column,
-- recorded in store_info as backfill:<table>.<column>).
ALTER TABLE sessions ADD COLUMN revoked_at double precision;
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
ALTER TABLE password_resets ADD COLUMN used_at double precision;
CREATE INDEX password_resets_used_at ON password_resets (used_at);
ALTER TABLE outbox ADD COLUMN created_at double precision;
CREATE INDEX outbox_created_at ON outbox (created_at);
ALTER TABLE ledger ADD COLUMN at double precision;
CREATE INDEX ledger_at ON ledger (at);
