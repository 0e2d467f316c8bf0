import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/lowdb-store.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { TABLE_NAMES } from '../../server/store/schema.js';
import { creditState } from '../../server/credits/ledger-math.js';
import { scriptedFamily, type Family } from '../../server/privacy/test-helpers.js';
import { freshDatabase } from '../support/postgres.js';
import { startTestServer, tempDataDir, type TestServer } from '../support/server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function copy(from: string, to: string) {
  return spawnSync('npm', ['run', '--silent', 'store:copy', '--', '--from', from, '--to', to], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATA_KEY: '' } });
}

describe('npm run store:copy: from a lowdb data directory into an empty PostgreSQL database', () => {
  it('copies every row and photo, the audit chain verifies, balances and deadlines are equal, and a second run is refused', async () => {
    // A lowdb directory with two families' every kind of data, one of them with a closed account waiting for its purge.
    const dataDir = tempDataDir('callsanta-copy-');
    dirs.push(dataDir);
    let server: TestServer | null = await startTestServer({ dataDir, env: { DATABASE_URL: '' } });
    const families: Family[] = [await scriptedFamily(server), await scriptedFamily(server)];
    expect((await server.api.delete('/api/me', { password: families[1]!.password }, families[1]!.token)).status).toBe(202);
    await server.stop();
    server = null;

    const url = await freshDatabase('copy');
    const first = copy(dataDir, url);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/accounts: 2 rows/);
    expect(first.stdout).toMatch(/audit chain: verifies \(\d+ entries\)/);
    expect(first.stdout).not.toMatch(/MISMATCH/);
    for (const t of TABLE_NAMES) expect(first.stdout).toMatch(new RegExp(`^  ${t}\\s+\\d+ ->\\s+\\d+ ok$`, 'm'));

    const key = readFileSync(join(dataDir, 'data.key'), 'utf8').trim();
    const source = await openStore({ dataDir, dataKey: key });
    const target = await openPgStore({ url, dataKey: key });
    try {
      for (const t of TABLE_NAMES) {
        const a: { id: string }[] = [];
        const b: { id: string }[] = [];
        for await (const batch of source[t].scan()) a.push(...batch);
        for await (const batch of target[t].scan()) b.push(...batch);
        expect(b.sort(byId), t).toEqual(a.sort(byId));
      }
      for (const f of families) {
        expect(creditState(await target.ledger.findBy('accountId', f.accountId))).toEqual(creditState(await source.ledger.findBy('accountId', f.accountId)));
      }
      expect((await target.accounts.get(families[1]!.accountId))?.purgeBy).toBe((await source.accounts.get(families[1]!.accountId))?.purgeBy);
      expect((await target.photoFiles.list()).sort()).toEqual((await source.photoFiles.list()).sort());
      const photo = families[0]!.photoId;
      expect(await target.photoFiles.get(photo)).toEqual(await source.photoFiles.get(photo));
    } finally {
      await target.close();
      await source.close();
    }

    const second = copy(dataDir, url);
    expect(second.status).toBe(3);
    expect(second.stderr).toMatch(/the target is not empty \(accounts has rows\)/);

    // The server on the copy: the parent signs in with the same password and sees the same balance.
    const onPg = await startTestServer({ env: { DATABASE_URL: url, DATA_KEY: key } });
    try {
      const login = await onPg.api.post('/api/auth/login', { email: families[0]!.email, password: families[0]!.password });
      expect(login.status).toBe(200);
      expect((await onPg.api.get('/api/profiles', login.body.token)).body.profiles).toHaveLength(1);
    } finally {
      await onPg.close();
    }
  });

  it('says how it is used when the arguments are missing', () => {
    const r = spawnSync('npm', ['run', '--silent', 'store:copy', '--', '--from', './data'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: npm run store:copy -- --from <lowdb data dir> --to postgres:/);
  });
});
