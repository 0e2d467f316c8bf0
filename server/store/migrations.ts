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
export const MIGRATIONS: Migration[] = [];
