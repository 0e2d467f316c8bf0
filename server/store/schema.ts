import type { IndexableKeys, TableName, Tables } from './types.js';

/**
 * Which file group each table lives in, and how its rows are sharded. Groups split the
 * data by how it grows (people apart from the ledger, usage and audit), shards keep each
 * physical write small: a profile edit rewrites one small shard, never the ledger.
 */
export type GroupName = 'people' | 'ledger' | 'usage' | 'audit' | 'ops';

export interface TableDef<T> {
  group: GroupName;
  /** The value whose hash picks the shard; rows of one account stay together. */
  shardKey: (row: T) => string;
  indexes: IndexableKeys<T>[];
  unique: IndexableKeys<T>[];
}

type Defs = { [K in TableName]: TableDef<Tables[K]> };

const byAccount = (row: { accountId: string | null; id: string }) => row.accountId ?? row.id;

export const TABLE_DEFS: Defs = {
  accounts: { group: 'people', shardKey: (r) => r.id, indexes: ['email', 'status'], unique: ['email'] },
  sessions: { group: 'people', shardKey: byAccount, indexes: ['accountId'], unique: ['tokenHash'] },
  profiles: { group: 'people', shardKey: byAccount, indexes: ['accountId'], unique: [] },
  photos: { group: 'people', shardKey: byAccount, indexes: ['accountId', 'profileId'], unique: [] },
  consents: { group: 'people', shardKey: byAccount, indexes: ['accountId'], unique: [] },
  notices: { group: 'people', shardKey: byAccount, indexes: ['accountId'], unique: [] },
  passwordResets: { group: 'people', shardKey: byAccount, indexes: ['accountId'], unique: ['tokenHash'] },
  support: { group: 'people', shardKey: byAccount, indexes: ['accountId'], unique: [] },
  policies: { group: 'ops', shardKey: (r) => r.id, indexes: ['version'], unique: ['version'] },
  outbox: { group: 'ops', shardKey: (r) => r.id, indexes: ['accountId'], unique: [] },
  meta: { group: 'ops', shardKey: (r) => r.id, indexes: [], unique: [] },
  webhookEvents: { group: 'ledger', shardKey: (r) => r.id, indexes: [], unique: [] },
  ledger: { group: 'ledger', shardKey: byAccount, indexes: ['accountId', 'callId', 'kind'], unique: ['ref'] },
  payments: {
    group: 'ledger',
    shardKey: byAccount,
    indexes: ['accountId', 'paymentIntentId', 'chargeId'],
    unique: ['checkoutSessionId'],
  },
  calls: {
    group: 'usage',
    shardKey: byAccount,
    indexes: ['accountId', 'profileId', 'endedAt', 'ownerId'],
    unique: [],
  },
  logins: { group: 'usage', shardKey: byAccount, indexes: ['accountId'], unique: [] },
  audit: { group: 'audit', shardKey: (r) => r.id, indexes: ['subject'], unique: ['seq'] },
};

export const TABLE_NAMES = Object.keys(TABLE_DEFS) as TableName[];

/** Bump when a row shape changes; add a migration in migrations.ts. */
export const SCHEMA_VERSION = 2;
