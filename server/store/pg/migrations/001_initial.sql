-- 001: the first PostgreSQL schema of the Store (server/store/pg/tables.ts describes each table).
-- Every row: id, insertion order, the columns it is looked up, kept unique or swept by,
-- the data key that sealed it, and the row itself sealed with AES-256-GCM by the application.

CREATE TABLE accounts (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  email_hmac text,
  status text,
  purge_by double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE accounts ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX accounts_ord ON accounts (ord);
CREATE INDEX accounts_key_id ON accounts (key_id) WHERE key_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_email_hmac_unique ON accounts (email_hmac);
CREATE INDEX accounts_status ON accounts (status);
CREATE INDEX accounts_purge_by ON accounts (purge_by);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  token_hmac text,
  expires_at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE sessions ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX sessions_ord ON sessions (ord);
CREATE INDEX sessions_key_id ON sessions (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX sessions_account_id ON sessions (account_id);
CREATE UNIQUE INDEX sessions_token_hmac_unique ON sessions (token_hmac);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE profiles (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE profiles ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX profiles_ord ON profiles (ord);
CREATE INDEX profiles_key_id ON profiles (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX profiles_account_id ON profiles (account_id);

CREATE TABLE photos (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  profile_id text,
  expires_at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE photos ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX photos_ord ON photos (ord);
CREATE INDEX photos_key_id ON photos (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX photos_account_id ON photos (account_id);
CREATE INDEX photos_profile_id ON photos (profile_id);
CREATE INDEX photos_expires_at ON photos (expires_at);

CREATE TABLE consents (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE consents ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX consents_ord ON consents (ord);
CREATE INDEX consents_key_id ON consents (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX consents_account_id ON consents (account_id);

CREATE TABLE policies (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  version text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE policies ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX policies_ord ON policies (ord);
CREATE INDEX policies_key_id ON policies (key_id) WHERE key_id IS NOT NULL;
CREATE UNIQUE INDEX policies_version_unique ON policies (version);

CREATE TABLE notices (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE notices ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX notices_ord ON notices (ord);
CREATE INDEX notices_key_id ON notices (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX notices_account_id ON notices (account_id);

CREATE TABLE ledger (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  call_id text,
  kind text,
  ref text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE ledger ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX ledger_ord ON ledger (ord);
CREATE INDEX ledger_key_id ON ledger (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX ledger_account_id ON ledger (account_id);
CREATE INDEX ledger_call_id ON ledger (call_id);
CREATE INDEX ledger_kind ON ledger (kind);
CREATE UNIQUE INDEX ledger_ref_unique ON ledger (ref);

CREATE TABLE payments (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  payment_intent_id text,
  charge_id text,
  checkout_session_id text,
  status text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE payments ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX payments_ord ON payments (ord);
CREATE INDEX payments_key_id ON payments (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX payments_account_id ON payments (account_id);
CREATE INDEX payments_payment_intent_id ON payments (payment_intent_id);
CREATE INDEX payments_charge_id ON payments (charge_id);
CREATE UNIQUE INDEX payments_checkout_session_id_unique ON payments (checkout_session_id);
CREATE INDEX payments_status ON payments (status);

CREATE TABLE webhook_events (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  received_at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE webhook_events ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX webhook_events_ord ON webhook_events (ord);
CREATE INDEX webhook_events_key_id ON webhook_events (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);

CREATE TABLE calls (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  profile_id text,
  ended_at double precision,
  started_at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE calls ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX calls_ord ON calls (ord);
CREATE INDEX calls_key_id ON calls (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX calls_account_id ON calls (account_id);
CREATE INDEX calls_profile_id ON calls (profile_id);
CREATE INDEX calls_ended_at ON calls (ended_at);
CREATE INDEX calls_started_at ON calls (started_at);

CREATE TABLE logins (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE logins ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX logins_ord ON logins (ord);
CREATE INDEX logins_key_id ON logins (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX logins_account_id ON logins (account_id);
CREATE INDEX logins_at ON logins (at);

CREATE TABLE audit (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  seq double precision,
  subject text,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE audit ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX audit_ord ON audit (ord);
CREATE INDEX audit_key_id ON audit (key_id) WHERE key_id IS NOT NULL;
CREATE UNIQUE INDEX audit_seq_unique ON audit (seq);
CREATE INDEX audit_subject ON audit (subject);

CREATE TABLE outbox (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  sent_at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE outbox ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX outbox_ord ON outbox (ord);
CREATE INDEX outbox_key_id ON outbox (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX outbox_account_id ON outbox (account_id);
CREATE INDEX outbox_sent_at ON outbox (sent_at);

CREATE TABLE password_resets (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  token_hmac text,
  expires_at double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE password_resets ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX password_resets_ord ON password_resets (ord);
CREATE INDEX password_resets_key_id ON password_resets (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX password_resets_account_id ON password_resets (account_id);
CREATE UNIQUE INDEX password_resets_token_hmac_unique ON password_resets (token_hmac);
CREATE INDEX password_resets_expires_at ON password_resets (expires_at);

CREATE TABLE support (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  account_id text,
  delete_after double precision,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE support ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX support_ord ON support (ord);
CREATE INDEX support_key_id ON support (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX support_account_id ON support (account_id);
CREATE INDEX support_delete_after ON support (delete_after);

CREATE TABLE meta (
  id text PRIMARY KEY,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  key_id text,
  payload bytea NOT NULL
);
ALTER TABLE meta ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX meta_ord ON meta (ord);
CREATE INDEX meta_key_id ON meta (key_id) WHERE key_id IS NOT NULL;

-- Per-account, per-profile and per-row data keys, each wrapped with the store key. Deleting
-- a key row (crypto-shredding) makes every version of every row it sealed unreadable.
CREATE TABLE data_keys (
  id text PRIMARY KEY,
  scope text NOT NULL,
  wrapped bytea NOT NULL
);
CREATE UNIQUE INDEX data_keys_scope_unique ON data_keys (scope);

-- Photo bytes, each sealed with a key of its own (destroyed with the photo).
CREATE TABLE photo_blobs (
  id text PRIMARY KEY,
  key_id text NOT NULL,
  payload bytea NOT NULL
);
ALTER TABLE photo_blobs ALTER COLUMN payload SET STORAGE EXTERNAL;

-- A value sealed with the store key at creation: opening with another DATA_KEY is refused.
CREATE TABLE store_info (
  name text PRIMARY KEY,
  value bytea NOT NULL
);
