import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { StoreOpenError } from '../errors.js';

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Any fixed number: the one advisory lock every process takes to migrate, so they migrate one at a time. */
const MIGRATION_LOCK = 0x63_73_6d_67; // 'csmg'

/** The versioned files NNN_name.sql, in order. */
export function migrationFiles(dir = MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir)
    .map((f) => /^(\d{3,})_([\w-]+)\.sql$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, m[0]), 'utf8') }))
    .sort((a, b) => a.version - b.version);
  files.forEach((f, i) => {
    if (f.version !== i + 1)
      throw new Error(
        `migration files must be numbered 001, 002, ... without gaps; found ${String(f.version).padStart(3, '0')}_${f.name}.sql at position ${i + 1}`,
      );
  });
  return files;
}

export interface MigrateResult {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Brings the database's schema up to the newest file, all pending files in one transaction
 * under a transaction-scoped advisory lock: two processes starting together both wait for the
 * lock, the first migrates, the second finds nothing left to do. A database whose schema is
 * newer than this build is refused before anything is touched.
 */
export async function migrate(
  client: pg.ClientBase,
  files: MigrationFile[] = migrationFiles(),
): Promise<MigrateResult> {
  const latest = files.length ? files[files.length - 1]!.version : 0;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const from = r.rows[0]?.v ?? 0;
    if (from > latest) {
      throw new StoreOpenError(
        `The database's schema is version ${from}, newer than this build of Call Santa knows (${latest}): it was migrated by a newer release. Run that release (or newer); this one will not touch the data.`,
      );
    }
    const applied: string[] = [];
    for (const f of files.filter((m) => m.version > from)) {
      await client.query(f.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [f.version, f.name]);
      applied.push(`${String(f.version).padStart(3, '0')}_${f.name}`);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, latest), applied };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
