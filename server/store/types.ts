import type * as R from './rows.js';

export * from './rows.js';

/** Every entity the store holds, by table name. */
export interface Tables {
  accounts: R.AccountRow;
  sessions: R.SessionRow;
  profiles: R.ProfileRow;
  photos: R.PhotoRow;
  consents: R.ConsentRow;
  policies: R.PolicyRow;
  notices: R.NoticeRow;
  ledger: R.LedgerRow;
  payments: R.PaymentRow;
  webhookEvents: R.WebhookEventRow;
  calls: R.CallRow;
  logins: R.LoginRow;
  audit: R.AuditRow;
  outbox: R.OutboxRow;
  passwordResets: R.PasswordResetRow;
  support: R.SupportRow;
  meta: R.KeyValueRow;
}
export type TableName = keyof Tables;

/** Primitive values a field can be looked up by. */
export type IndexValue = string | number | boolean | null;

export type IndexableKeys<T> = { [K in keyof T]-?: T[K] extends IndexValue ? K : never }[keyof T] & string;

/** Numeric fields (times, deadlines) a range query can bound. */
export type RangeKeys<T> = { [K in keyof T]-?: T[K] extends number | null ? K : never }[keyof T] & string;

export interface RangeOptions<T> {
  /** At most this many rows (default: all). */
  limit?: number;
  /** The last row of the previous batch: the query goes on after it (keyset pagination). */
  after?: T;
}

export interface Table<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  /** Rows whose indexed field equals value. */
  findBy<K extends IndexableKeys<T>>(field: K, value: T[K]): Promise<T[]>;
  findOne<K extends IndexableKeys<T>>(field: K, value: T[K]): Promise<T | undefined>;
  /**
   * Rows whose numeric field is at most `max` (a null never matches), ordered by that field,
   * then id. For sweeps over deadlines and times: on PostgreSQL an indexed range query, so a
   * sweep reads what is due, not the whole table. Batched with `limit` and `after`.
   */
  findUpTo<K extends RangeKeys<T>>(field: K, max: number, opts?: RangeOptions<T>): Promise<T[]>;
  /** Every row, in batches, for sweeps and counts; yields to the event loop between batches. */
  scan(batchSize?: number): AsyncIterable<T[]>;
  count(): Promise<number>;
  /** Fails with StoreConflictError on a duplicate id or unique field. */
  insert(row: T): Promise<T>;
  /**
   * Conditional append: inserts only if `condition` holds over the rows that share the
   * scope field's value, decided atomically with the insert. Returns null when refused.
   * This is how a credit hold can never push available credit below zero, even when
   * two calls start at the same instant (PostgreSQL: SELECT … FOR UPDATE in one tx).
   */
  insertIf<K extends IndexableKeys<T>>(
    row: T,
    scope: { field: K; value: T[K] },
    condition: (rowsInScope: T[]) => boolean,
  ): Promise<T | null>;
  /** Patch a row; with `if`, only when the current row passes. Returns the new row, or undefined. */
  update(id: string, patch: Partial<Omit<T, 'id'>>, opts?: { if?: (current: T) => boolean }): Promise<T | undefined>;
  remove(id: string): Promise<boolean>;
}

export interface BlobStore {
  put(id: string, bytes: Buffer): Promise<void>;
  get(id: string): Promise<Buffer | undefined>;
  remove(id: string): Promise<boolean>;
  list(): Promise<string[]>;
}

export type StoreKind = 'lowdb' | 'postgres';

/** A named lock held across every process that shares the store (Store.lock). */
export interface StoreLock {
  /**
   * Aborted when the lock is lost while held (PostgreSQL: the connection that held it broke),
   * so work done under it stops at its next step instead of running beside a new holder.
   */
  readonly lost: AbortSignal;
  /** Lets the next holder in; a second call does nothing. */
  release(): Promise<void>;
}

export type StoreTables = { readonly [K in TableName]: Table<Tables[K]> };

export interface Store extends StoreTables {
  readonly photoFiles: BlobStore;
  /** Resolve once every change made so far is on disk (group commit: many changes, one write). */
  flush(): Promise<void>;
  /**
   * Resolve once every row removed before the call is in no file under DATA_DIR: committed,
   * and the journal records that still held the old rows folded into the shards and deleted.
   * Deletions that promise "gone at once" (P9, P10 purge) await this.
   */
  compact(): Promise<void>;
  /**
   * Runs fn with tables whose writes land together or not at all: one transaction on
   * PostgreSQL; on lowdb, writes made without waiting on anything but the store itself land in
   * the same commit (they are applied when called, and a commit only starts from a timer or an
   * explicit flush). fn must not wait on anything else (no I/O, no timers).
   */
  atomically<R>(fn: (tables: StoreTables) => Promise<R>): Promise<R>;
  /**
   * Takes the lock `name`, one holder at a time across every process on this store (and
   * within this process): on PostgreSQL a session advisory lock on a connection kept for
   * locks, so a process that dies or loses its connection loses the lock with it; on lowdb,
   * which only one process opens (its LOCK file), an in-process lock. Without `wait`, null at
   * once when another holder has it; with `wait`, resolves when it is free. Not re-entrant.
   */
  lock(name: string, opts?: { wait?: boolean }): Promise<StoreLock | null>;
  /** Health for /healthz: which store, open, last flush, last error. */
  status(): {
    kind: StoreKind;
    ok: boolean;
    lastFlushAt: number | null;
    lastError: string | null;
    pendingWrites: number;
  };
  /** A round trip to the database for /healthz: null when it answers, else why not (stores without a server have none). */
  probe?(): Promise<string | null>;
  close(): Promise<void>;
}
