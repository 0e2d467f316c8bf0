import { createHash } from 'node:crypto';
import type { GroupName } from './schema.js';

/**
 * Shards per group. A checkpoint rewrites whole shards, each in one turn of the event loop,
 * so a shard must stay small: at 10,000 families with a season of history a ledger or usage
 * shard is about 0.3-0.6 MB of JSON with 128 shards.
 */
export const SHARDS: Record<GroupName, number> = { people: 128, ledger: 128, usage: 128, audit: 32, ops: 8 };
export const GROUPS = Object.keys(SHARDS) as GroupName[];

/**
 * What the manifest records: the layout the shard files were written in (schema version,
 * shard counts, epoch) and the oldest journal generation not yet folded into them.
 */
export interface Manifest {
  schemaVersion: number;
  shards: Record<GroupName, number>;
  /** Bumped when every shard is rewritten in a new layout (migration, resharding). */
  epoch?: number;
  /** Journals of this generation and later are replayed at open. */
  journal?: number;
}

export const MANIFEST_FILE = 'manifest.db';

export function shardIndex(key: string, count: number): number {
  if (count === 1) return 0;
  return createHash('sha1').update(key).digest().readUInt32BE(0) % count;
}

/** Epoch 0 keeps the original names, so data directories from before epochs open unchanged. */
export function shardFileName(group: GroupName, shard: number, epoch: number): string {
  const base = `${group}-${String(shard).padStart(2, '0')}`;
  return epoch === 0 ? `${base}.db` : `${base}.e${epoch}.db`;
}

const SHARD_FILE = /^(people|ledger|usage|audit|ops)-(\d+)(?:\.e(\d+))?\.db$/;

export function parseShardFileName(name: string): { group: GroupName; shard: number; epoch: number } | null {
  const m = SHARD_FILE.exec(name);
  if (!m) return null;
  return { group: m[1] as GroupName, shard: Number(m[2]), epoch: m[3] ? Number(m[3]) : 0 };
}
