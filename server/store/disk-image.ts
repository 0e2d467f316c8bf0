import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { EncryptedJSONFile } from './encrypted-file.js';
import { StoreOpenError } from './errors.js';
import { journalGeneration, readJournal } from './journal.js';
import { GROUPS, MANIFEST_FILE, parseShardFileName, shardFileName, type Manifest } from './disk-layout.js';
import { TABLE_DEFS } from './schema.js';
import type { TableName } from './types.js';
import { decrypt } from './crypto.js';

export type RawRow = Record<string, unknown> & { id: string };
export type RowMaps = Map<TableName, Map<string, RawRow>>;

/** A shard file's document: rows per table of the shard's group. */
export interface ShardDoc {
  schemaVersion: number;
  tables: Partial<Record<TableName, unknown[]>>;
}

/** One commit's payload in the journal: the rows as they became, null for a removed row. */
export interface JournalPayload {
  v: number;
  c: [TableName, string, RawRow | null][];
}

export interface ReplayedChange {
  table: TableName;
  before: RawRow | undefined;
  after: RawRow | undefined;
}

/** What the data directory holds once every committed change is applied, read without writing. */
export interface DiskImage {
  manifest: Manifest | null;
  rows: RowMaps;
  /** Journals at or after the manifest's generation, oldest first. */
  journals: { generation: number; records: number; bytes: number; tornBytes: number }[];
  replayed: ReplayedChange[];
  /** Files that are not part of the current layout: other epochs, journals already folded in. */
  staleFiles: string[];
}

function emptyRowMaps(): RowMaps {
  return new Map((Object.keys(TABLE_DEFS) as TableName[]).map((t) => [t, new Map<string, RawRow>()]));
}

/**
 * Reads the manifest, the shard files of its layout and the journals it has not folded in,
 * and replays those over the shards. Every file is decrypted before anything is decided, so a
 * damaged file stops the start with nothing changed.
 */
export async function readDiskImage(dataDir: string, key: Buffer): Promise<DiskImage> {
  const manifestFile = new Low<Manifest | null>(
    new EncryptedJSONFile<Manifest | null>(join(dataDir, MANIFEST_FILE), key),
    null,
  );
  await manifestFile.read();
  const manifest = manifestFile.data;
  const names = readdirSync(dataDir);
  const rows = emptyRowMaps();
  const staleFiles: string[] = [];

  const epoch = manifest?.epoch ?? 0;
  const firstJournal = manifest?.journal ?? 0;
  for (const name of names) {
    const shard = parseShardFileName(name);
    if (shard && (!manifest || shard.epoch !== epoch || shard.shard >= manifest.shards[shard.group]))
      staleFiles.push(name);
    const gen = journalGeneration(name);
    if (gen !== null && gen < firstJournal) staleFiles.push(name);
  }
  if (!manifest) {
    const data = names.filter((n) => parseShardFileName(n) || journalGeneration(n) !== null);
    if (data.length)
      throw new StoreOpenError(
        `${dataDir} holds data files (${data[0]}) but no ${MANIFEST_FILE}; refusing to guess their layout`,
      );
    return { manifest, rows, journals: [], replayed: [], staleFiles };
  }

  for (const group of GROUPS) {
    for (let shard = 0; shard < manifest.shards[group]; shard++) {
      const name = shardFileName(group, shard, epoch);
      const low = new Low<ShardDoc>(new EncryptedJSONFile<ShardDoc>(join(dataDir, name), key), {
        schemaVersion: manifest.schemaVersion,
        tables: {},
      });
      await low.read();
      for (const [table, list] of Object.entries(low.data.tables) as [TableName, RawRow[]][]) {
        const map = rows.get(table);
        if (!map || TABLE_DEFS[table].group !== group) throw new StoreOpenError(`Unknown table ${table} in ${name}`);
        for (const row of list) map.set(row.id, row);
      }
    }
  }

  const journalFiles = names
    .map((name) => ({ name, generation: journalGeneration(name) }))
    .filter((j): j is { name: string; generation: number } => j.generation !== null && j.generation >= firstJournal)
    .sort((a, b) => a.generation - b.generation);
  const journals: DiskImage['journals'] = [];
  const replayed: ReplayedChange[] = [];
  journalFiles.forEach(({ name, generation }, i) => {
    const contents = readJournal(join(dataDir, name), key, generation, i === journalFiles.length - 1);
    journals.push({
      generation,
      records: contents.records.length,
      bytes: contents.bytes,
      tornBytes: contents.tornBytes,
    });
    for (const record of contents.records) {
      const payload = JSON.parse(record.toString('utf8')) as JournalPayload;
      if (payload.v !== manifest.schemaVersion) {
        throw new StoreOpenError(
          `${name} holds schema version ${payload.v} but the data is at ${manifest.schemaVersion}; the server will not start`,
        );
      }
      for (const [table, id, row] of payload.c) {
        const map = rows.get(table);
        if (!map) throw new StoreOpenError(`Unknown table ${table} in ${name}`);
        const before = map.get(id);
        if (row) map.set(id, row);
        else map.delete(id);
        replayed.push({ table, before, after: row ?? undefined });
      }
    }
  });
  return { manifest, rows, journals, replayed, staleFiles };
}

/**
 * Every sealed file of a data directory as plaintext (shards, manifest, each journal record,
 * photo blobs): for tests that prove what is and is not stored.
 */
export function decryptDataFiles(dataDir: string, key: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path, name);
      else if (entry.name.endsWith('.db')) out.set(name, decrypt(key, readFileSync(path), entry.name).toString('utf8'));
      else if (entry.name.endsWith('.bin'))
        out.set(name, decrypt(key, readFileSync(path), `blob:${entry.name.slice(0, -4)}`).toString('latin1'));
      else {
        const gen = journalGeneration(entry.name);
        if (gen === null) continue;
        const { records } = readJournal(path, key, gen, true);
        out.set(name, records.map((r) => r.toString('utf8')).join('\n'));
      }
    }
  };
  walk(dataDir, '');
  return out;
}

/** The committed rows of one table, read from the files (for a server in another process). */
export async function committedRows(dataDir: string, key: Buffer, table: TableName): Promise<RawRow[]> {
  const image = await readDiskImage(dataDir, key);
  return [...(image.rows.get(table)?.values() ?? [])];
}
