import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import pg from 'pg';
import type {
  BlobStore,
  IndexableKeys,
  RangeKeys,
  RangeOptions,
  Store,
  StoreLock,
  StoreTables,
  Table,
  TableName,
  Tables,
} from './types.js';
import { PgLocks } from './pg/locks.js';
import { TABLE_NAMES } from './schema.js';
import { PG_TABLES, type ColumnDef, type KeyScope, type PgTableDef } from './pg/tables.js';
import { migrate, migrationFiles, type MigrateResult } from './pg/migrate.js';
import { cloneData } from './mem-table.js';
import { dataKeyFrom, decrypt, encrypt } from './crypto.js';
import { StoreConflictError, StoreOpenError } from './errors.js';
import { systemClock, type Clock } from '../core/clock.js';

export interface PgStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** DATA_KEY: every sealed value and every wrapped data key depends on it. */
  dataKey: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Reads the time of the last completed write (shown by /healthz); default: the system clock. */
  clock?: Pick<Clock, 'now'>;
  /** The longest a destroyed data key waits for the compaction that clears it (default SHRED_COMPACT_MS). */
  shredCompactMs?: number;
}

type Row = { id: string };
type Db = pg.Pool | pg.PoolClient;
type SqlRow = { id: string; key_id: string | null; payload: Buffer };

/**
 * Associated data of every sealed value: fixed per kind of value (the row's own id is inside and
 * checked on open), so whoever holds DATA_KEY can test any sealed bytes found in a file: that is
 * how the data-directory scan test looks for anything still readable.
 */
export const WRAP_CONTEXT = 'call-santa/pg/data-key';
export const BLOB_CONTEXT = 'call-santa/pg/blob';
export const rowContext = (table: TableName): string => `row:${table}`;
const KEY_CHECK = 'key-check';
/** The advisory lock under which a start fills in columns a migration added ('csbf'). */
const BACKFILL_LOCK = 0x63_73_62_66;
/** The longest a destroyed data key waits for the compact() that clears it from the files. */
export const SHRED_COMPACT_MS = 1000;
const KEY_CHECK_TEXT = 'call-santa postgres store';
/** Tables whose rows can be sealed with a per-account/profile/row key. */
const KEYED_TABLES = TABLE_NAMES.filter((t) => {
  const scope = PG_TABLES[t].keyScope as (r: unknown) => KeyScope;
  // A probe row: a table whose scope is always null for it never uses a data key.
  return scope({ id: 'probe', accountId: 'probe', profileId: 'probe' }) !== null;
});

const sqlName = (t: TableName): string => PG_TABLES[t].sql;

/** The store key, the data-key wrapping key and the blind-index key, all derived from DATA_KEY. */
class Keys {
  readonly seal: Buffer;
  readonly wrap: Buffer;
  private readonly index: Buffer;
  /** Unwrapped data keys by their id: ids are random and never reused, so an entry never goes stale. */
  private readonly cache = new Map<string, Buffer>();

  constructor(master: Buffer) {
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
    this.seal = derive('call-santa/pg/seal');
    this.wrap = derive('call-santa/pg/wrap');
    this.index = derive('call-santa/pg/blind-index');
  }

  /** A keyed HMAC (blind index): the column can be matched, never read. Emails are matched case- and space-insensitively. */
  blind(kind: 'email' | 'token', value: string): string {
    const normal = kind === 'email' ? value.normalize('NFC').trim().toLowerCase() : value;
    return createHmac('sha256', this.index).update(`${kind}:${normal}`).digest('hex');
  }

  /** A new data key: its id, the key, and the key wrapped with the store key (the wrapped form carries its id). */
  fresh(): { id: string; key: Buffer; wrapped: Buffer } {
    const id = randomBytes(12).toString('hex');
    const key = randomBytes(32);
    const wrapped = encrypt(this.wrap, Buffer.concat([key, Buffer.from(id)]), WRAP_CONTEXT);
    this.cache.set(id, key);
    return { id, key, wrapped };
  }

  unwrap(id: string, wrapped: Buffer): Buffer {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const plain = decrypt(this.wrap, wrapped, WRAP_CONTEXT);
    if (plain.subarray(32).toString() !== id) throw new Error(`data key ${id} does not carry its own id`);
    const key = plain.subarray(0, 32);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(id, key);
    return key;
  }

  cached(id: string): Buffer | undefined {
    return this.cache.get(id);
  }

  forget(id: string): void {
    this.cache.delete(id);
  }
}

/**
 * A string as a text column holds it. PostgreSQL text cannot hold U+0000, which a lookup can
 * carry (a path segment `%00`); such a value is stored and looked up as a hash, so every
 * string keeps one column value and the lookup answers "no such row" instead of failing.
 */
export function sqlText(value: string): string {
  return value.includes('\u0000') ? `nul:${createHash('sha256').update(value).digest('hex')}` : value;
}

/** The store key and the data-key wrapping key that DATA_KEY gives: for tests that read raw database files. */
export function pgStoreKeys(dataKey: string): { seal: Buffer; wrap: Buffer } {
  const k = new Keys(dataKeyFrom(dataKey));
  return { seal: k.seal, wrap: k.wrap };
}

/** One transaction-scoped advisory lock per (table, field, value): 64 bits of a SHA-256. */
/** fn inside BEGIN/COMMIT on a connection of its own; any error rolls it back and is rethrown. */
async function inTransaction<R>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<R>): Promise<R> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

function scopeLockId(table: string, field: string, value: unknown): string {
  return createHash('sha256')
    .update(`${table}\u0000${field}\u0000${JSON.stringify(value)}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

function isUniqueViolation(err: unknown): err is { code: string; constraint?: string } {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/** What a transaction shares between the operations inside it. */
interface Shared {
  keys: Keys;
  pool: pg.Pool;
  /**
   * Called in the transaction that destroyed a data key: records it in the database (any
   * process's compact() then clears it from the files, and a process that opens the store
   * finishes one a dead process left pending) and schedules this process's compaction.
   */
  onShred(c: pg.PoolClient): Promise<void>;
}

/**
 * A Table in PostgreSQL. Reads are single statements; every write that reads first (update,
 * insertIf, a delete that destroys a key) is one transaction, so a check and the write it
 * guards are decided together, on however many connections and processes.
 */
class PgTable<T extends Row> implements Table<T> {
  private readonly def: PgTableDef<T>;
  private readonly table: string;
  private readonly byField: Map<string, ColumnDef>;

  constructor(
    private readonly name: TableName,
    private readonly shared: Shared,
    /** Set when the table belongs to one transaction (Store.atomically). */
    private readonly tx: pg.PoolClient | null,
  ) {
    this.def = PG_TABLES[name] as unknown as PgTableDef<T>;
    this.table = this.def.sql;
    this.byField = new Map(this.def.columns.map((c) => [c.field, c]));
  }

  private get db(): Db {
    return this.tx ?? this.shared.pool;
  }

  /** Runs fn in a transaction: the enclosing one, or a new one on a connection of its own. */
  private async inTx<R>(fn: (c: pg.PoolClient) => Promise<R>): Promise<R> {
    return this.tx ? fn(this.tx) : inTransaction(this.shared.pool, fn);
  }

  private columnValue(c: ColumnDef, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    if (c.blind) return this.shared.keys.blind(c.blind, String(value));
    return typeof value === 'string' ? sqlText(value) : value;
  }

  private async open(db: Db, rows: SqlRow[]): Promise<T[]> {
    const missing = [
      ...new Set(rows.map((r) => r.key_id).filter((k): k is string => k !== null && !this.shared.keys.cached(k))),
    ];
    if (missing.length) {
      const found = await db.query<{ id: string; wrapped: Buffer }>(
        'SELECT id, wrapped FROM data_keys WHERE id = ANY($1)',
        [missing],
      );
      for (const k of found.rows) this.shared.keys.unwrap(k.id, k.wrapped);
    }
    return rows.map((r) => {
      const key = r.key_id === null ? this.shared.keys.seal : this.shared.keys.cached(r.key_id);
      if (!key) throw new Error(`${this.name} row ${r.id}: its data key is gone`);
      const row = JSON.parse(decrypt(key, r.payload, rowContext(this.name)).toString('utf8')) as T;
      if (sqlText(row.id) !== r.id) throw new Error(`${this.name} row ${r.id}: sealed payload belongs to another row`);
      return this.def.upgrade ? this.def.upgrade(row) : row;
    });
  }

  /** The key that seals `row` now; a row-scoped key is new on every write and the old one destroyed. */
  private async keyFor(c: pg.PoolClient, row: T): Promise<{ id: string | null; key: Buffer }> {
    const scope = this.def.keyScope(row);
    if (scope === null) return { id: null, key: this.shared.keys.seal };
    if (scope.kind === 'row') {
      const name = `row:${this.name}:${row.id}`;
      await this.destroyScope(c, name, row.id);
      const k = this.shared.keys.fresh();
      await c.query('INSERT INTO data_keys (id, scope, wrapped) VALUES ($1, $2, $3)', [k.id, sqlText(name), k.wrapped]);
      return k;
    }
    const name = `${scope.kind}:${scope.id}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      // KEY SHARE: a delete of this key (the account's purge) waits until this write commits,
      // and then finds the row this write sealed with it among the survivors it re-seals.
      const found = await c.query<{ id: string; wrapped: Buffer }>(
        'SELECT id, wrapped FROM data_keys WHERE scope = $1 FOR KEY SHARE',
        [sqlText(name)],
      );
      const existing = found.rows[0];
      if (existing) return { id: existing.id, key: this.shared.keys.unwrap(existing.id, existing.wrapped) };
      const k = this.shared.keys.fresh();
      const made = await c.query(
        'INSERT INTO data_keys (id, scope, wrapped) VALUES ($1, $2, $3) ON CONFLICT (scope) DO NOTHING',
        [k.id, sqlText(name), k.wrapped],
      );
      if (made.rowCount === 1) return k;
    }
    throw new Error(`could not create the data key for ${name}`);
  }

  /**
   * Crypto-shredding: the key row goes, in this transaction. Any row still sealed with it that
   * is meant to outlive it (none should) is first re-sealed with the store key, so nothing the
   * services keep becomes unreadable.
   */
  private async destroyScope(c: pg.PoolClient, scope: string, except?: string): Promise<void> {
    const gone = await c.query<{ id: string; wrapped: Buffer }>(
      'DELETE FROM data_keys WHERE scope = $1 RETURNING id, wrapped',
      [sqlText(scope)],
    );
    for (const k of gone.rows) {
      const key = this.shared.keys.unwrap(k.id, k.wrapped);
      for (const t of KEYED_TABLES) {
        const left = await c.query<SqlRow>(
          `SELECT id, key_id, payload FROM ${sqlName(t)} WHERE key_id = $1 FOR UPDATE`,
          [k.id],
        );
        for (const r of left.rows) {
          if (t === this.name && r.id === except) continue; // the row being re-sealed with its next key
          const plain = decrypt(key, r.payload, rowContext(t));
          await c.query(`UPDATE ${sqlName(t)} SET key_id = NULL, payload = $2 WHERE id = $1`, [
            r.id,
            encrypt(this.shared.keys.seal, plain, rowContext(t)),
          ]);
        }
      }
      this.shared.keys.forget(k.id);
    }
    if (gone.rows.length) await this.shared.onShred(c);
  }

  private conflict(err: unknown): never {
    if (isUniqueViolation(err)) {
      const constraint = err.constraint ?? '';
      const col = this.def.columns.find((c) => constraint === `${this.table}_${c.column}_unique`);
      throw new StoreConflictError(this.name, col ? col.field : 'id');
    }
    throw err;
  }

  private columnsOf(row: T): unknown[] {
    return this.def.columns.map((c) => this.columnValue(c, (row as Record<string, unknown>)[c.field]));
  }

  private async write(
    c: Db,
    row: T,
    key: { id: string | null; key: Buffer },
    mode: 'insert' | 'update',
  ): Promise<void> {
    const payload = encrypt(key.key, Buffer.from(JSON.stringify(row)), rowContext(this.name));
    const cols = this.def.columns.map((d) => d.column);
    const values = [sqlText(row.id), ...this.columnsOf(row), key.id, payload];
    try {
      if (mode === 'insert') {
        const names = ['id', ...cols, 'key_id', 'payload'];
        await c.query(
          `INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
          values,
        );
      } else {
        const sets = [...cols, 'key_id', 'payload'].map((n, i) => `${n} = $${i + 2}`);
        await c.query(`UPDATE ${this.table} SET ${sets.join(', ')} WHERE id = $1`, values);
      }
    } catch (err) {
      this.conflict(err);
    }
  }

  async get(id: string): Promise<T | undefined> {
    const r = await this.db.query<SqlRow>(`SELECT id, key_id, payload FROM ${this.table} WHERE id = $1`, [sqlText(id)]);
    return (await this.open(this.db, r.rows))[0];
  }

  private async select(db: Db, field: string, value: unknown, lock = ''): Promise<T[]> {
    if (field === 'id') {
      const r = await db.query<SqlRow>(`SELECT id, key_id, payload FROM ${this.table} WHERE id = $1 ${lock}`, [
        sqlText(String(value)),
      ]);
      return this.open(db, r.rows);
    }
    const col = this.byField.get(field);
    if (!col) {
      // Unindexed lookups are allowed but read the whole table; keep them off hot paths (as on lowdb).
      const out: T[] = [];
      for await (const batch of this.scanOn(db, 500))
        for (const row of batch) if ((row as Record<string, unknown>)[field] === value) out.push(row);
      return out;
    }
    const v = this.columnValue(col, value);
    const r =
      v === null
        ? await db.query<SqlRow>(
            `SELECT id, key_id, payload FROM ${this.table} WHERE ${col.column} IS NULL ORDER BY ord ${lock}`,
          )
        : await db.query<SqlRow>(
            `SELECT id, key_id, payload FROM ${this.table} WHERE ${col.column} = $1 ORDER BY ord ${lock}`,
            [v],
          );
    const rows = await this.open(db, r.rows);
    // A blind index matches a normalized email; the row answers only for its exact value, as on lowdb.
    return col.blind ? rows.filter((row) => (row as Record<string, unknown>)[field] === value) : rows;
  }

  async findBy<K extends IndexableKeys<T>>(field: K, value: T[K]): Promise<T[]> {
    return this.select(this.db, field, value);
  }

  async findOne<K extends IndexableKeys<T>>(field: K, value: T[K]): Promise<T | undefined> {
    return (await this.select(this.db, field, value))[0];
  }

  /**
   * Fills the columns a later migration added (`backfill` in pg/tables.ts) from each row's
   * payload: rows written before the migration have NULL there, and a range query would miss them.
   */
  async backfill(c: pg.PoolClient, cols: ColumnDef[]): Promise<void> {
    if (!cols.length) return;
    const sets = cols.map((col, i) => `${col.column} = $${i + 2}`).join(', ');
    for await (const batch of this.scanOn(c, 500)) {
      for (const row of batch) {
        const values = cols.map((col) => this.columnValue(col, (row as Record<string, unknown>)[col.field]));
        await c.query(`UPDATE ${this.table} SET ${sets} WHERE id = $1`, [sqlText(row.id), ...values]);
      }
    }
  }

  async findUpTo<K extends RangeKeys<T>>(field: K, max: number, opts: RangeOptions<T> = {}): Promise<T[]> {
    const col = this.byField.get(field);
    if (!col || col.type !== 'number') {
      // No column: read the whole table, as an unindexed findBy does (keep such sweeps off big tables).
      const all: T[] = [];
      for await (const batch of this.scanOn(this.db, 500)) all.push(...batch);
      const value = (r: T) => (r as Record<string, unknown>)[field] as number | null | undefined;
      const after = opts.after;
      const av = after ? value(after) : undefined;
      return all
        .filter((r) => {
          const v = value(r);
          if (v === null || v === undefined || v > max) return false;
          return !after || av === null || av === undefined || v > av || (v === av && r.id > after.id);
        })
        .sort((a, b) => (value(a) as number) - (value(b) as number) || (a.id < b.id ? -1 : 1))
        .slice(0, opts.limit ?? all.length);
    }
    const params: unknown[] = [max];
    let where = `${col.column} <= $1`;
    const afterValue = opts.after ? (opts.after as Record<string, unknown>)[field] : undefined;
    if (opts.after && typeof afterValue === 'number') {
      params.push(afterValue, sqlText(opts.after.id));
      // ids in byte order (COLLATE "C"), the order the lowdb store gives too.
      where += ` AND (${col.column}, id COLLATE "C") > ($2, $3)`;
    }
    const limit = opts.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(opts.limit))}`;
    const r = await this.db.query<SqlRow>(
      `SELECT id, key_id, payload FROM ${this.table} WHERE ${where} ORDER BY ${col.column}, id COLLATE "C"${limit}`,
      params,
    );
    return this.open(this.db, r.rows);
  }

  private async *scanOn(db: Db, batchSize: number): AsyncIterable<T[]> {
    let after = '0';
    for (;;) {
      const r = await db.query<SqlRow & { ord: string }>(
        `SELECT id, key_id, payload, ord FROM ${this.table} WHERE ord > $1 ORDER BY ord LIMIT $2`,
        [after, batchSize],
      );
      if (r.rows.length === 0) return;
      after = r.rows[r.rows.length - 1]!.ord;
      yield await this.open(db, r.rows);
      if (r.rows.length < batchSize) return;
    }
  }

  scan(batchSize = 500): AsyncIterable<T[]> {
    return this.scanOn(this.db, batchSize);
  }

  async count(): Promise<number> {
    const r = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(r.rows[0]?.n ?? 0);
  }

  async insert(row: T): Promise<T> {
    const copy = cloneData(row);
    if (this.def.keyScope(copy) === null) {
      await this.write(this.db, copy, { id: null, key: this.shared.keys.seal }, 'insert');
    } else {
      await this.inTx(async (c) => this.write(c, copy, await this.keyFor(c, copy), 'insert'));
    }
    return cloneData(copy);
  }

  async insertIf<K extends IndexableKeys<T>>(
    row: T,
    scope: { field: K; value: T[K] },
    condition: (rowsInScope: T[]) => boolean,
  ): Promise<T | null> {
    return this.inTx(async (c) => {
      // Every conditional insert into this scope takes the same lock first: the one that gets
      // it second reads the rows the first one committed.
      await c.query('SELECT pg_advisory_xact_lock($1)', [scopeLockId(this.name, scope.field, scope.value)]);
      const inScope = await this.select(c, scope.field, scope.value);
      if (!condition(inScope)) return null;
      // The row as the condition left it: a hold sets its seconds from what it found.
      const copy = cloneData(row);
      await this.write(c, copy, await this.keyFor(c, copy), 'insert');
      return cloneData(copy);
    });
  }

  async update(
    id: string,
    patch: Partial<Omit<T, 'id'>>,
    opts?: { if?: (current: T) => boolean },
  ): Promise<T | undefined> {
    return this.inTx(async (c) => {
      const current = (await this.select(c, 'id', id, 'FOR UPDATE'))[0];
      if (!current) return undefined;
      if (opts?.if && !opts.if(cloneData(current))) return undefined;
      const next = { ...current, ...cloneData(patch), id } as T;
      await this.write(c, next, await this.keyFor(c, next), 'update');
      return cloneData(next);
    });
  }

  async remove(id: string): Promise<boolean> {
    const rowKeyed = this.def.keyScope({ id } as T)?.kind === 'row';
    if (!this.def.destroys && !rowKeyed) {
      const r = await this.db.query(`DELETE FROM ${this.table} WHERE id = $1`, [sqlText(id)]);
      return (r.rowCount ?? 0) > 0;
    }
    return this.inTx(async (c) => {
      const r = await c.query<SqlRow>(`DELETE FROM ${this.table} WHERE id = $1 RETURNING id, key_id, payload`, [
        sqlText(id),
      ]);
      if (r.rows.length === 0) return false;
      if (this.def.destroys) {
        const [row] = await this.open(c, r.rows);
        const scope = row && this.def.destroys(row);
        if (scope && scope.kind !== 'row') await this.destroyScope(c, `${scope.kind}:${scope.id}`);
      }
      if (rowKeyed) await this.destroyScope(c, `row:${this.name}:${id}`);
      return true;
    });
  }
}

/** A photo sealed with its id in front (a sealed value moved to another row does not open as that row's). */
function blobPlain(id: string, bytes: Buffer): Buffer {
  const name = Buffer.from(id);
  return Buffer.concat([Buffer.from([name.length]), name, bytes]);
}

function blobBytes(id: string, plain: Buffer): Buffer {
  const len = plain[0] ?? 0;
  if (plain.subarray(1, 1 + len).toString() !== id)
    throw new Error(`photo ${id}: sealed bytes belong to another photo`);
  return plain.subarray(1 + len);
}

const SAFE_BLOB_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Photo bytes in PostgreSQL, each sealed with a key of its own that is destroyed with it. */
class PgBlobStore implements BlobStore {
  constructor(private readonly shared: Shared) {}

  /** The same ids the file store takes (a file name there): anything else is refused the same way. */
  private check(id: string): string {
    if (!SAFE_BLOB_ID.test(id)) throw new Error('invalid blob id');
    return id;
  }

  private tx<R>(fn: (c: pg.PoolClient) => Promise<R>): Promise<R> {
    return inTransaction(this.shared.pool, fn);
  }

  private async dropKey(c: pg.PoolClient, id: string): Promise<void> {
    const gone = await c.query<{ id: string }>('DELETE FROM data_keys WHERE scope = $1 RETURNING id', [`blob:${id}`]);
    for (const k of gone.rows) this.shared.keys.forget(k.id);
    if (gone.rows.length) await this.shared.onShred(c);
  }

  async put(id: string, bytes: Buffer): Promise<void> {
    this.check(id);
    await this.tx(async (c) => {
      await c.query('DELETE FROM photo_blobs WHERE id = $1', [id]);
      await this.dropKey(c, id);
      const k = this.shared.keys.fresh();
      await c.query('INSERT INTO data_keys (id, scope, wrapped) VALUES ($1, $2, $3)', [k.id, `blob:${id}`, k.wrapped]);
      await c.query('INSERT INTO photo_blobs (id, key_id, payload) VALUES ($1, $2, $3)', [
        id,
        k.id,
        encrypt(k.key, blobPlain(id, bytes), BLOB_CONTEXT),
      ]);
    });
  }

  async get(id: string): Promise<Buffer | undefined> {
    this.check(id);
    const r = await this.shared.pool.query<{ payload: Buffer; key_id: string; wrapped: Buffer }>(
      'SELECT b.payload, b.key_id, k.wrapped FROM photo_blobs b JOIN data_keys k ON k.id = b.key_id WHERE b.id = $1',
      [id],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return blobBytes(id, decrypt(this.shared.keys.unwrap(row.key_id, row.wrapped), row.payload, BLOB_CONTEXT));
  }

  async remove(id: string): Promise<boolean> {
    this.check(id);
    return this.tx(async (c) => {
      const r = await c.query('DELETE FROM photo_blobs WHERE id = $1', [id]);
      await this.dropKey(c, id);
      return (r.rowCount ?? 0) > 0;
    });
  }

  async list(): Promise<string[]> {
    const r = await this.shared.pool.query<{ id: string }>('SELECT id FROM photo_blobs ORDER BY id');
    return r.rows.map((x) => x.id);
  }
}

type PgTables = { [K in TableName]: PgTable<Tables[K]> };

function makeTables(shared: Shared, tx: pg.PoolClient | null): PgTables {
  return Object.fromEntries(TABLE_NAMES.map((n) => [n, new PgTable(n, shared, tx)])) as unknown as PgTables;
}

/** Where a URL points, without its password: for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/**
 * The Store on PostgreSQL. Acknowledged means committed: every write is a committed statement
 * or transaction before its promise resolves, so flush() only waits for writes still running.
 * Personal fields never reach PostgreSQL in the clear (docs/PRIVACY-PROMISES.md, P16), and
 * rows that must be "gone at once" are sealed with keys that are destroyed with them (P9, P10).
 */
export class PgStore implements Store {
  private readonly tables: PgTables;
  readonly photoFiles: BlobStore;
  private readonly inflight = new Set<Promise<unknown>>();
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private closed = false;
  /** A data key was destroyed since the last compact(): the next one clears it from the files. */
  private shredded = false;
  private compacting: Promise<void> | null = null;
  private shredTimer: NodeJS.Timeout | null = null;
  private compactQueued: Promise<void> | null = null;
  /** CHECKPOINT and pg_switch_wal need a superuser or the pg_checkpoint role; without them the bound is the server's own checkpoints. */
  private canCheckpoint = true;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly keys: Keys,
    private readonly clock: Pick<Clock, 'now'>,
    readonly migration: MigrateResult,
    private readonly where: string,
    private readonly locks: PgLocks,
    private readonly shredCompactMs: number,
  ) {
    const shared: Shared = {
      keys,
      pool,
      onShred: async (c) => {
        await c.query('INSERT INTO pending_shreds DEFAULT VALUES');
        this.noteShred();
      },
    };
    this.tables = makeTables(shared, null);
    const blobs = new PgBlobStore(shared);
    this.photoFiles = {
      put: (id, bytes) => this.track(blobs.put(id, bytes)),
      get: (id) => this.track(blobs.get(id)),
      remove: (id) => this.track(blobs.remove(id)),
      list: () => this.track(blobs.list()),
    };
    this.shared = shared;
  }

  private readonly shared: Shared;

  static async open(options: PgStoreOptions): Promise<PgStore> {
    const keys = new Keys(dataKeyFrom(options.dataKey));
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    pool.on('error', () => undefined); // an idle connection that dies is replaced; queries report their own errors
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new StoreOpenError(
        `Cannot connect to PostgreSQL at ${describeUrl(options.url)}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    try {
      const migration = await migrate(client);
      await checkKey(client, keys);
      const pendingShreds = (await client.query('SELECT 1 FROM pending_shreds LIMIT 1')).rows.length > 0;
      client.release();
      const store = new PgStore(
        pool,
        keys,
        options.clock ?? systemClock,
        migration,
        describeUrl(options.url),
        new PgLocks(options.url),
        options.shredCompactMs ?? SHRED_COMPACT_MS,
      );
      try {
        await store.backfillColumns();
      } catch (err) {
        await store.close().catch(() => undefined);
        throw err;
      }
      // A key another process destroyed and did not live to clear from the files: this one does.
      if (pendingShreds) store.noteShred();
      return store;
    } catch (err) {
      client.release();
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Columns added by a migration after rows were written are filled in once, under an advisory
   * lock (two processes starting together do it once), each recorded in store_info so later
   * starts skip it. A new database records them at once: its rows are written with every column.
   */
  private async backfillColumns(): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [BACKFILL_LOCK]);
      const done = new Set(
        (await c.query<{ name: string }>("SELECT name FROM store_info WHERE name LIKE 'backfill:%'")).rows.map(
          (r) => r.name,
        ),
      );
      const pgTables = makeTables(this.shared, c);
      for (const name of TABLE_NAMES) {
        const marker = (col: ColumnDef) => `backfill:${name}.${col.column}`;
        const cols = PG_TABLES[name].columns.filter((col) => col.backfill && !done.has(marker(col)));
        await pgTables[name].backfill(c, cols);
        for (const col of cols)
          await c.query("INSERT INTO store_info (name, value) VALUES ($1, '\\x'::bytea)", [marker(col)]);
      }
    });
  }

  /**
   * A destroyed key is cleared from the files by the next compact(): the services compact after
   * the deletions that promise "gone at once", and any other key destroyed (a reset link blanked
   * from a mail, a sweep's deletion) gets one within SHRED_COMPACT_MS, so the bound holds in code.
   */
  private noteShred(): void {
    this.shredded = true;
    if (this.shredTimer || this.closed) return;
    this.shredTimer = setTimeout(() => {
      this.shredTimer = null;
      if (!this.closed) this.compact().catch(() => undefined); // recorded in lastError; the next one retries
    }, this.shredCompactMs);
    this.shredTimer.unref();
  }

  /** Counts a write or read as running until it settles: what flush() waits for. */
  private track<R>(p: Promise<R>): Promise<R> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    this.inflight.add(p);
    return p.then(
      (v) => {
        this.inflight.delete(p);
        this.lastFlushAt = this.clock.now();
        this.lastError = null;
        return v;
      },
      (err: unknown) => {
        this.inflight.delete(p);
        if (!(err instanceof StoreConflictError) && isConnectionError(err))
          this.lastError = err instanceof Error ? err.message : String(err);
        throw err;
      },
    );
  }

  private wrapTable<K extends TableName>(name: K): Table<Tables[K]> {
    const t = this.tables[name] as unknown as Table<Tables[K]>;
    return {
      get: (id) => this.track(t.get(id)),
      findBy: (field, value) => this.track(t.findBy(field, value)),
      findOne: (field, value) => this.track(t.findOne(field, value)),
      findUpTo: (field, max, opts) => this.track(t.findUpTo(field, max, opts)),
      scan: (batchSize) => t.scan(batchSize),
      count: () => this.track(t.count()),
      insert: (row) => this.track(t.insert(row)),
      insertIf: (row, scope, condition) => this.track(t.insertIf(row, scope, condition)),
      update: (id, patch, opts) => this.track(t.update(id, patch, opts)),
      remove: (id) => this.track(t.remove(id)),
    };
  }

  private readonly wrapped = new Map<TableName, unknown>();
  private tableOf<K extends TableName>(name: K): Table<Tables[K]> {
    let t = this.wrapped.get(name) as Table<Tables[K]> | undefined;
    if (!t) this.wrapped.set(name, (t = this.wrapTable(name)));
    return t;
  }

  get accounts(): Table<Tables['accounts']> {
    return this.tableOf('accounts');
  }
  get sessions(): Table<Tables['sessions']> {
    return this.tableOf('sessions');
  }
  get profiles(): Table<Tables['profiles']> {
    return this.tableOf('profiles');
  }
  get photos(): Table<Tables['photos']> {
    return this.tableOf('photos');
  }
  get consents(): Table<Tables['consents']> {
    return this.tableOf('consents');
  }
  get policies(): Table<Tables['policies']> {
    return this.tableOf('policies');
  }
  get notices(): Table<Tables['notices']> {
    return this.tableOf('notices');
  }
  get ledger(): Table<Tables['ledger']> {
    return this.tableOf('ledger');
  }
  get payments(): Table<Tables['payments']> {
    return this.tableOf('payments');
  }
  get webhookEvents(): Table<Tables['webhookEvents']> {
    return this.tableOf('webhookEvents');
  }
  get calls(): Table<Tables['calls']> {
    return this.tableOf('calls');
  }
  get logins(): Table<Tables['logins']> {
    return this.tableOf('logins');
  }
  get audit(): Table<Tables['audit']> {
    return this.tableOf('audit');
  }
  get outbox(): Table<Tables['outbox']> {
    return this.tableOf('outbox');
  }
  get passwordResets(): Table<Tables['passwordResets']> {
    return this.tableOf('passwordResets');
  }
  get support(): Table<Tables['support']> {
    return this.tableOf('support');
  }
  get meta(): Table<Tables['meta']> {
    return this.tableOf('meta');
  }

  /** One transaction around fn: its writes commit together, or none does (the first error is rethrown). */
  atomically<R>(fn: (tables: StoreTables) => Promise<R>): Promise<R> {
    return this.track(inTransaction(this.pool, (c) => fn(makeTables(this.shared, c))));
  }

  /** A session advisory lock on the store's lock connection: see Store.lock and pg/locks.ts. */
  lock(name: string, opts?: { wait?: boolean }): Promise<StoreLock | null> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.locks.acquire(name, opts?.wait ?? false);
  }

  /** Every write is committed when its promise resolves: this waits for the ones still running. */
  async flush(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /**
   * After a data key was destroyed: the keys table is rewritten into a new file (VACUUM FULL:
   * the old file, which still held the key's bytes, is truncated and unlinked), then the WAL is
   * switched and a checkpoint lets PostgreSQL remove the segments that held the key. What is
   * left and for how long is in docs/PRIVACY-PROMISES.md ("PostgreSQL store").
   */
  compact(): Promise<void> {
    if (this.compacting) {
      this.compactQueued ??= this.compacting
        .catch(() => undefined)
        .then(() => {
          this.compactQueued = null;
          return this.compact();
        });
      return this.compactQueued;
    }
    const run = this.runCompact().finally(() => {
      if (this.compacting === run) this.compacting = null;
    });
    this.compacting = run;
    return run;
  }

  /**
   * Whether a key was destroyed is read from the database, not only from this process: a key
   * destroyed by another process (which may have died before its own compaction) is cleared by
   * whichever process compacts next.
   */
  private async runCompact(): Promise<void> {
    await this.flush();
    const pending = await this.pool.query<{ upto: string | null }>('SELECT max(id)::text AS upto FROM pending_shreds');
    const upto = pending.rows[0]?.upto ?? null;
    if (!this.shredded && upto === null) return;
    this.shredded = false;
    try {
      await this.pool.query('VACUUM FULL data_keys');
      await this.pool.query('VACUUM photo_blobs');
      if (this.canCheckpoint) {
        try {
          await this.pool.query('SELECT pg_switch_wal()');
          await this.pool.query('CHECKPOINT');
        } catch (err) {
          if ((err as { code?: string }).code !== '42501') throw err; // insufficient_privilege: documented bound applies
          this.canCheckpoint = false;
        }
      }
      // Done for every key destroyed before the vacuum began; one destroyed since stays pending.
      if (upto !== null) await this.pool.query('DELETE FROM pending_shreds WHERE id <= $1', [upto]);
    } catch (err) {
      this.shredded = true;
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  status(): {
    kind: 'postgres';
    ok: boolean;
    lastFlushAt: number | null;
    lastError: string | null;
    pendingWrites: number;
  } {
    return {
      kind: 'postgres',
      ok: !this.closed && this.lastError === null,
      lastFlushAt: this.lastFlushAt,
      lastError: this.lastError,
      pendingWrites: this.inflight.size,
    };
  }

  async probe(): Promise<string | null> {
    if (this.closed) return 'store is closed';
    try {
      await this.pool.query('SELECT 1');
      return null;
    } catch (err) {
      return `PostgreSQL at ${this.where} does not answer: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    if (this.shredTimer) clearTimeout(this.shredTimer);
    this.shredTimer = null;
    if (this.shredded) await this.compact().catch(() => undefined);
    if (this.compacting) await this.compacting.catch(() => undefined);
    this.closed = true;
    await this.locks.close();
    await this.pool.end();
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    /Connection terminated/i.test(String((err as Error)?.message))
  );
}

/** A value sealed with the store key at creation: another DATA_KEY cannot open it, so the store refuses to start. */
async function checkKey(c: pg.PoolClient, keys: Keys): Promise<void> {
  await c.query('INSERT INTO store_info (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    KEY_CHECK,
    encrypt(keys.seal, Buffer.from(KEY_CHECK_TEXT), KEY_CHECK),
  ]);
  const r = await c.query<{ value: Buffer }>('SELECT value FROM store_info WHERE name = $1', [KEY_CHECK]);
  try {
    if (decrypt(keys.seal, r.rows[0]!.value, KEY_CHECK).toString() !== KEY_CHECK_TEXT) throw new Error('mismatch');
  } catch {
    throw new StoreOpenError(
      'DATA_KEY does not open this database: it was created with another key. Start with the DATA_KEY it was created with; nothing was changed.',
    );
  }
}

export async function openPgStore(options: PgStoreOptions): Promise<PgStore> {
  return PgStore.open(options);
}

/** `npm run migrate`: the schema brought up to date without starting the server. */
export async function migrateDatabase(url: string): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new StoreOpenError(
      `Cannot connect to PostgreSQL at ${describeUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    return await migrate(client, migrationFiles());
  } finally {
    await client.end();
  }
}
