import { mkdirSync, readdirSync, unlinkSync, existsSync, statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { Store, StoreLock, StoreTables, Table, TableName, Tables, BlobStore } from './types.js';
import { LocalLocks } from './local-locks.js';
import { SCHEMA_VERSION, TABLE_DEFS, TABLE_NAMES, type GroupName } from './schema.js';
import { MemTable } from './mem-table.js';
import { EncryptedJSONFile, syncDir } from './encrypted-file.js';
import { EncryptedBlobStore } from './blob-store.js';
import { loadOrCreateKey } from './crypto.js';
import { acquireDataDirLock } from './lock.js';
import { MIGRATIONS, type Migration, type RawTables } from './migrations.js';
import {
  GROUPS,
  MANIFEST_FILE,
  SHARDS,
  parseShardFileName,
  shardFileName,
  shardIndex,
  type Manifest,
} from './disk-layout.js';
import { StoreOpenError } from './errors.js';
import { readDiskImage, type JournalPayload, type RawRow, type RowMaps, type ShardDoc } from './disk-image.js';
import { Journal, journalGeneration } from './journal.js';
import { systemClock, type Clock } from '../core/clock.js';

export interface LowdbStoreOptions {
  dataDir: string;
  /** DATA_KEY; without it a key file is generated for a new data directory. */
  dataKey?: string | undefined;
  /** How long changes gather before a commit nobody awaits is written. */
  commitDelayMs?: number;
  /** Journal size that starts a checkpoint (shards rewritten, journal started afresh). */
  checkpointBytes?: number;
  /**
   * The longest a committed change waits for a checkpoint: bounds how long a removed row
   * (a signed-out session, an expired reset token) lives on in the journal.
   */
  checkpointAfterMs?: number;
  migrations?: Migration[];
  /** Reads the time of the last flush (shown by /healthz); default: the system clock. */
  clock?: Pick<Clock, 'now'>;
}

type Row = { id: string };
type AnyTable = MemTable<Row>;
type TableMap = { [K in TableName]: MemTable<Tables[K]> };
/** Rows as they were before the changes of one commit window: table -> id -> row (undefined: absent). */
type BeforeImages = Map<TableName, Map<string, Row | undefined>>;

const TABLES_OF_GROUP = new Map<GroupName, TableName[]>(
  GROUPS.map((g) => [g, TABLE_NAMES.filter((t) => TABLE_DEFS[t].group === g)]),
);
const DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHECKPOINT_AFTER_MS = 5 * 60 * 1000;

function emptyImages(): BeforeImages {
  return new Map(TABLE_NAMES.map((t) => [t, new Map<string, Row | undefined>()]));
}

function imageCount(images: BeforeImages): number {
  let n = 0;
  for (const m of images.values()) n += m.size;
  return n;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The embedded store. Everything is held in memory and indexed; the disk holds lowdb
 * documents, one per (group, shard), AES-256-GCM encrypted, plus a write-ahead journal.
 *
 * A commit appends the rows it changed to the journal as one sealed record and fdatasyncs it:
 * cheap whatever the data size, and atomic across tables and shards (an audit entry and the
 * chain's head, a call record and its credit hold, land together or not at all). Checkpoints
 * rewrite the shards the journal touched, one shard per turn of the event loop, from the
 * committed state only, then move the manifest on to the next journal.
 */
export class LowdbStore implements Store {
  private readonly tableMap: TableMap;
  /** Changes made since the last commit started. */
  private pending: BeforeImages = emptyImages();
  /** Changes of the commit being written (not yet durable). */
  private inflight: BeforeImages = emptyImages();
  /** Shard files whose committed rows differ from the file: rewritten by the next checkpoint. */
  private checkpointDirty = new Set<string>();
  private journal!: Journal;
  private serialTail: Promise<unknown> = Promise.resolve();
  private gathering: Promise<void> | null = null;
  private committing: Promise<void> | null = null;
  private checkpointing: Promise<void> | null = null;
  private checkpointQueued: Promise<void> | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlushAt: number | null = null;
  private lastError: string | null = null;
  private closed = false;
  /** atomically() blocks running: no commit starts until they end. */
  private holds = 0;
  private holdWaiters: (() => void)[] = [];
  private readonly locks = new LocalLocks();
  private manifest: Required<Manifest> = { schemaVersion: SCHEMA_VERSION, shards: SHARDS, epoch: 0, journal: 0 };

  private constructor(
    private readonly dataDir: string,
    private readonly key: Buffer,
    private readonly releaseLock: () => void,
    private readonly commitDelayMs: number,
    private readonly checkpointBytes: number,
    private readonly checkpointAfterMs: number,
    readonly photoFiles: BlobStore,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    const make = <K extends TableName>(name: K): MemTable<Tables[K]> => {
      const def = TABLE_DEFS[name];
      const count = SHARDS[def.group];
      return new MemTable<Tables[K]>(
        name,
        def,
        count,
        (k) => shardIndex(k, count),
        (id, before) => this.noteChange(name, id, before),
      );
    };
    this.tableMap = Object.fromEntries(TABLE_NAMES.map((n) => [n, make(n)])) as unknown as TableMap;
  }

  get accounts(): Table<Tables['accounts']> {
    return this.tableMap.accounts;
  }
  get sessions(): Table<Tables['sessions']> {
    return this.tableMap.sessions;
  }
  get profiles(): Table<Tables['profiles']> {
    return this.tableMap.profiles;
  }
  get photos(): Table<Tables['photos']> {
    return this.tableMap.photos;
  }
  get consents(): Table<Tables['consents']> {
    return this.tableMap.consents;
  }
  get policies(): Table<Tables['policies']> {
    return this.tableMap.policies;
  }
  get notices(): Table<Tables['notices']> {
    return this.tableMap.notices;
  }
  get ledger(): Table<Tables['ledger']> {
    return this.tableMap.ledger;
  }
  get payments(): Table<Tables['payments']> {
    return this.tableMap.payments;
  }
  get webhookEvents(): Table<Tables['webhookEvents']> {
    return this.tableMap.webhookEvents;
  }
  get calls(): Table<Tables['calls']> {
    return this.tableMap.calls;
  }
  get logins(): Table<Tables['logins']> {
    return this.tableMap.logins;
  }
  get audit(): Table<Tables['audit']> {
    return this.tableMap.audit;
  }
  get outbox(): Table<Tables['outbox']> {
    return this.tableMap.outbox;
  }
  get passwordResets(): Table<Tables['passwordResets']> {
    return this.tableMap.passwordResets;
  }
  get support(): Table<Tables['support']> {
    return this.tableMap.support;
  }
  get meta(): Table<Tables['meta']> {
    return this.tableMap.meta;
  }

  static async open(options: LowdbStoreOptions): Promise<LowdbStore> {
    const dataDir = options.dataDir;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const release = acquireDataDirLock(dataDir);
    try {
      const existing = readdirSync(dataDir);
      for (const name of existing) if (name.endsWith('.tmp')) unlinkSync(join(dataDir, name)); // half-written by a crash
      const hasData = existing.some((n) => n.endsWith('.db') || journalGeneration(n) !== null);
      const key = loadOrCreateKey(dataDir, options.dataKey, hasData);
      const blobs = new EncryptedBlobStore(join(dataDir, 'photos'), key);
      await blobs.init();
      const store = new LowdbStore(
        dataDir,
        key,
        release,
        options.commitDelayMs ?? 25,
        options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES,
        options.checkpointAfterMs ?? DEFAULT_CHECKPOINT_AFTER_MS,
        blobs,
        options.clock ?? systemClock,
      );
      await store.load(options.migrations ?? MIGRATIONS);
      return store;
    } catch (err) {
      release();
      throw err;
    }
  }

  private table(name: TableName): AnyTable {
    return this.tableMap[name] as unknown as AnyTable;
  }

  private fileOf(table: TableName, row: Row): string {
    const group = TABLE_DEFS[table].group;
    return shardFileName(group, this.table(table).shardOf(row), this.manifest.epoch);
  }

  /**
   * Opening: read everything (nothing is written if any file is bad), replay the journals,
   * migrate, index; then make the files match what was loaded and start a fresh journal.
   */
  private async load(migrations: Migration[]): Promise<void> {
    const image = await readDiskImage(this.dataDir, this.key);
    const found = image.manifest;
    if (found && found.schemaVersion > SCHEMA_VERSION) {
      throw new StoreOpenError(
        `Data in ${this.dataDir} has schema version ${found.schemaVersion}, newer than this build (${SCHEMA_VERSION})`,
      );
    }

    const from = found?.schemaVersion ?? SCHEMA_VERSION;
    const pendingMigrations = migrations
      .filter((m) => m.to > from && m.to <= SCHEMA_VERSION)
      .sort((a, b) => a.to - b.to);
    let rows: RowMaps = image.rows;
    if (pendingMigrations.length) {
      const raw: RawTables = new Map([...image.rows].map(([t, m]) => [t, [...m.values()]]));
      for (const m of pendingMigrations) m.up(raw);
      rows = new Map([...raw].map(([t, list]) => [t, new Map((list as RawRow[]).map((r) => [r.id, r]))]));
    }
    for (const [table, map] of rows) {
      const t = this.table(table);
      for (const row of map.values()) t.load(row, t.shardOf(row));
    }

    const resharded = found !== null && GROUPS.some((g) => found.shards[g] !== SHARDS[g]);
    const lastGeneration = Math.max(found?.journal ?? 0, ...image.journals.map((j) => j.generation));
    const nextGeneration = found ? lastGeneration + 1 : 0;
    const epoch = found?.epoch ?? 0;

    if (found && (pendingMigrations.length || resharded)) {
      // A new layout is written beside the old one and the manifest switched to it last: a
      // crash before the switch leaves the old layout and its journals, read again next time.
      const newEpoch = epoch + 1;
      this.manifest = { schemaVersion: SCHEMA_VERSION, shards: SHARDS, epoch: newEpoch, journal: nextGeneration };
      for (const name of image.staleFiles) await unlink(join(this.dataDir, name)).catch(() => undefined);
      for (const group of GROUPS) {
        for (let shard = 0; shard < SHARDS[group]; shard++)
          await this.writeShard(shardFileName(group, shard, newEpoch), group, shard);
      }
    } else if (found) {
      this.manifest = { schemaVersion: found.schemaVersion, shards: found.shards, epoch, journal: nextGeneration };
      // Bring every shard the replayed journals touched up to date, so they can be dropped.
      const touched = new Set<string>();
      for (const change of image.replayed) {
        if (change.before) touched.add(this.fileOf(change.table, change.before));
        if (change.after) touched.add(this.fileOf(change.table, change.after));
      }
      for (const name of touched) {
        const [group, shard] = this.parseOwnShard(name);
        await this.writeShard(name, group, shard);
      }
    }
    await this.writeManifest();
    await this.removeObsoleteFiles();
    this.journal = await Journal.create(this.dataDir, this.key, this.manifest.journal);
  }

  /** Shards of other layouts and journals already folded in: only after the manifest moved on. */
  private async removeObsoleteFiles(): Promise<void> {
    const { epoch, shards, journal } = this.manifest;
    for (const name of readdirSync(this.dataDir)) {
      const shard = parseShardFileName(name);
      const gen = journalGeneration(name);
      const obsolete = shard
        ? shard.epoch !== epoch || shard.shard >= shards[shard.group]
        : gen !== null && gen < journal;
      if (obsolete) await unlink(join(this.dataDir, name)).catch(() => undefined);
    }
    await syncDir(this.dataDir);
  }

  private parseOwnShard(name: string): [GroupName, number] {
    const parsed = parseShardFileName(name);
    if (!parsed) throw new Error(`not a shard file: ${name}`);
    return [parsed.group, parsed.shard];
  }

  private async writeManifest(): Promise<void> {
    const file = new Low<Manifest>(
      new EncryptedJSONFile<Manifest>(join(this.dataDir, MANIFEST_FILE), this.key),
      this.manifest,
    );
    await file.write();
  }

  private noteChange(table: TableName, id: string, before: Row | undefined): void {
    if (this.closed) throw new Error('store is closed');
    const images = this.pending.get(table)!;
    if (!images.has(id)) images.set(id, before);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush().catch(() => undefined); // lastError is recorded; awaiting callers see the failure
      }, this.commitDelayMs);
    }
  }

  /** Runs `fn` after everything queued before it: commits and journal switches never overlap. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serialTail.then(fn, fn);
    this.serialTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves once every change made before the call is on disk. Callers join the commit that
   * is gathering (one is written at a time, at most one gathers behind it), so under load a
   * commit carries everything that arrived while the previous one was being written.
   */
  flush(): Promise<void> {
    if (imageCount(this.pending) === 0) return this.committing ?? Promise.resolve();
    if (!this.gathering) {
      const gathering = this.serial(async () => {
        await this.untilNoHolds();
        this.gathering = null;
        const run = this.commit();
        this.committing = run;
        try {
          await run;
        } finally {
          if (this.committing === run) this.committing = null;
        }
      });
      this.gathering = gathering;
    }
    return this.gathering;
  }

  private async commit(): Promise<void> {
    const batch = this.pending;
    this.pending = emptyImages();
    this.inflight = batch;
    const payload: JournalPayload = { v: SCHEMA_VERSION, c: [] };
    const touched = new Set<string>();
    for (const [table, images] of batch) {
      const t = this.table(table);
      for (const [id, before] of images) {
        const now = t.peek(id);
        if (!now && !before) continue; // created and removed again within the window
        payload.c.push([table, id, (now as RawRow | undefined) ?? null]);
        if (before) touched.add(this.fileOf(table, before));
        if (now) touched.add(this.fileOf(table, now));
      }
    }
    try {
      if (payload.c.length) await this.journal.append(Buffer.from(JSON.stringify(payload)));
    } catch (err) {
      // Not durable: the changes go back in front of whatever came after them.
      for (const [table, images] of batch) {
        const later = this.pending.get(table)!;
        for (const [id, before] of images) later.set(id, before);
      }
      this.inflight = emptyImages();
      this.lastError = err instanceof Error ? err.message : String(err);
      throw new Error(`store write failed: ${this.lastError}`);
    }
    this.inflight = emptyImages();
    for (const f of touched) this.checkpointDirty.add(f);
    this.lastError = null;
    this.lastFlushAt = this.clock.now();
    if (this.journal.size >= this.checkpointBytes && !this.checkpointing) {
      this.checkpoint().catch(() => undefined); // recorded in lastError; the journal keeps everything meanwhile
    } else if (!this.checkpointTimer && this.journal.size > 0) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = null;
        if (!this.closed) this.checkpoint().catch(() => undefined);
      }, this.checkpointAfterMs);
      this.checkpointTimer.unref();
    }
  }

  async compact(): Promise<void> {
    await this.flush();
    // A checkpoint already running may have switched journals before our changes: wait for a fresh one.
    await this.checkpoint({ fresh: true });
  }

  /**
   * Folds the journal into the shard files: switch new commits to a fresh journal, rewrite
   * every shard the old one touched from the committed rows, move the manifest on, and drop
   * the old journal. A crash at any point leaves a manifest whose journals replay to the
   * same committed state.
   */
  checkpoint(options: { fresh?: boolean } = {}): Promise<void> {
    if (this.checkpointing && options.fresh) {
      // One queued behind the running one serves every caller that asked meanwhile.
      this.checkpointQueued ??= this.checkpointing
        .catch(() => undefined)
        .then(() => {
          this.checkpointQueued = null;
          return this.checkpoint();
        });
      return this.checkpointQueued;
    }
    if (this.checkpointing) return this.checkpointing;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = null;
    const run = this.runCheckpoint().finally(() => {
      if (this.checkpointing === run) this.checkpointing = null;
    });
    this.checkpointing = run;
    return run;
  }

  private async runCheckpoint(): Promise<void> {
    const next = await Journal.create(this.dataDir, this.key, this.journal.generation + 1);
    let toWrite = new Set<string>();
    let old!: Journal;
    await this.serial(async () => {
      old = this.journal;
      this.journal = next;
      toWrite = this.checkpointDirty;
      this.checkpointDirty = new Set();
    });
    try {
      for (const name of toWrite) {
        const [group, shard] = this.parseOwnShard(name);
        await this.writeShard(name, group, shard);
        await nextTurn();
      }
      this.manifest = { ...this.manifest, journal: next.generation };
      await this.writeManifest();
    } catch (err) {
      for (const name of toWrite) this.checkpointDirty.add(name);
      await old.close().catch(() => undefined);
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
    await old.close().catch(() => undefined);
    await this.removeObsoleteFiles();
  }

  /**
   * Writes one shard as of the last commit: rows changed since (pending or being committed)
   * are written as they were before those changes. Built, serialised and sealed in one turn.
   */
  private async writeShard(name: string, group: GroupName, shard: number): Promise<void> {
    const tables: ShardDoc['tables'] = {};
    for (const table of TABLES_OF_GROUP.get(group)!) {
      const t = this.table(table);
      const overlay = new Map(this.pending.get(table));
      for (const [id, before] of this.inflight.get(table)!) overlay.set(id, before); // older than pending's
      const rows: Row[] = [];
      for (const row of t.rowsInShard(shard)) if (!overlay.has(row.id)) rows.push(row);
      for (const before of overlay.values()) if (before && t.shardOf(before) === shard) rows.push(before);
      if (rows.length) tables[table] = rows;
    }
    const file = new Low<ShardDoc>(new EncryptedJSONFile<ShardDoc>(join(this.dataDir, name), this.key), {
      schemaVersion: SCHEMA_VERSION,
      tables,
    });
    await file.write();
  }

  /**
   * Writes are applied when called; holding commits back while fn runs puts all of them in one
   * journal record. A write that fails changes nothing, and fn's earlier writes stay: callers
   * make the write that can fail (an insert on a unique field) their first.
   */
  async atomically<R>(fn: (tables: StoreTables) => Promise<R>): Promise<R> {
    this.holds++;
    try {
      return await fn(this);
    } finally {
      if (--this.holds === 0) for (const release of this.holdWaiters.splice(0)) release();
    }
  }

  /** One process opens a data directory (its LOCK file), so a lock in this process is a lock for all of them. */
  lock(name: string, opts?: { wait?: boolean }): Promise<StoreLock | null> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.locks.acquire(name, opts?.wait ?? false);
  }

  private untilNoHolds(): Promise<void> {
    return this.holds === 0 ? Promise.resolve() : new Promise((r) => this.holdWaiters.push(r));
  }

  status(): {
    kind: 'lowdb';
    ok: boolean;
    lastFlushAt: number | null;
    lastError: string | null;
    pendingWrites: number;
  } {
    return {
      kind: 'lowdb',
      ok: !this.closed && this.lastError === null,
      lastFlushAt: this.lastFlushAt,
      lastError: this.lastError,
      pendingWrites: imageCount(this.pending) + imageCount(this.inflight),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.flushTimer = null;
    this.checkpointTimer = null;
    try {
      await this.flush();
      if (this.checkpointing) await this.checkpointing.catch(() => undefined);
      if (this.checkpointQueued) await this.checkpointQueued.catch(() => undefined);
      // Leave the shards complete, so the next start replays nothing.
      if (this.checkpointDirty.size || this.journal.size) await this.checkpoint();
    } finally {
      this.closed = true;
      await this.journal.close().catch(() => undefined);
      this.releaseLock();
    }
  }

  /** Sizes of the data files, for /healthz and the bench. */
  diskUsage(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const name of readdirSync(this.dataDir)) {
      if (!name.endsWith('.db') && journalGeneration(name) === null) continue;
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
