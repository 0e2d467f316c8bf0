import type { IndexableKeys, IndexValue, RangeKeys, RangeOptions, Table } from './types.js';
import type { TableDef } from './schema.js';
import { StoreConflictError } from './errors.js';

/**
 * Told of every change before it is made, with the row as it was (undefined for an insert).
 * Stored rows are never mutated in place (a change stores a new object), so the row passed
 * here stays a faithful image of the previous state.
 */
export type ChangeListener<T> = (id: string, before: T | undefined) => void;

/**
 * A deep copy of plain JSON data, which is what rows are (they are stored as JSON): six times
 * cheaper than structuredClone, which goes through V8's serializer, and every read copies.
 */
export function cloneData<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneData) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneData((value as Record<string, unknown>)[key]);
  return out as T;
}

/**
 * One table held in memory, with its secondary and unique indexes and the shard each row
 * lives in. Every mutation is synchronous inside its async method, so a check and the write
 * it guards happen in one turn of the event loop (the single-process form of a transaction).
 */
export class MemTable<T extends { id: string }> implements Table<T> {
  private readonly rows = new Map<string, T>();
  private readonly shardOfRow = new Map<string, number>();
  private readonly shardMembers: Set<string>[];
  private readonly indexes = new Map<string, Map<IndexValue, Set<string>>>();
  private readonly uniques = new Map<string, Map<IndexValue, string>>();

  constructor(
    readonly name: string,
    private readonly def: TableDef<T>,
    private readonly shardCount: number,
    private readonly shardFor: (key: string) => number,
    private readonly onChange: ChangeListener<T>,
  ) {
    this.shardMembers = Array.from({ length: shardCount }, () => new Set<string>());
    for (const f of def.indexes) this.indexes.set(f, new Map());
    for (const f of def.unique) this.uniques.set(f, new Map());
  }

  /** Load a row read from disk (no change notification). */
  load(row: T, shard: number): void {
    this.place(row, shard);
  }

  /** The stored row itself, not a copy: for the store's own serialisation only. */
  peek(id: string): T | undefined {
    return this.rows.get(id);
  }

  /** The shard of a row image; a placed row with the same shard key answers without hashing the key again. */
  shardOf(row: T): number {
    const key = this.def.shardKey(row);
    const placed = this.rows.get(row.id);
    if (placed && this.def.shardKey(placed) === key) {
      const shard = this.shardOfRow.get(row.id);
      if (shard !== undefined) return shard;
    }
    return this.shardFor(key);
  }

  rowsInShard(shard: number): T[] {
    const out: T[] = [];
    for (const id of this.shardMembers[shard] ?? []) {
      const row = this.rows.get(id);
      if (row) out.push(row);
    }
    return out;
  }

  async get(id: string): Promise<T | undefined> {
    const row = this.rows.get(id);
    return row ? cloneData(row) : undefined;
  }

  async findBy<K extends IndexableKeys<T>>(field: K, value: T[K]): Promise<T[]> {
    return this.findSync(field, value).map((r) => cloneData(r));
  }

  async findOne<K extends IndexableKeys<T>>(field: K, value: T[K]): Promise<T | undefined> {
    const row = this.findSync(field, value)[0];
    return row ? cloneData(row) : undefined;
  }

  /**
   * Rows are in memory: one pass over them without copying any but the matches (a scan copies
   * every row), then sorted. The order is the one the PostgreSQL store gives: field, then id.
   */
  async findUpTo<K extends RangeKeys<T>>(field: K, max: number, opts: RangeOptions<T> = {}): Promise<T[]> {
    const value = (r: T) => r[field] as unknown as number | null | undefined;
    const after = opts.after;
    const afterValue = after ? (value(after) ?? null) : null;
    const found: T[] = [];
    for (const row of this.rows.values()) {
      const v = value(row);
      if (v === null || v === undefined || v > max) continue;
      if (after && afterValue !== null && (v < afterValue || (v === afterValue && row.id <= after.id))) continue;
      found.push(row);
    }
    found.sort((a, b) => (value(a) as number) - (value(b) as number) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return found.slice(0, opts.limit ?? found.length).map((r) => cloneData(r));
  }

  async *scan(batchSize = 500): AsyncIterable<T[]> {
    const ids = [...this.rows.keys()];
    for (let i = 0; i < ids.length; i += batchSize) {
      const batch: T[] = [];
      for (const id of ids.slice(i, i + batchSize)) {
        const row = this.rows.get(id);
        if (row) batch.push(cloneData(row));
      }
      if (batch.length) yield batch;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  async count(): Promise<number> {
    return this.rows.size;
  }

  async insert(row: T): Promise<T> {
    return this.insertSync(row);
  }

  async insertIf<K extends IndexableKeys<T>>(
    row: T,
    scope: { field: K; value: T[K] },
    condition: (rowsInScope: T[]) => boolean,
  ): Promise<T | null> {
    const inScope = this.findSync(scope.field, scope.value).map((r) => cloneData(r));
    if (!condition(inScope)) return null;
    return this.insertSync(row);
  }

  async update(
    id: string,
    patch: Partial<Omit<T, 'id'>>,
    opts?: { if?: (current: T) => boolean },
  ): Promise<T | undefined> {
    const current = this.rows.get(id);
    if (!current) return undefined;
    if (opts?.if && !opts.if(cloneData(current))) return undefined;
    const next = { ...current, ...cloneData(patch), id } as T;
    this.checkUnique(next, id);
    const shard = this.shardOf(next);
    this.onChange(id, current);
    this.replace(current, next, shard);
    return cloneData(next);
  }

  async remove(id: string): Promise<boolean> {
    const current = this.rows.get(id);
    if (!current) return false;
    this.onChange(id, current);
    this.unplace(current);
    return true;
  }

  private insertSync(row: T): T {
    if (this.rows.has(row.id)) throw new StoreConflictError(this.name, 'id');
    const copy = cloneData(row);
    this.checkUnique(copy, null);
    this.onChange(copy.id, undefined);
    this.place(copy, this.shardFor(this.def.shardKey(copy)));
    return cloneData(copy);
  }

  private findSync<K extends IndexableKeys<T>>(field: K, value: T[K]): T[] {
    const unique = this.uniques.get(field);
    if (unique) {
      const id = unique.get(value as IndexValue);
      const row = id === undefined ? undefined : this.rows.get(id);
      return row ? [row] : [];
    }
    const index = this.indexes.get(field);
    if (index) {
      const ids = index.get(value as IndexValue);
      if (!ids) return [];
      return [...ids].map((id) => this.rows.get(id)).filter((r): r is T => r !== undefined);
    }
    // Unindexed lookups are allowed but linear; keep them off hot paths.
    return [...this.rows.values()].filter((r) => r[field] === value);
  }

  private checkUnique(row: T, selfId: string | null): void {
    for (const [field, map] of this.uniques) {
      const value = row[field as keyof T] as IndexValue;
      if (value === null || value === undefined) continue;
      const owner = map.get(value);
      if (owner !== undefined && owner !== selfId) throw new StoreConflictError(this.name, field);
    }
  }

  private place(row: T, shard: number): void {
    this.rows.set(row.id, row);
    this.shardOfRow.set(row.id, shard);
    this.shardMembers[shard % this.shardCount]?.add(row.id);
    for (const [field, map] of this.indexes) {
      const value = row[field as keyof T] as IndexValue;
      let set = map.get(value);
      if (!set) map.set(value, (set = new Set()));
      set.add(row.id);
    }
    for (const [field, map] of this.uniques) {
      const value = row[field as keyof T] as IndexValue;
      if (value !== null && value !== undefined) map.set(value, row.id);
    }
  }

  /** An update: only the indexes whose value changed are touched (a call's checkpoint changes none). */
  private replace(current: T, next: T, shard: number): void {
    const id = current.id;
    this.rows.set(id, next);
    const was = this.shardOfRow.get(id);
    if (was !== shard) {
      if (was !== undefined) this.shardMembers[was]?.delete(id);
      this.shardOfRow.set(id, shard);
      this.shardMembers[shard % this.shardCount]?.add(id);
    }
    for (const [field, map] of this.indexes) {
      const before = current[field as keyof T] as IndexValue;
      const after = next[field as keyof T] as IndexValue;
      if (before === after) continue;
      const set = map.get(before);
      set?.delete(id);
      if (set && set.size === 0) map.delete(before);
      let into = map.get(after);
      if (!into) map.set(after, (into = new Set()));
      into.add(id);
    }
    for (const [field, map] of this.uniques) {
      const before = current[field as keyof T] as IndexValue;
      const after = next[field as keyof T] as IndexValue;
      if (before === after) continue;
      if (map.get(before) === id) map.delete(before);
      if (after !== null && after !== undefined) map.set(after, id);
    }
  }

  private unplace(row: T): void {
    const shard = this.shardOfRow.get(row.id);
    if (shard !== undefined) this.shardMembers[shard]?.delete(row.id);
    this.rows.delete(row.id);
    this.shardOfRow.delete(row.id);
    for (const [field, map] of this.indexes) {
      const value = row[field as keyof T] as IndexValue;
      const set = map.get(value);
      set?.delete(row.id);
      if (set && set.size === 0) map.delete(value);
    }
    for (const [field, map] of this.uniques) {
      const value = row[field as keyof T] as IndexValue;
      if (map.get(value) === row.id) map.delete(value);
    }
  }
}
