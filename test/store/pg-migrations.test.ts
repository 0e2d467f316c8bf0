import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, migrationFiles } from '../../server/store/pg/migrate.js';
import { migrateDatabase, openPgStore } from '../../server/store/pg-store.js';
import { PG_TABLES } from '../../server/store/pg/tables.js';
import { TABLE_DEFS, TABLE_NAMES } from '../../server/store/schema.js';
import { StoreOpenError } from '../../server/store/errors.js';
import { freshDatabase } from '../support/postgres.js';
import type { CallRow } from '../../server/store/types.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});
async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

describe('PostgreSQL schema migrations', () => {
  it('two processes starting together migrate once: one applies every file, the other finds nothing to do', async () => {
    const url = await freshDatabase('migr');
    const [a, b] = await Promise.all([migrateDatabase(url), migrateDatabase(url)]);
    const latest = migrationFiles().length;
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, latest]);
    const c = await connect(url);
    const rows = await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.rows.map((r) => r.version)).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
  });

  it('npm run migrate applies the files without starting the server, and a second run has nothing to do', async () => {
    const url = await freshDatabase('migrcli');
    const run = () =>
      spawnSync('npm', ['run', '--silent', 'migrate'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: url },
      });
    const latest = migrationFiles().length;
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const files = migrationFiles();
    const names = files.map((f) => `${String(f.version).padStart(3, '0')}_${f.name}`).join(', ');
    expect(first.stdout).toContain(`migrated from schema 0 to ${latest}: ${names}`);
    expect(names).toContain('003_call_owner_lease');
    const second = run();
    expect(second.stdout).toContain(`up to date (version ${latest})`);
    const none = spawnSync('npm', ['run', '--silent', 'migrate'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '' },
    });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/needs DATABASE_URL=postgres:/);
  });

  it('a database whose schema is newer than this build is refused at start with a clear message, untouched', async () => {
    const url = await freshDatabase('migrnew');
    await migrateDatabase(url);
    const c = await connect(url);
    await c.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'from_the_future')");
    const attempt = openPgStore({ url, dataKey: randomBytes(32).toString('hex') });
    await expect(attempt).rejects.toBeInstanceOf(StoreOpenError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`schema is version 99, newer than this build of Call Santa knows \\(${migrationFiles().length}\\)`),
    );
    // Nothing was written: not even the key check a first start stores.
    expect((await c.query('SELECT count(*)::int AS n FROM store_info')).rows[0].n).toBe(0);
  });

  it('a migration that fails leaves the database as it was: the files before it in the same run are rolled back too', async () => {
    const url = await freshDatabase('migrfail');
    const c = await connect(url);
    const files = [
      { version: 1, name: 'good', sql: 'CREATE TABLE first_table (id text PRIMARY KEY)' },
      { version: 2, name: 'bad', sql: 'CREATE TABLE second_table (id text PRIMARY KEY); SELECT no_such_function()' },
    ];
    await expect(migrate(c, files)).rejects.toThrow(/no_such_function/);
    const tables = await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    // Not even the bookkeeping table: it was created in the same transaction.
    expect(tables.rows).toEqual([]);
  });

  it('migration 001 gives every Store table a real column for each field it is looked up or kept unique by', async () => {
    const url = await freshDatabase('migrcols');
    await migrateDatabase(url);
    const c = await connect(url);
    for (const name of TABLE_NAMES) {
      const def = PG_TABLES[name];
      const cols = await c.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
        [def.sql],
      );
      const have = new Set(cols.rows.map((r) => r.column_name));
      for (const col of ['id', 'ord', 'key_id', 'payload', ...def.columns.map((x) => x.column)])
        expect(have, `${def.sql}.${col}`).toContain(col);
      const fields = new Set(def.columns.map((x) => x.field));
      for (const f of [...TABLE_DEFS[name].indexes, ...TABLE_DEFS[name].unique])
        expect(fields, `${name}.${f} needs a column`).toContain(f);
      for (const f of TABLE_DEFS[name].unique)
        expect(def.columns.find((x) => x.field === f)?.unique, `${name}.${f} unique`).toBe(true);
    }
  });

  it('migration 003: a call sealed before it reads as owned by nobody with its lease long passed, and is found by owner', async () => {
    const url = await freshDatabase('migrlease');
    const store = await openPgStore({ url, dataKey: randomBytes(32).toString('hex') });
    try {
      // A row as the build before 003 sealed it: none of the owner and lease fields.
      const before = {
        id: 'call-before-003',
        accountId: 'acct-1',
        profileId: 'p1',
        provider: 'openai',
        providerCallId: 'rtc_1',
        heldSeconds: 60,
        startedAt: 1,
        meteredSeconds: 7,
        checkpointAt: 8,
        endedAt: null,
        reason: null,
        settledAt: null,
      };
      await store.calls.insert(before as unknown as CallRow);
      expect(await store.calls.get(before.id)).toEqual({
        ...before,
        ownerId: null,
        leaseUntil: 0,
        limitReason: null,
        endRequest: null,
        window: null,
      });
      await store.calls.update(before.id, { ownerId: 'process-a', leaseUntil: 20 });
      expect((await store.calls.findBy('ownerId', 'process-a')).map((r) => r.id)).toEqual([before.id]);
    } finally {
      await store.close();
    }
  });
});
