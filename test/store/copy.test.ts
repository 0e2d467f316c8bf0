/* eslint-disable @typescript-eslint/no-explicit-any -- test client: bodies are checked by each assertion */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/lowdb-store.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { TABLE_NAMES } from '../../server/store/schema.js';
import { KEY_FILE } from '../../server/store/crypto.js';
import { AuditService } from '../../server/audit/service.js';
import { systemClock } from '../../server/core/clock.js';
import { DAY_MS } from '../../shared/units.js';
import type { Store, TableName } from '../../server/store/types.js';
import { admin, expectStatus, scriptedFamily } from '../../server/privacy/test-helpers.js';
import { freshDatabase } from '../support/postgres.js';
import { tempDataDir, testServers } from '../support/server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const servers = testServers();

/** Every row of every table, by id, and every photo file: what a store holds. */
async function snapshot(
  store: Store,
): Promise<{ tables: Map<TableName, Map<string, unknown>>; photos: Map<string, Buffer> }> {
  const tables = new Map<TableName, Map<string, unknown>>();
  for (const name of TABLE_NAMES) {
    const rows = new Map<string, unknown>();
    for await (const batch of store[name].scan()) for (const row of batch) rows.set(row.id, row);
    tables.set(name, rows);
  }
  const photos = new Map<string, Buffer>();
  for (const id of await store.photoFiles.list()) photos.set(id, (await store.photoFiles.get(id))!);
  return { tables, photos };
}

function storeCopy(args: string[], env: Record<string, string | undefined>) {
  const r = spawnSync('npx', ['tsx', 'server/store/copy-cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DATA_KEY: undefined, DATABASE_URL: undefined, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run store:copy: moving a lowdb installation onto PostgreSQL', () => {
  it(
    'copies every row and photo of a season into an empty database, the audit chain, balances and deadlines unchanged; a second run is refused',
    { timeout: 300_000 },
    async () => {
      // A lowdb installation as the server leaves it, data.key beside the data (no DATA_KEY), used through the real API.
      const server = await servers.start();
      const families = [];
      for (let i = 0; i < 4; i++) families.push(await scriptedFamily(server));
      const [kept, granted, , leaving] = families as [
        (typeof families)[0],
        (typeof families)[0],
        (typeof families)[0],
        (typeof families)[0],
      ];
      expectStatus(
        await admin(server.api).post(`/admin/accounts/${granted.accountId}/credits`, {
          seconds: 900,
          reason: 'goodwill after a dropped call',
        }),
        201,
      );
      expectStatus(await server.api.delete('/api/me', { password: leaving.password }, leaving.token), 202);
      const purgeBy = server.clock.now() + 30 * DAY_MS;

      const creditsBefore = new Map<string, any>();
      for (const f of families.slice(0, 3))
        creditsBefore.set(f.accountId, (await server.api.get('/api/credits', f.token)).body);
      expect(creditsBefore.get(granted.accountId).balanceSeconds).toBeGreaterThan(
        creditsBefore.get(kept.accountId).balanceSeconds,
      );
      expect((await admin(server.api).get('/admin/audit/verify')).body).toMatchObject({ ok: true });
      await server.stop();

      const dataDir = server.dataDir;
      const dataKey = readFileSync(join(dataDir, KEY_FILE), 'utf8').trim();
      const lowdb = await openStore({ dataDir });
      const before = await snapshot(lowdb);
      await lowdb.close();
      // The season really holds every kind of row the copy must carry.
      for (const name of [
        'accounts',
        'sessions',
        'profiles',
        'photos',
        'consents',
        'policies',
        'ledger',
        'payments',
        'calls',
        'logins',
        'audit',
        'support',
        'meta',
      ] as const) {
        expect(before.tables.get(name)!.size, name).toBeGreaterThan(0);
      }
      expect(before.photos.size).toBe(6); // a saved photo and a temporary upload for each family still open
      expect(before.tables.get('accounts')!.get(leaving.accountId)).toMatchObject({ status: 'closed', purgeBy });
      const rowCount = [...before.tables.values()].reduce((n, m) => n + m.size, 0);

      const url = await freshDatabase('copy');
      // No DATA_KEY: the directory opens with its data.key, as the server opens it, and the database is sealed with that same key.
      const copy = storeCopy(['--from', dataDir, '--to', url], {});
      expect(copy.stderr).toBe('');
      expect(copy.status).toBe(0);
      expect(copy.stdout).toContain(
        `The database is sealed with the key in ${join(dataDir, KEY_FILE)}: start the server with DATABASE_URL and DATA_KEY="$(cat ${join(dataDir, KEY_FILE)})"`,
      );
      // Progress: rows per table as they go, then the count check, source against target.
      for (const name of TABLE_NAMES) {
        const n = before.tables.get(name)!.size;
        expect(copy.stdout).toContain(`  ${name}: ${n} rows\n`);
        expect(copy.stdout).toMatch(new RegExp(`\\n${name} +${n} +${n}  ok\\n`));
      }
      expect(copy.stdout).toMatch(new RegExp(`\\nphoto files +${before.photos.size} +${before.photos.size}  ok\\n`));
      expect(copy.stdout).toContain(
        `rows: all ${rowCount} rows and ${before.photos.size} photo files read back from the target and equal to the source`,
      );
      expect(copy.stdout).toMatch(/audit chain: source verifies \((\d+) entries\), target verifies \(\1 entries\)/);
      expect(copy.stdout).toContain('balances: equal for all');
      expect(copy.stdout).toContain('copy complete: the target matches the source');

      // What PostgreSQL now holds, read with its own store: every row, every photo, equal.
      const pg = await openPgStore({ url, dataKey });
      try {
        const after = await snapshot(pg);
        for (const name of TABLE_NAMES) expect(after.tables.get(name), name).toEqual(before.tables.get(name));
        expect(after.photos).toEqual(before.photos);
        expect(await new AuditService({ store: pg, clock: systemClock }).verifyChain()).toEqual({
          ok: true,
          entries: before.tables.get('audit')!.size,
        });
        // The closed account's purge deadline is a real column there too: the purge sweep finds it.
        expect((await pg.accounts.findBy('status', 'closed')).map((a) => [a.id, a.purgeBy])).toEqual([
          [leaving.accountId, purgeBy],
        ]);
      } finally {
        await pg.close();
      }

      // A second run finds the database in use and changes nothing.
      const again = storeCopy(['--from', dataDir, '--to', url], { DATA_KEY: dataKey });
      expect(again.status).toBe(3);
      expect(again.stderr).toMatch(
        /store:copy: the target is not empty \(accounts: 4, .*\); store:copy only fills an empty database, so nothing was copied/,
      );
      expect(again.stdout).not.toContain('rows ...');

      // The server on PostgreSQL is the same installation: the parents are still signed in and sign in again with their passwords, balances as before, the chain verifies.
      const moved = await servers.start({ env: { DATABASE_URL: url, DATA_KEY: dataKey }, clock: server.clock });
      const login = await moved.api.post('/api/auth/login', { email: kept.email, password: kept.password });
      expect(login.status).toBe(200);
      expect((await moved.api.get('/api/profiles', login.body.token)).body.profiles).toHaveLength(1);
      for (const f of families.slice(0, 3)) {
        const credits = await moved.api.get('/api/credits', f.token);
        expect(credits.status).toBe(200);
        expect(credits.body).toEqual(creditsBefore.get(f.accountId));
        expect((await moved.api.get('/api/me', f.token)).body.email).toBe(f.email);
      }
      expect((await moved.api.get('/api/me', leaving.token)).status).toBe(401);
      expect((await admin(moved.api).get('/admin/audit/verify')).body).toMatchObject({ ok: true });
      const check = await moved.app.store.accounts.get(leaving.accountId);
      expect(check).toMatchObject({ status: 'closed', purgeBy });
    },
  );

  it('refuses what is not a data directory, a URL that is not PostgreSQL, and a directory with neither DATA_KEY nor data.key, without touching anything', () => {
    const keyless = tempDataDir('callsanta-copy-nokey-');
    const noKey = storeCopy(['--from', keyless, '--to', 'postgres://127.0.0.1:1/none'], {});
    rmSync(keyless, { recursive: true, force: true });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain('DATA_KEY: is required with DATABASE_URL');
    expect(noKey.stderr).toContain(`${keyless} has no data.key either: set DATA_KEY to the key it was written with.`);
    const r = storeCopy(['--from', join(ROOT, 'docs'), '--to', 'postgres://127.0.0.1:1/none'], {
      DATA_KEY: 'a'.repeat(64),
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('is not a Call Santa data directory (it has no manifest.db); nothing was copied.');
    const bad = storeCopy(['--from', join(ROOT, 'docs'), '--to', 'mysql://db/santa'], { DATA_KEY: 'a'.repeat(64) });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Invalid DATABASE_URL: must be a postgres:// or postgresql:// URL');
    const usage = storeCopy(['--from', join(ROOT, 'docs')], { DATA_KEY: 'a'.repeat(64) });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--from and --to are both required');
  });
});
