import type { TableName } from './types.js';

/** Raw rows per table as read from disk, before they are indexed. */
export type RawTables = Map<TableName, Record<string, unknown>[]>;

/**
 * A migration moves the data from version `to - 1` to `to`. They run at open, in order,
 * on the decrypted rows, before anything is indexed or written; the migrated data is then
 * written back through the same atomic, encrypted path.
 */
export interface Migration {
  to: number;
  up(tables: RawTables): void;
}

// Version 1 is the first shape; later versions append their migrations here.
export const MIGRATIONS: Migration[] = [
  {
    // Calls get an owner process and its lease (issue 14). A call open from before had no lease:
    // 0 is long expired, so the first process to look takes it over or ends it.
    to: 2,
    up(tables) {
      for (const row of tables.get('calls') ?? []) Object.assign(row, { ...CALL_LEASE_DEFAULTS, ...row });
    },
  },
];

/** What a call row from before version 2 (lowdb) or migration 003 (PostgreSQL) reads as. */
export const CALL_LEASE_DEFAULTS = {
  ownerId: null,
  leaseUntil: 0,
  limitReason: null,
  endRequest: null,
  window: null,
} as const;
