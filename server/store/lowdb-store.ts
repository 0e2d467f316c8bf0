import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, unlinkSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { Store, Table, TableName, Tables, BlobStore } from './types.js';
import { SCHEMA_VERSION, TABLE_DEFS, TABLE_NAMES, type GroupName } from './schema.js';
import { MemTable } from './mem-table.js';
import { EncryptedJSONFile } from './encrypted-file.js';
import { EncryptedBlobStore } from './blob-store.js';
import { loadOrCreateKey } from './crypto.js';
import { acquireDataDirLock } from './lock.js';
import { StoreOpenError } from './errors.js';
import { MIGRATIONS, type Migration, type RawTables } from './migrations.js';

export interface LowdbStoreOptions {
  dataDir: string;
  /** DATA_KEY; without it a key file is generated for a new data directory. */
  dataKey?: string | undefined;
  /** How long changes gather before one physical write (group commit). */
  commitDelayMs?: number;
  migrations?: Migration[];
}

/** Shards per group: enough that one write stays small at 10,000 families. */
const SHARDS: Record<GroupName, number> = { people: 16, ledger: 16, usage: 16, audit: 8, ops: 1 };
const GROUPS = Object.keys(SHARDS) as GroupName[];

interface ShardDoc {
  schemaVersion: number;
  tables: Partial<Record<TableName, unknown[]>>;
}

interface Manifest {
  schemaVersion: number;
  shards: Record<GroupName, number>;
}

function shardIndex(key: string, count: number): number {
  if (count === 1) return 0;
  return createHash('sha1').update(key).digest().readUInt32BE(0) % count;
}

function fileName(group: GroupName, shard: number): string {
  return `${group}-${String(shard).padStart(2, '0')}.db`;
}

type TableMap = { [K in TableName]: MemTable<Tables[K]> };

/**
 * The embedded store: lowdb documents, one per (group, shard), AES-256-GCM encrypted,
 * written atomically and group-committed. Everything is held in memory and indexed; the
 * files are the durable copy.
 */
export class LowdbStore implements Store {
  private readonly shardFiles = new Map<string, Low<ShardDoc>>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private closed = false;
  private readonly tableMap: TableMap;

  private constructor(
    private readonly dataDir: string,
    private readonly key: Buffer,
    private readonly releaseLock: () => void,
    private readonly commitDelayMs: number,
    readonly photoFiles: BlobStore,
  ) {
    const make = <K extends TableName>(name: K): MemTable<Tables[K]> => {
      const def = TABLE_DEFS[name];
      const count = SHARDS[def.group];
      return new MemTable<Tables[K]>(name, def, count, (k) => shardIndex(k, count), (shard) =>
        this.markDirty(def.group, shard),
      );
    };
    this.tableMap = Object.fromEntries(TABLE_NAMES.map((n) => [n, make(n)])) as unknown as TableMap;
  }

  get accounts(): Table<Tables['accounts']> { return this.tableMap.accounts; }
  get sessions(): Table<Tables['sessions']> { return this.tableMap.sessions; }
  get profiles(): Table<Tables['profiles']> { return this.tableMap.profiles; }
  get photos(): Table<Tables['photos']> { return this.tableMap.photos; }
  get consents(): Table<Tables['consents']> { return this.tableMap.consents; }
  get policies(): Table<Tables['policies']> { return this.tableMap.policies; }
  get notices(): Table<Tables['notices']> { return this.tableMap.notices; }
  get ledger(): Table<Tables['ledger']> { return this.tableMap.ledger; }
  get payments(): Table<Tables['payments']> { return this.tableMap.payments; }
  get webhookEvents(): Table<Tables['webhookEvents']> { return this.tableMap.webhookEvents; }
  get calls(): Table<Tables['calls']> { return this.tableMap.calls; }
  get logins(): Table<Tables['logins']> { return this.tableMap.logins; }
  get audit(): Table<Tables['audit']> { return this.tableMap.audit; }
  get outbox(): Table<Tables['outbox']> { return this.tableMap.outbox; }
  get passwordResets(): Table<Tables['passwordResets']> { return this.tableMap.passwordResets; }
  get support(): Table<Tables['support']> { return this.tableMap.support; }
  get meta(): Table<Tables['meta']> { return this.tableMap.meta; }

  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const dataDir = options.dataDir;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const release = acquireDataDirLock(dataDir);
    try {
      const existing = readdirSync(dataDir);
      for (const name of existing) if (name.endsWith('.tmp')) unlinkSync(join(dataDir, name)); // half-written by a crash
      const hasData = existing.some((n) => n.endsWith('.db'));
      const key = loadOrCreateKey(dataDir, options.dataKey, hasData);
      const blobs = new EncryptedBlobStore(join(dataDir, 'photos'), key);
      await blobs.init();
      const store = new LowdbStore(dataDir, key, release, options.commitDelayMs ?? 5, blobs);
      await store.load(options.migrations ?? MIGRATIONS);
      return store;
    } catch (err) {
      release();
      throw err;
    }
  }

  private async load(migrations: Migration[]): Promise<void> {
    const manifestFile = new Low<Manifest | null>(new EncryptedJSONFile<Manifest | null>(join(this.dataDir, 'manifest.db'), this.key), null);
    await manifestFile.read();
    const manifest = manifestFile.data;
    if (manifest) {
      for (const g of GROUPS) {
        if (manifest.shards[g] !== SHARDS[g]) {
          throw new StoreOpenError(`Data in ${this.dataDir} was written with ${manifest.shards[g]} ${g} shards, this build uses ${SHARDS[g]}`);
        }
      }
      if (manifest.schemaVersion > SCHEMA_VERSION) {
        throw new StoreOpenError(`Data in ${this.dataDir} has schema version ${manifest.schemaVersion}, newer than this build (${SCHEMA_VERSION})`);
      }
    }

    // Read and decrypt every file before anything is written: a bad file stops the start
    // with every file left as it was.
    const raw: RawTables = new Map();
    const placed: { table: TableName; shard: number; row: Record<string, unknown> }[] = [];
    for (const group of GROUPS) {
      for (let shard = 0; shard < SHARDS[group]; shard++) {
        const low = new Low<ShardDoc>(new EncryptedJSONFile<ShardDoc>(join(this.dataDir, fileName(group, shard)), this.key), {
          schemaVersion: SCHEMA_VERSION,
          tables: {},
        });
        await low.read();
        this.shardFiles.set(fileName(group, shard), low);
        for (const [table, rows] of Object.entries(low.data.tables) as [TableName, Record<string, unknown>[]][]) {
          if (!TABLE_DEFS[table]) throw new StoreOpenError(`Unknown table ${table} in ${fileName(group, shard)}`);
          const list = raw.get(table) ?? [];
          list.push(...rows);
          raw.set(table, list);
          for (const row of rows) placed.push({ table, shard, row });
        }
      }
    }

    const from = manifest?.schemaVersion ?? SCHEMA_VERSION;
    const pending = migrations.filter((m) => m.to > from && m.to <= SCHEMA_VERSION).sort((a, b) => a.to - b.to);
    for (const m of pending) m.up(raw);

    if (pending.length) {
      // Rows may have changed shape or count: index the migrated rows and rewrite every shard.
      for (const [table, rows] of raw) {
        const t = this.tableMap[table] as unknown as MemTable<{ id: string }>;
        for (const row of rows as { id: string }[]) await t.insert(row);
      }
    } else {
      for (const { table, shard, row } of placed) {
        (this.tableMap[table] as unknown as MemTable<{ id: string }>).load(row as { id: string }, shard);
      }
    }

    if (!manifest || pending.length) {
      manifestFile.data = { schemaVersion: SCHEMA_VERSION, shards: SHARDS };
      await manifestFile.write();
      await this.flush();
    }
  }

  private markDirty(group: GroupName, shard: number): void {
    if (this.closed) throw new Error('store is closed');
    this.dirty.add(fileName(group, shard));
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush().catch(() => undefined); // lastError is recorded; awaiting callers see the failure
      }, this.commitDelayMs);
    }
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.dirty.size === 0) return;
    const run = this.writeDirty();
    this.flushing = run;
    try {
      await run;
    } finally {
      if (this.flushing === run) this.flushing = null;
    }
  }

  private async writeDirty(): Promise<void> {
    const files = [...this.dirty];
    this.dirty.clear();
    const results = await Promise.allSettled(files.map((f) => this.writeShard(f)));
    const failed = files.filter((_, i) => results[i]?.status === 'rejected');
    if (failed.length) {
      for (const f of failed) this.dirty.add(f);
      const reason = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
      this.lastError = reason instanceof Error ? reason.message : String(reason);
      throw new Error(`store write failed: ${this.lastError}`);
    }
    this.lastError = null;
    this.lastFlushAt = Date.now();
  }

  private async writeShard(file: string): Promise<void> {
    const low = this.shardFiles.get(file);
    if (!low) throw new Error(`unknown shard ${file}`);
    const [group, shardText] = file.replace(/\.db$/, '').split('-') as [GroupName, string];
    const shard = Number(shardText);
    const tables: ShardDoc['tables'] = {};
    for (const name of TABLE_NAMES) {
      if (TABLE_DEFS[name].group !== group) continue;
      const rows = (this.tableMap[name] as unknown as MemTable<{ id: string }>).rowsInShard(shard);
      if (rows.length) tables[name] = rows;
    }
    low.data = { schemaVersion: SCHEMA_VERSION, tables };
    await low.write();
  }

  status(): { ok: boolean; lastFlushAt: number | null; lastError: string | null; pendingWrites: number } {
    return { ok: !this.closed && this.lastError === null, lastFlushAt: this.lastFlushAt, lastError: this.lastError, pendingWrites: this.dirty.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.releaseLock();
    }
  }

  /** Sizes of the data files, for /healthz and the bench. */
  diskUsage(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const name of readdirSync(this.dataDir)) {
      if (!name.endsWith('.db')) continue;
      const p = join(this.dataDir, name);
      if (existsSync(p)) {
        files++;
        bytes += statSync(p).size;
      }
    }
    return { files, bytes };
  }
}

export async function openStore(options: LowdbStoreOptions): Promise<LowdbStore> {
  return LowdbStore.open(options);
}
