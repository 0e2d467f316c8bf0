import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decrypt } from '../../server/store/crypto.js';
import { BLOB_CONTEXT, SHRED_COMPACT_MS, WRAP_CONTEXT, pgStoreKeys, rowContext } from '../../server/store/pg-store.js';
import { TABLE_NAMES } from '../../server/store/schema.js';
import { scriptedFamily, admin, expectStatus, type Family } from '../../server/privacy/test-helpers.js';
import { startPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MAGIC = Buffer.from('CSE1');
const CONTEXTS = [...TABLE_NAMES.map(rowContext), BLOB_CONTEXT];

/**
 * Every sealed value that can be found in raw bytes: each "CSE1" with the length that the
 * PostgreSQL varlena header in front of it gives (1-byte or 4-byte header). Values that TOAST
 * split into chunks (over ~2 kB: photos) or that a WAL page boundary cuts are not found whole;
 * every text field of a row is far below that.
 */
function sealedValues(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = buf.indexOf(MAGIC); i !== -1; i = buf.indexOf(MAGIC, i + 1)) {
    const lengths = new Set<number>();
    if (i >= 1 && (buf[i - 1]! & 1) === 1) lengths.add((buf[i - 1]! >> 1) - 1);
    if (i >= 4 && (buf.readUInt32LE(i - 4) & 3) === 0) lengths.add((buf.readUInt32LE(i - 4) >>> 2) - 4);
    for (const len of lengths) if (len >= 32 && i + len <= buf.length) out.push(buf.subarray(i, i + len));
  }
  return out;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/**
 * What someone holding DATA_KEY can read from the cluster's files right now: every data key
 * found wrapped anywhere (heap or WAL, live or dead), then every sealed value that opens with
 * the store key or one of those keys. Returns the plaintexts, and where each was found.
 */
function readableWithDataKey(cluster: PgCluster, dbOid: number, dataKey: string): { where: string; text: string }[] {
  const { seal, wrap } = pgStoreKeys(dataKey);
  const files = [
    ...filesUnder(join(cluster.dataDir, 'base', String(dbOid))),
    ...filesUnder(join(cluster.dataDir, 'pg_wal')),
  ];
  const found: { file: string; value: Buffer }[] = [];
  for (const f of files) for (const value of sealedValues(readFileSync(f))) found.push({ file: f, value });
  const keys = [seal];
  for (const { value } of found) {
    try {
      keys.push(Buffer.from(decrypt(wrap, value, WRAP_CONTEXT).subarray(0, 32)));
    } catch {
      // not a wrapped key
    }
  }
  const out: { where: string; text: string }[] = [];
  for (const { file, value } of found) {
    for (const key of keys) {
      for (const ctx of CONTEXTS) {
        try {
          out.push({
            where: `${file.slice(cluster.dataDir.length)} (${ctx})`,
            text: decrypt(key, value, ctx).toString('utf8'),
          });
        } catch {
          // not this key or context
        }
      }
    }
  }
  return out;
}

describe('PostgreSQL at rest: what a pg_dump and the cluster files hold', () => {
  let cluster: PgCluster;
  let server: TestServer;
  let url: string;
  let dbOid: number;
  const dataKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    // A cluster of its own, configured as docs/OPERATIONS.md asks (full-page writes on, WAL
    // segments deleted rather than recycled), so its files hold this test's data only.
    cluster = await startPgCluster({ settings: { full_page_writes: 'on', wal_recycle: 'off' } });
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE atrest');
    dbOid = (await admin.query<{ oid: number }>("SELECT oid FROM pg_database WHERE datname = 'atrest'")).rows[0]!.oid;
    await admin.end();
    url = cluster.url.replace(/\/postgres$/, '/atrest');
    server = await startTestServer({
      env: { DATABASE_URL: url, DATA_KEY: dataKey, PUBLIC_URL: 'https://santa.example.test' },
    });
  });
  afterAll(async () => {
    await server?.close();
    cluster?.stop();
  });

  it('after a full workload a pg_dump holds no email, name, child name, wish, note or reset token in the clear', async () => {
    const family = await scriptedFamily(server);
    expectStatus(await server.api.post('/api/auth/password-reset/request', { email: family.email }), 202);
    await server.app.services.passwordResets.settled(); // the mail is written after the answer
    const mails = await server.app.store.outbox.findBy('accountId', family.accountId);
    const token = /#token=([A-Za-z0-9_-]{43})/.exec(mails.map((m) => m.body).join('\n'))?.[1];
    expect(token).toBeTruthy();
    const dump = spawnSync(join(cluster.bin, 'pg_dump'), ['--data-only', '--inserts', url], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(dump.status, dump.stderr).toBe(0);
    // The dump is real: it holds the rows, by id.
    expect(dump.stdout).toContain(family.accountId);
    expect(dump.stdout).toContain(family.profileId);
    for (const secret of [...family.secrets, family.email.toLowerCase(), token!, 'Loves reindeer'])
      expect(dump.stdout, secret).not.toContain(secret);
  });

  describe('gone at once: nothing of a deleted profile or a purged account can be read with DATA_KEY from the heap files or the WAL', () => {
    let family: Family;
    beforeAll(async () => {
      family = await scriptedFamily(server);
    });

    it('before the deletion the scan does read the profile (the scan finds what is there)', () => {
      const texts = readableWithDataKey(cluster, dbOid, dataKey).map((r) => r.text);
      expect(texts.some((t) => t.includes(family.childName) && t.includes(family.wish))).toBe(true);
      expect(texts.some((t) => t.includes(family.email))).toBe(true);
    });

    it('a deleted profile (P9): its name, wish list and notes are readable nowhere once DELETE answered', async () => {
      expectStatus(await server.api.delete(`/api/profiles/${family.profileId}`, undefined, family.token), 204);

      // The parent's own support request names the child too: it is the parent's message, kept
      // (and purged) with the account under P10, so it is not part of the profile.
      const left = readableWithDataKey(cluster, dbOid, dataKey)
        .filter((r) => !r.where.includes(`(${rowContext('support')})`))
        .filter((r) => [family.childName, family.wish, family.note].some((s) => r.text.includes(s)));
      expect(left.map((r) => `${r.where}: ${r.text.slice(0, 80)}`)).toEqual([]);
    });

    it('a used reset link: the link is readable nowhere once the new password is set', async () => {
      expectStatus(await server.api.post('/api/auth/password-reset/request', { email: family.email }), 202);
      await server.app.services.passwordResets.settled();
      const mails = await server.app.store.outbox.findBy('accountId', family.accountId);
      const token = /#token=([A-Za-z0-9_-]{43})/.exec(mails.map((m) => m.body).join('\n'))?.[1];
      expect(token).toBeTruthy();
      expect(readableWithDataKey(cluster, dbOid, dataKey).some((r) => r.text.includes(token!))).toBe(true);
      family.password = 'a brand new long password';
      expectStatus(
        await server.api.post('/api/auth/password-reset/confirm', { token, newPassword: family.password }),
        200,
      );
      // No compact() by the service here: the store runs one within SHRED_COMPACT_MS of destroying the mail's old key.
      await vi.waitFor(
        () =>
          expect(
            readableWithDataKey(cluster, dbOid, dataKey)
              .filter((r) => r.text.includes(token!))
              .map((r) => r.where),
          ).toEqual([]),
        {
          timeout: SHRED_COMPACT_MS + 10_000,
          interval: 250,
        },
      );
      // The reset signed every session out: the account's next step (the purge test) signs in anew.
      const login = await server.api.post('/api/auth/login', { email: family.email, password: family.password });
      expectStatus(login, 200);
      family.token = login.body.token as string;
    });

    it('a purged account (P10): its email and name are readable nowhere once the purge sweep answered', async () => {
      expectStatus(await server.api.delete('/api/me', { password: family.password }, family.token), 202);
      server.clock.advance(31 * DAY_MS);
      const swept = await admin(server.api).post('/admin/retention/run');
      expect(swept.status).toBeLessThan(300);
      expect(await server.app.store.accounts.get(family.accountId)).toBeUndefined();
      const left = readableWithDataKey(cluster, dbOid, dataKey).filter((r) =>
        family.secrets.some((s) => r.text.includes(s)),
      );
      expect(left.map((r) => `${r.where}: ${r.text.slice(0, 80)}`)).toEqual([]);
    });
  });
});
