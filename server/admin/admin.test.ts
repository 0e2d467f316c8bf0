import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminAccountSchema, adminStatsSchema } from '../../shared/schemas/privacy.js';
import { decrypt, encrypt, KEY_FILE, parseKey } from '../store/crypto.js';
import {
  signUpParent,
  startTestServer,
  tempDataDir,
  TEST_ADMIN_TOKEN,
  type TestServer,
} from '../../test/support/server.js';
import { MINUTE_MS } from '../../shared/units.js';
import { admin, expectStatus, scriptedFamily } from '../privacy/test-helpers.js';
import { testCallRow } from '../../test/support/call-rows.js';

let server: TestServer | undefined;
const extra: TestServer[] = [];
afterEach(async () => {
  for (const s of extra.splice(0)) await s.close();
  await server?.close();
  server = undefined;
});

/** Every admin route with a harmless request. */
const ADMIN_REQUESTS: [string, string, unknown?][] = [
  ['GET', '/admin/stats'],
  ['GET', '/admin/accounts?email=nobody%40example.test'],
  ['POST', '/admin/accounts/some-id/credits', { seconds: 60, reason: 'goodwill' }],
  ['POST', '/admin/calls/some-id/end', {}],
  ['GET', '/admin/audit'],
  ['GET', '/admin/audit/verify'],
  [
    'POST',
    '/admin/policy',
    { version: 'v9', material: false, effectiveAt: '2027-01-01T00:00:00Z', text: { en: 'a', da: 'b', sv: 'c' } },
  ],
  ['POST', '/admin/retention/run', {}],
  ['GET', '/admin/outbox'],
  ['GET', '/admin/metrics'],
  ['GET', '/admin/support'],
  ['POST', '/admin/support/some-id/close', {}],
];

describe('admin access (P17)', () => {
  it('without ADMIN_TOKEN the admin paths do not exist at all: 404 whatever is sent', async () => {
    server = await startTestServer({ env: { ADMIN_TOKEN: '' } });
    expect(server.config.adminToken).toBeUndefined();
    for (const [method, path, body] of ADMIN_REQUESTS) {
      for (const headers of [{}, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }] as Record<string, string>[]) {
        const res = await server.api.request(method, path, { headers, body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
    }
  });

  it('no token, a wrong token, a parent token or another scheme is 401 on every admin route and changes nothing', async () => {
    server = await startTestServer();
    const parent = await signUpParent(server.api);
    const auditBefore = await server.app.store.audit.count();
    const wrong = [
      undefined,
      `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}x`,
      `Bearer ${TEST_ADMIN_TOKEN}extra`,
      'Bearer short',
      `Bearer ${parent.token}`,
      `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}`,
      `Bearer${TEST_ADMIN_TOKEN}`,
      'Bearer ',
    ];
    // Every route, four bad credentials each, from one address and within one window: all
    // 401, and the valid token still works afterwards (no lockout from a sweep like this).
    for (const [method, path, body] of ADMIN_REQUESTS) {
      for (const authorization of wrong.slice(0, 4)) {
        const res = await server.api.request(method, path, { headers: authorization ? { authorization } : {}, body });
        expect(res.status, `${method} ${path} with ${authorization}`).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
      }
    }
    expect((await admin(server.api).get('/admin/stats')).status).toBe(200);
    await server.close();
    server = await startTestServer();
    for (const authorization of wrong) {
      const res = await server.api.request('GET', '/admin/stats', { headers: authorization ? { authorization } : {} });
      expect(res.status, String(authorization)).toBe(401);
    }
    expect((await admin(server.api).get('/admin/stats')).status).toBe(200);
    expect(await server.app.store.policies.findOne('version', 'v9')).toBeUndefined();
    expect(auditBefore).toBeGreaterThan(0);
  });

  it('repeated wrong tokens from one address are slowed down with 429 (100 in 15 minutes); requests with no credential are not counted', async () => {
    server = await startTestServer();
    for (let i = 0; i < 150; i++) expect((await server.api.request('GET', '/admin/stats')).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 101; i++)
      statuses.push(
        (await server.api.request('GET', '/admin/stats', { headers: { authorization: 'Bearer guess' } })).status,
      );
    expect(statuses.slice(0, 100).every((s) => s === 401)).toBe(true);
    expect(statuses[100]).toBe(429);
    // Locked: even the right token waits, so a guesser cannot tell a right guess by the answer.
    const locked = await admin(server.api).get('/admin/stats');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    server.clock.advance(15 * MINUTE_MS);
    expect((await admin(server.api).get('/admin/stats')).status).toBe(200);
  });
});

describe('admin endpoints', () => {
  it('stats are counts only: accounts, calls today, minutes, credit sold; no personal data, and no usage of restricted accounts', async () => {
    server = await startTestServer();
    const a = await scriptedFamily(server);
    const b = await scriptedFamily(server);
    expectStatus(await server.api.post('/api/me/restrict', { restricted: true }, b.token), 200);
    const res = await admin(server.api).get('/admin/stats');
    expect(res.status).toBe(200);
    const stats = adminStatsSchema.parse(res.body);
    expect(stats.accounts).toEqual({ active: 2, closed: 0, restricted: 1 });
    // The restricted family's call is kept but not aggregated (P12).
    expect(stats.calls).toMatchObject({ today: 1, live: 0, minutesToday: 1, minutesTotal: 1 });
    expect(stats.creditSold).toEqual({ seconds: 1200, payments: 2, amounts: [{ currency: 'dkk', amount: 9800 }] });
    expect(stats.support.open).toBe(2);
    const text = JSON.stringify(res.body);
    for (const s of [...a.secrets, ...b.secrets, a.accountId, b.accountId]) expect(text).not.toContain(s);
  });

  it('account lookup gives minimal fields, and every lookup is audited without the email', async () => {
    server = await startTestServer();
    const family = await scriptedFamily(server);
    const res = await admin(server.api).get(`/admin/accounts?email=${encodeURIComponent(family.email.toUpperCase())}`);
    expect(res.status).toBe(200);
    const account = adminAccountSchema.strict().parse(res.body.account);
    expect(account).toMatchObject({
      id: family.accountId,
      status: 'active',
      profiles: 1,
      consent: { verified: true },
      balanceSeconds: 505,
    });
    expect(JSON.stringify(res.body)).not.toContain(family.childName);
    const missing = await admin(server.api).get('/admin/accounts?email=nobody%40example.test');
    expect(missing.status).toBe(404);
    expect((await admin(server.api).get('/admin/accounts?email=not-an-email')).status).toBe(400);
    expect((await admin(server.api).get('/admin/accounts')).status).toBe(400);

    const lookups = (await server.app.services.audit.all()).filter((e) => e.action === 'admin.account_lookup');
    expect(lookups.map((e) => [e.actor, e.subject, e.details.found])).toEqual([
      ['admin', family.accountId, true],
      ['admin', null, false],
    ]);
    expect(JSON.stringify(await server.app.services.audit.all())).not.toContain(family.email);
  });

  it('every admin read of personal data is in the audit log: account lookup, outbox, support', async () => {
    server = await startTestServer();
    const family = await scriptedFamily(server);
    const before = await server.app.store.audit.count();
    expectStatus(await admin(server.api).get(`/admin/accounts?email=${encodeURIComponent(family.email)}`), 200);
    expectStatus(await admin(server.api).get('/admin/outbox'), 200);
    expectStatus(await admin(server.api).get('/admin/support'), 200);
    const actions = (await server.app.services.audit.all()).slice(before).map((e) => e.action);
    expect(actions).toEqual(['admin.account_lookup', 'admin.outbox_read', 'admin.support_read']);
  });

  it('a credit grant needs a reason, adds to the balance and is audited; closed or unknown accounts are 404', async () => {
    server = await startTestServer();
    const parent = await signUpParent(server.api);
    const res = await admin(server.api).post(`/admin/accounts/${parent.accountId}/credits`, {
      seconds: 300,
      reason: 'Call dropped on our side',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      accountId: parent.accountId,
      grantedSeconds: 300,
      balanceSeconds: 300,
      availableSeconds: 300,
    });
    expect((await server.api.get('/api/me', parent.token)).body.balanceSeconds).toBe(300);
    const grants = (await server.app.services.audit.forSubject(parent.accountId)).filter(
      (e) => e.action === 'credits.grant',
    );
    expect(grants).toEqual([
      expect.objectContaining({ actor: 'admin', details: expect.objectContaining({ seconds: 300 }) }),
    ]);
    expect((await server.app.store.ledger.findBy('accountId', parent.accountId))[0]?.note).toBe(
      'Call dropped on our side',
    );

    for (const body of [
      { seconds: 300 },
      { seconds: 0, reason: 'zero' },
      { seconds: 1.5, reason: 'half' },
      { seconds: 60, reason: 'ok', extra: true },
    ]) {
      expect(
        (await admin(server.api).post(`/admin/accounts/${parent.accountId}/credits`, body)).status,
        JSON.stringify(body),
      ).toBe(400);
    }
    expect(
      (await admin(server.api).post('/admin/accounts/no-such-account/credits', { seconds: 60, reason: 'nobody' }))
        .status,
    ).toBe(404);
    expectStatus(await server.api.delete('/api/me', { password: parent.password }, parent.token), 202);
    expect(
      (
        await admin(server.api).post(`/admin/accounts/${parent.accountId}/credits`, {
          seconds: 60,
          reason: 'after close',
        })
      ).status,
    ).toBe(404);
    expect(await server.app.services.credits.state(parent.accountId)).toMatchObject({ balanceSeconds: 300 });
  });

  it('the audit log is paged newest first, and verify reports an intact chain', async () => {
    server = await startTestServer();
    for (let i = 0; i < 3; i++) await signUpParent(server.api);
    const total = await server.app.store.audit.count();
    const first = await admin(server.api).get('/admin/audit?limit=2');
    expect(first.body.entries.map((e: { seq: number }) => e.seq)).toEqual([total, total - 1]);
    const next = await admin(server.api).get(`/admin/audit?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body.entries.map((e: { seq: number }) => e.seq)).toEqual([total - 2, total - 3]);
    expect((await admin(server.api).get('/admin/audit?limit=0')).status).toBe(400);
    expect((await admin(server.api).get('/admin/audit?cursor=abc')).status).toBe(400);
    expect((await admin(server.api).get('/admin/audit/verify')).body).toEqual({ ok: true, entries: total });
  });

  it('verify detects an audit entry edited on disk', async () => {
    server = await startTestServer();
    const family = await scriptedFamily(server);
    expectStatus(await server.api.post('/api/me/restrict', { restricted: true }, family.token), 200);
    await server.stop();

    // Edit one decrypted audit row in a copy of the data dir, seal it again, open a server on the copy.
    const copy = tempDataDir('callsanta-tamper-');
    cpSync(server.dataDir, copy, { recursive: true });
    rmSync(join(copy, 'LOCK'), { force: true });
    const key = parseKey(readFileSync(join(copy, KEY_FILE), 'utf8'));
    let edited = false;
    for (const name of readdirSync(copy).filter((n) => n.startsWith('audit-') && n.endsWith('.db'))) {
      const doc = JSON.parse(decrypt(key, readFileSync(join(copy, name)), name).toString('utf8')) as {
        tables: { audit?: { action: string }[] };
      };
      const row = doc.tables.audit?.find((r) => r.action === 'account.restricted');
      if (!row) continue;
      row.action = 'account.unrestricted';
      writeFileSync(join(copy, name), encrypt(key, Buffer.from(JSON.stringify(doc)), name));
      edited = true;
    }
    expect(edited).toBe(true);
    const tampered = await startTestServer({ dataDir: copy, clock: server.clock });
    extra.push(tampered);
    const res = await admin(tampered.api).get('/admin/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.brokenAt).toBeGreaterThan(0);

    server = await server.restart();
    expect((await admin(server.api).get('/admin/audit/verify')).body.ok).toBe(true);
  });

  it('POST /admin/calls/:id/end ends a live call; an unknown or ended call is 404', async () => {
    server = await startTestServer();
    const parent = await signUpParent(server.api);
    const now = server.clock.now();
    await server.app.store.calls.insert(testCallRow({ id: 'live-1', accountId: parent.accountId, startedAt: now }));
    const res = await admin(server.api).post('/admin/calls/live-1/end');
    expect(res.status).toBe(200);
    expect(await server.app.store.calls.get('live-1')).toMatchObject({ reason: 'admin' });
    expect((await admin(server.api).post('/admin/calls/live-1/end')).body.error.code).toBe('call_not_found');
    expect((await admin(server.api).post('/admin/calls/nope/end')).status).toBe(404);
    expect((await server.app.services.audit.forSubject('live-1')).map((e) => e.action)).toEqual(['admin.call_end']);
  });

  it('metrics are Prometheus text with counts and timings, no personal data', async () => {
    server = await startTestServer();
    const family = await scriptedFamily(server);
    expectStatus(await admin(server.api).post('/admin/retention/run'), 200);
    const res = await admin(server.api).get('/admin/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const text = res.body as string;
    expect(text).toContain('callsanta_accounts{status="active"} 1');
    expect(text).toMatch(/callsanta_http_requests_total\{method="POST",route="\/api\/profiles",status="201"\} 1/);
    expect(text).toContain('callsanta_retention_runs_total{result="ok"}');
    expect(text).toContain('callsanta_socket_events_dropped_total 0');
    expect(text).toContain('callsanta_process_resident_memory_bytes');
    for (const s of [...family.secrets, family.accountId, family.profileId]) expect(text).not.toContain(s);
  });
});
