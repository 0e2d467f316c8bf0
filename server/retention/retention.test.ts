import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../shared/units.js';
import { newId } from '../core/ids.js';
import { signUpParent, startTestServer, type TestServer } from '../../test/support/server.js';
import { uploadPhoto } from '../photos/test-fixtures.js';
import { admin, expectStatus, publishPolicy, scriptedFamily, storedData } from '../privacy/test-helpers.js';
import { USAGE_RETENTION_MS, type SweepStep } from './service.js';
import { retentionOn } from './test-helpers.js';
import { compactCall, findCompactableCalls, usageTotalRef } from '../credits/usage-compaction.js';
import { testCallRow } from '../../test/support/call-rows.js';

// A long interval keeps the timer out of the way; the tests run sweeps through the admin API.
const QUIET = { RETENTION_INTERVAL_MS: String(10 * 365 * DAY_MS) };

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

async function run(s: TestServer = server) {
  const res = await admin(s.api).post('/admin/retention/run');
  expectStatus(res, 200);
  return res.body.counts as Record<SweepStep, number>;
}

async function settledCall(s: TestServer, accountId: string, seconds: number): Promise<string> {
  const callId = newId();
  const now = s.clock.now();
  const held = await s.app.services.credits.hold(accountId, callId, { min: 1, max: 600 });
  await s.app.store.calls.insert(
    testCallRow({
      id: callId,
      accountId,
      heldSeconds: held ?? 0,
      startedAt: now,
      meteredSeconds: seconds,
      endedAt: now + seconds * 1000,
      reason: 'hangup',
      settledAt: now,
    }),
  );
  await s.app.services.credits.settle(callId, seconds);
  return callId;
}

describe('retention sweeps', () => {
  it('P14: temporary photos stay at 23 h and are gone after 24 h and one sweep; saved photos stay', async () => {
    server = await startTestServer({ env: QUIET });
    const family = await scriptedFamily(server);
    const store = server.app.store;
    server.clock.advance(23 * HOUR_MS);
    expect((await run()).photosDeleted).toBe(0);
    expect(await store.photos.get(family.tempPhotoId)).toBeDefined();
    expect(await store.photoFiles.get(family.tempPhotoId)).toBeDefined();
    server.clock.advance(HOUR_MS);
    expect((await run()).photosDeleted).toBe(1);
    expect(await store.photos.get(family.tempPhotoId)).toBeUndefined();
    expect(await store.photoFiles.get(family.tempPhotoId)).toBeUndefined();
    expect(await store.photos.get(family.photoId)).toBeDefined();
    expect(await store.photoFiles.get(family.photoId)).toBeDefined();
  });

  it('P13: call records, per-call ledger entries and login activity are gone after 2 years and one sweep; younger ones stay; the balance is unchanged', async () => {
    server = await startTestServer({ env: QUIET });
    const s = server.app.services;
    const store = server.app.store;
    const parent = await signUpParent(server.api);
    await s.credits.purchase(parent.accountId, 1200, 'pi_old');
    const oldCalls = [
      await settledCall(server, parent.accountId, 100),
      await settledCall(server, parent.accountId, 50),
    ];
    const oldLogins = await store.logins.findBy('accountId', parent.accountId);
    server.clock.advance(365 * DAY_MS);
    const youngCall = await settledCall(server, parent.accountId, 30);
    expectStatus(await server.api.post('/api/auth/login', { email: parent.email, password: parent.password }), 200);
    const before = await s.credits.state(parent.accountId);
    expect(before.balanceSeconds).toBe(1200 - 180);

    // One day short of two years for the old data: nothing goes.
    server.clock.advance(USAGE_RETENTION_MS - 365 * DAY_MS - DAY_MS);
    const early = await run();
    expect(early.callsDeleted + early.loginsDeleted + early.ledgerEntriesCompacted).toBe(0);

    // Two years and a day: the old data goes, the year-old data stays.
    server.clock.advance(2 * DAY_MS);
    const counts = await run();
    expect(counts.callsDeleted).toBe(2);
    expect(counts.loginsDeleted).toBe(oldLogins.length);
    expect(counts.ledgerEntriesCompacted).toBe(6);
    for (const id of oldCalls) {
      expect(await store.calls.get(id)).toBeUndefined();
      expect(await store.ledger.findBy('callId', id)).toEqual([]);
    }
    expect(await store.calls.get(youngCall)).toBeDefined();
    expect((await store.ledger.findBy('callId', youngCall)).map((e) => e.kind).sort()).toEqual([
      'capture',
      'hold',
      'release',
    ]);
    const logins = await store.logins.findBy('accountId', parent.accountId);
    expect(logins).toHaveLength(1);
    // What the old calls used survives only as one total, so the balance is exactly what it was.
    expect(await store.ledger.findOne('ref', usageTotalRef(parent.accountId))).toMatchObject({
      kind: 'capture',
      seconds: 150,
      callId: null,
    });
    expect(await s.credits.state(parent.accountId)).toEqual(before);
    // Purchases are payment records and stay.
    expect(await store.ledger.findOne('ref', 'purchase:pi_old')).toBeDefined();
    // A second sweep finds nothing more to do.
    const again = await run();
    expect(again.callsDeleted + again.loginsDeleted + again.ledgerEntriesCompacted).toBe(0);
    expect(await s.credits.state(parent.accountId)).toEqual(before);
    const login = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expect((await server.api.get('/api/me', login.body.token)).body.balanceSeconds).toBe(1200 - 180);
  });

  it('a usage compaction interrupted at any step is finished by the next sweep, counting nothing twice', async () => {
    server = await startTestServer({ env: QUIET });
    const s = server.app.services;
    const store = server.app.store;
    const parent = await signUpParent(server.api);
    await s.credits.purchase(parent.accountId, 1000, 'pi_1');
    const calls = [
      await settledCall(server, parent.accountId, 10),
      await settledCall(server, parent.accountId, 20),
      await settledCall(server, parent.accountId, 40),
    ];
    const before = await s.credits.state(parent.accountId);
    server.clock.advance(USAGE_RETENTION_MS + DAY_MS);
    const cutoff = server.clock.now() - USAGE_RETENTION_MS;
    const groups = await findCompactableCalls(store, cutoff, 100);
    const group = (id: string) => groups.find((g) => g.callId === id)!;

    // Call 1 compacted fully; call 2 stopped after its hold went; call 3 stopped after its capture was added to the total.
    await compactCall(store, group(calls[0]!), cutoff);
    await store.ledger.remove(group(calls[1]!).hold!.id);
    const total = (await store.ledger.findOne('ref', usageTotalRef(parent.accountId)))!;
    const capture3 = group(calls[2]!).capture!;
    await store.ledger.update(total.id, { seconds: total.seconds + capture3.seconds, note: `merged:${capture3.id}` });
    // Every intermediate state keeps the balance.
    expect((await s.credits.state(parent.accountId)).balanceSeconds).toBeLessThanOrEqual(before.balanceSeconds);

    await run();
    expect(await store.ledger.findOne('ref', usageTotalRef(parent.accountId))).toMatchObject({ seconds: 70 });
    for (const id of calls) expect(await store.ledger.findBy('callId', id)).toEqual([]);
    expect(await s.credits.state(parent.accountId)).toEqual(before);
  });

  it('the sweeps read what is due by range queries: no swept table is scanned whole', async () => {
    server = await startTestServer({ env: QUIET });
    const s = server.app.services;
    const store = server.app.store;
    const family = await scriptedFamily(server);
    const other = await signUpParent(server.api);
    await s.credits.purchase(other.accountId, 600, 'pi_noscan');
    await settledCall(server, other.accountId, 30);
    const second = await server.api.post('/api/auth/login', { email: other.email, password: other.password });
    expectStatus(await server.api.post('/api/auth/logout', undefined, second.body.token), 204);
    await uploadPhoto(server.api, other.token);
    expectStatus(await server.api.post('/api/auth/password-reset/request', { email: other.email }), 202);
    await s.passwordResets.settled();
    const ticket = await server.api.post('/api/support', { subject: 'Thanks', message: 'All good' }, other.token);
    expectStatus(await admin(server.api).post(`/admin/support/${ticket.body.id}/close`), 200);
    expectStatus(await server.api.delete('/api/me', { password: family.password }, family.token), 202);
    server.clock.advance(USAGE_RETENTION_MS + DAY_MS);
    const swept = ['sessions', 'photos', 'calls', 'logins', 'ledger', 'passwordResets', 'support', 'outbox'] as const;
    const scanned: string[] = [];
    for (const name of swept) {
      const table = store[name];
      const scan = table.scan.bind(table);
      Object.assign(table, {
        scan: (batch?: number) => {
          scanned.push(name);
          return scan(batch);
        },
      });
    }
    const counts = await run();
    expect(scanned).toEqual([]);
    expect(counts).toMatchObject({ accountsPurged: 1, supportDeleted: 1, passwordResetsDeleted: 1 });
    expect(counts.callsDeleted).toBeGreaterThanOrEqual(1);
    expect(counts.sessionsDeleted).toBeGreaterThanOrEqual(2);
    expect(counts.loginsDeleted).toBeGreaterThanOrEqual(2);
    expect(counts.ledgerEntriesCompacted).toBeGreaterThanOrEqual(3);
    expect(counts.photosDeleted).toBeGreaterThanOrEqual(1);
    expect(counts.outboxDeleted).toBeGreaterThanOrEqual(1);
  });

  it('expired and revoked sessions are deleted; a live session stays', async () => {
    server = await startTestServer({ env: QUIET });
    const parent = await signUpParent(server.api);
    const second = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expectStatus(await server.api.post('/api/auth/logout', undefined, second.body.token), 204);
    expect((await run()).sessionsDeleted).toBe(1);
    expect(await server.app.store.sessions.findBy('accountId', parent.accountId)).toHaveLength(1);
    expect((await server.api.get('/api/me', parent.token)).status).toBe(200);
    server.clock.advance(30 * DAY_MS);
    expect((await run()).sessionsDeleted).toBe(1);
    expect(await server.app.store.sessions.findBy('accountId', parent.accountId)).toEqual([]);
  });

  it('closed support requests are deleted after their stated retention; open ones stay', async () => {
    server = await startTestServer({ env: QUIET });
    const family = await scriptedFamily(server);
    const open = await server.api.post('/api/support', { subject: 'Still open', message: 'Please help' }, family.token);
    expectStatus(await admin(server.api).post(`/admin/support/${family.supportId}/close`), 200);
    server.clock.advance(179 * DAY_MS);
    expect((await run()).supportDeleted).toBe(0);
    server.clock.advance(DAY_MS);
    expect((await run()).supportDeleted).toBe(1);
    expect(await server.app.store.support.get(family.supportId)).toBeUndefined();
    expect(await server.app.store.support.get(open.body.id)).toBeDefined();
  });

  it('outbox mail is kept 30 days as a delivery record, then deleted', async () => {
    server = await startTestServer({ env: QUIET });
    const family = await scriptedFamily(server);
    await publishPolicy(server, 'v-mail', { material: false, effectiveInDays: 1 });
    server.clock.advance(29 * DAY_MS);
    expect((await run()).outboxDeleted).toBe(0);
    server.clock.advance(DAY_MS);
    expect((await run()).outboxDeleted).toBeGreaterThanOrEqual(1);
    expect(await server.app.store.outbox.findBy('accountId', family.accountId)).toEqual([]);
  });

  it('every sweep writes an audit entry with its counts', async () => {
    server = await startTestServer({ env: QUIET });
    await scriptedFamily(server);
    server.clock.advance(DAY_MS);
    const counts = await run();
    const entries = (await server.app.services.audit.all()).filter((e) => e.action === 'retention.sweep');
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries[entries.length - 1]!.details).toEqual(counts);
    expect(counts.photosDeleted).toBe(1);
  });

  it('a sweep that removes something takes it out of the journal too; a sweep with nothing to remove rewrites no data file', async () => {
    server = await startTestServer({ env: QUIET });
    const family = await scriptedFamily(server);
    await server.app.services.retention.idle();
    await run();
    if (server.config.databaseUrl) {
      // On PostgreSQL there is no journal: an idle sweep changes no data row, and the one that
      // removes the upload leaves it in no table and no photo (its key destroyed, compacted).
      // The sweep's own audit entry (and the chain head) is the one thing an idle sweep writes, as on lowdb's journal.
      const rows = async () =>
        new Map([...(await storedData(server))].filter(([k]) => !k.startsWith('audit/') && k !== 'meta/audit.head'));
      const before = await rows();
      const idle = await run();
      expect(Object.values(idle).every((n) => n === 0)).toBe(true);
      expect(await rows()).toEqual(before);
      server.clock.advance(25 * HOUR_MS);
      expect((await run()).photosDeleted).toBe(1);
      const after = await storedData(server);
      expect([...after.keys()].filter((k) => k.includes(family.tempPhotoId))).toEqual([]);
      expect(await server.app.store.photoFiles.get(family.tempPhotoId)).toBeUndefined();
      return;
    }
    const journals = () => readdirSync(server.dataDir).filter((f) => f.startsWith('journal-'));
    const dataFiles = () =>
      new Map(
        readdirSync(server.dataDir, { recursive: true, encoding: 'utf8' })
          .filter(
            (f) => !f.startsWith('journal-') && !f.endsWith('.lock') && statSync(join(server.dataDir, f)).isFile(),
          )
          .map((f) => [f, readFileSync(join(server.dataDir, f)).toString('base64')]),
      );

    const journalBefore = journals();
    const filesBefore = dataFiles();
    const idle = await run();
    expect(Object.values(idle).every((n) => n === 0)).toBe(true);
    expect(journals()).toEqual(journalBefore);
    expect(dataFiles()).toEqual(filesBefore);

    server.clock.advance(25 * HOUR_MS);
    expect((await run()).photosDeleted).toBe(1);
    // A checkpoint ran: a later journal generation, the old one (which held the upload) deleted.
    expect(journals()).not.toEqual(journalBefore);
    expect(journalBefore.some((f) => journals().includes(f))).toBe(false);
    expect(await server.app.store.photoFiles.get(family.tempPhotoId)).toBeUndefined();
  });

  it('runs at start-up and then every RETENTION_INTERVAL_MS on the clock, from deadlines in the store', async () => {
    server = await startTestServer({ env: { RETENTION_INTERVAL_MS: String(HOUR_MS) } });
    const family = await scriptedFamily(server);
    await server.stop();
    // While the server is down the upload's deadline passes; the start-up sweep finds it.
    server.clock.advance(25 * HOUR_MS);
    server = await server.restart();
    await server.app.services.retention.idle();
    expect(await server.app.store.photos.get(family.tempPhotoId)).toBeUndefined();

    const later = await uploadPhoto(server.api, family.token);
    server.clock.advance(24 * HOUR_MS);
    // The interval timer started a sweep as the clock passed the hour marks.
    await server.app.services.retention.idle();
    expect(await server.app.store.photos.get(later)).toBeUndefined();
    const sweeps = (await server.app.services.audit.all()).filter((e) => e.action === 'retention.sweep');
    expect(sweeps.length).toBeGreaterThanOrEqual(2);
  });

  it('a sweep that dies mid-way is finished after a restart: nothing missed, nothing purged or counted twice', async () => {
    server = await startTestServer({ env: QUIET });
    const families = [];
    for (let i = 0; i < 4; i++) families.push(await scriptedFamily(server));
    for (const f of families) expectStatus(await server.api.delete('/api/me', { password: f.password }, f.token), 202);
    const keeper = await scriptedFamily(server);
    for (let i = 0; i < 3; i++) await uploadPhoto(server.api, keeper.token);
    server.clock.advance(31 * DAY_MS);

    // A sweep that fails after 2 items, as a crash would stop it.
    const svc = server.app.services;
    let items = 0;
    const dying = retentionOn(server, {
      onItem: () => {
        items++;
        if (items === 2) throw new Error('simulated crash');
      },
    });
    await expect(dying.sweep()).rejects.toThrow('simulated crash');
    const partial = (await svc.audit.all()).find((e) => e.action === 'retention.sweep_failed');
    expect(partial?.details.accountsPurged).toBe(2);

    server = await server.restart();
    await server.app.services.retention.idle(); // the start-up sweep finishes the work
    const after = await run();
    expect(after.accountsPurged).toBe(0);
    const audit = await server.app.services.audit.all();
    const sweeps = audit.filter((e) => e.action === 'retention.sweep');
    const total = (k: SweepStep) =>
      Number(partial!.details[k] ?? 0) + sweeps.reduce((sum, e) => sum + Number(e.details[k] ?? 0), 0);
    expect(total('accountsPurged')).toBe(4);
    // The keeper's temporary uploads (1 scripted + 3) are past 24 h.
    expect(total('photosDeleted')).toBe(4);
    for (const f of families) {
      expect(await server.app.store.accounts.get(f.accountId)).toBeUndefined();
      expect(audit.filter((e) => e.action === 'account.purged' && e.subject === f.accountId)).toHaveLength(1);
      expect(await server.app.store.payments.get(f.paymentId)).toMatchObject({ accountId: null });
    }
    expect(await server.app.store.accounts.get(keeper.accountId)).toBeDefined();
    const login = await server.api.post('/api/auth/login', { email: keeper.email, password: keeper.password });
    expect((await server.api.get(`/api/profiles/${keeper.profileId}`, login.body.token)).status).toBe(200);
    expect((await admin(server.api).get('/admin/audit/verify')).body.ok).toBe(true);
  });
});
