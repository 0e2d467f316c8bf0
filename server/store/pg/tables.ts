import type { TableName, Tables } from '../types.js';
import { CALL_LEASE_DEFAULTS } from '../migrations.js';

/**
 * How each Store table lies in PostgreSQL. Every row is one SQL row: `id`, an insertion
 * order `ord`, one real column per field that is looked up, unique, or swept (ids, account
 * ids, statuses, deadlines, references), and the whole row sealed with AES-256-GCM in
 * `payload` by the application. Columns never hold personal text: the email and token
 * hashes are columns only as keyed HMACs (blind indexes).
 */
/** Numbers are epoch milliseconds and counters: double precision holds every one exactly, fractions too. */
export type ColumnType = 'text' | 'number' | 'boolean';
const SQL_TYPE: Record<ColumnType, string> = { text: 'text', number: 'double precision', boolean: 'boolean' };

export interface ColumnDef {
  field: string;
  column: string;
  type: ColumnType;
  /** Stored as a keyed HMAC of the (normalized) value, never the value itself. */
  blind?: 'email' | 'token';
  unique?: boolean;
  /**
   * Added by a later migration: rows written before it have NULL here, and the store fills the
   * column in from each row's payload once, at the first start after the migration.
   */
  backfill?: boolean;
}

/**
 * Which data key seals a row. `account`/`profile`: one key per account or profile, destroyed
 * in the transaction that deletes that account or profile row (crypto-shredding: every old
 * version of every row sealed with it, in dead tuples or WAL, is unreadable from then on).
 * `row`: a key of the row's own, replaced by a new one on every update and destroyed on
 * delete, for rows whose earlier versions must not outlive a change (a mail's reset link).
 * null: the store key (rows with no personal data: ids, amounts, times).
 */
export type KeyScope = { kind: 'account' | 'profile'; id: string } | { kind: 'row' } | null;

export interface PgTableDef<T> {
  sql: string;
  columns: ColumnDef[];
  keyScope: (row: T) => KeyScope;
  /** Deleting this row destroys this key scope (the row's own account/profile key). */
  destroys?: (row: T) => KeyScope;
  /**
   * The payload side of a migration: SQL cannot reach inside a sealed payload, so a row sealed
   * before a field existed gets the field's default here, when it is read.
   */
  upgrade?: (row: T) => T;
}

type Defs = { [K in TableName]: PgTableDef<Tables[K]> };

const text = (field: string, column: string, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  field,
  column,
  type: 'text',
  ...extra,
});
const big = (field: string, column: string, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  field,
  column,
  type: 'number',
  ...extra,
});
const accountId = text('accountId', 'account_id');
const master = (): KeyScope => null;
const ofAccount = (r: { accountId: string | null }): KeyScope =>
  r.accountId ? { kind: 'account', id: r.accountId } : null;

export const PG_TABLES: Defs = {
  accounts: {
    sql: 'accounts',
    columns: [
      text('email', 'email_hmac', { blind: 'email', unique: true }),
      text('status', 'status'),
      big('purgeBy', 'purge_by'),
    ],
    keyScope: (r) => ({ kind: 'account', id: r.id }),
    destroys: (r) => ({ kind: 'account', id: r.id }),
  },
  sessions: {
    sql: 'sessions',
    columns: [
      accountId,
      text('tokenHash', 'token_hmac', { blind: 'token', unique: true }),
      big('expiresAt', 'expires_at'),
      big('revokedAt', 'revoked_at', { backfill: true }),
    ],
    keyScope: master,
  },
  profiles: {
    sql: 'profiles',
    columns: [accountId],
    keyScope: (r) => ({ kind: 'profile', id: r.id }),
    destroys: (r) => ({ kind: 'profile', id: r.id }),
  },
  photos: {
    sql: 'photos',
    columns: [accountId, text('profileId', 'profile_id'), big('expiresAt', 'expires_at')],
    keyScope: (r) => (r.profileId ? { kind: 'profile', id: r.profileId } : { kind: 'account', id: r.accountId }),
  },
  consents: { sql: 'consents', columns: [accountId], keyScope: master },
  policies: { sql: 'policies', columns: [text('version', 'version', { unique: true })], keyScope: master },
  notices: { sql: 'notices', columns: [accountId], keyScope: master },
  ledger: {
    sql: 'ledger',
    columns: [
      accountId,
      text('callId', 'call_id'),
      text('kind', 'kind'),
      text('ref', 'ref', { unique: true }),
      big('at', 'at', { backfill: true }),
    ],
    // A grant's note is an admin's words about the person: sealed with the account's key.
    keyScope: ofAccount,
  },
  payments: {
    sql: 'payments',
    columns: [
      accountId,
      text('paymentIntentId', 'payment_intent_id'),
      text('chargeId', 'charge_id'),
      text('checkoutSessionId', 'checkout_session_id', { unique: true }),
      text('status', 'status'),
    ],
    keyScope: master,
  },
  webhookEvents: { sql: 'webhook_events', columns: [big('receivedAt', 'received_at')], keyScope: master },
  calls: {
    sql: 'calls',
    columns: [
      accountId,
      text('profileId', 'profile_id'),
      big('endedAt', 'ended_at'),
      big('startedAt', 'started_at'),
      text('ownerId', 'owner_id'),
    ],
    keyScope: master,
    // Migration 003: calls sealed before it have no owner or lease.
    upgrade: (row) => ({ ...CALL_LEASE_DEFAULTS, ...row }),
  },
  logins: { sql: 'logins', columns: [accountId, big('at', 'at')], keyScope: master },
  audit: { sql: 'audit', columns: [big('seq', 'seq', { unique: true }), text('subject', 'subject')], keyScope: master },
  outbox: {
    sql: 'outbox',
    columns: [accountId, big('sentAt', 'sent_at'), big('createdAt', 'created_at', { backfill: true })],
    keyScope: () => ({ kind: 'row' }),
  },
  passwordResets: {
    sql: 'password_resets',
    columns: [
      accountId,
      text('tokenHash', 'token_hmac', { blind: 'token', unique: true }),
      big('expiresAt', 'expires_at'),
      big('usedAt', 'used_at', { backfill: true }),
    ],
    keyScope: () => ({ kind: 'row' }),
  },
  support: { sql: 'support', columns: [accountId, big('deleteAfter', 'delete_after')], keyScope: ofAccount },
  meta: { sql: 'meta', columns: [], keyScope: master },
};

/** The SQL that creates one table of PG_TABLES (used once, to write migration 001). */
export function createTableSql(def: PgTableDef<unknown>): string {
  const cols = [
    '  id text PRIMARY KEY',
    '  ord bigint GENERATED ALWAYS AS IDENTITY',
    ...def.columns.map((c) => `  ${c.column} ${SQL_TYPE[c.type]}`),
    '  key_id text',
    '  payload bytea NOT NULL',
  ];
  const lines = [
    `CREATE TABLE ${def.sql} (\n${cols.join(',\n')}\n);`,
    `ALTER TABLE ${def.sql} ALTER COLUMN payload SET STORAGE EXTERNAL;`,
  ];
  lines.push(`CREATE UNIQUE INDEX ${def.sql}_ord ON ${def.sql} (ord);`);
  lines.push(`CREATE INDEX ${def.sql}_key_id ON ${def.sql} (key_id) WHERE key_id IS NOT NULL;`);
  for (const c of def.columns) {
    lines.push(
      c.unique
        ? `CREATE UNIQUE INDEX ${def.sql}_${c.column}_unique ON ${def.sql} (${c.column});`
        : `CREATE INDEX ${def.sql}_${c.column} ON ${def.sql} (${c.column});`,
    );
  }
  return lines.join('\n');
}
