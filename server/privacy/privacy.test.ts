import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { DAY_MS, HOUR_MS } from '../../shared/units.js';
import { exportDocumentSchema, type OutboxEntry } from '../../shared/schemas/privacy.js';
import { deleteMeResponseSchema } from '../../shared/schemas/account.js';
import { signUpParent, startTestServer, type TestServer } from '../../test/support/server.js';
import { admin, storedData, expectStatus, publishPolicy, scriptedFamily } from './test-helpers.js';
import { testCallRow } from '../../test/support/call-rows.js';

let server: TestServer;

beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

function connect(token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = ioClient(server.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('export (P11)', () => {
  it('export holds every kind of data from a full session, as one versioned JSON attachment, and nothing of another account', async () => {
    // A real session: dev checkout through the signed webhook, a real call with Simulated Santa.
    const family = await scriptedFamily(server, { real: true });
    const other = await scriptedFamily(server);
    // A policy notice reaches both families.
    await publishPolicy(server, '2027-02-01', { material: true, effectiveInDays: 40 });

    const res = await server.api.get('/api/me/export', family.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="call-santa-export-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    const doc = exportDocumentSchema.parse(res.body);
    expect(doc.schema).toBe('call-santa-export');
    expect(doc.version).toBe(1);

    expect(doc.account).toMatchObject({
      id: family.accountId,
      email: family.email,
      name: family.parentName,
      locale: 'da',
      status: 'active',
    });
    expect(doc.consents).toHaveLength(1);
    expect(doc.consents[0]!.verifiedBy).toMatch(/^card_payment/);
    expect(doc.profiles).toHaveLength(1);
    const profile = doc.profiles[0]!;
    expect(profile).toMatchObject({ id: family.profileId, name: family.childName, behaviorNotes: family.note });
    expect(profile.wishList).toContain(family.wish);
    expect(profile.photo?.id).toBe(family.photoId);
    const image = Buffer.from(profile.photo!.dataUrl!.replace(/^data:image\/png;base64,/, ''), 'base64');
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(doc.temporaryPhotos.map((p) => p.id)).toEqual([family.tempPhotoId]);
    expect(doc.temporaryPhotos[0]!.dataUrl).toMatch(/^data:image\/png;base64,/);
    expect(doc.ledger.map((e) => e.kind).sort()).toEqual(['capture', 'hold', 'purchase', 'release']);
    expect(doc.payments).toEqual([
      expect.objectContaining({ id: family.paymentId, amount: 4900, currency: 'dkk', status: 'paid' }),
    ]);
    expect(doc.calls).toEqual([
      expect.objectContaining({ id: family.callId, profileId: family.profileId, seconds: 95, reason: 'hangup' }),
    ]);
    // Signup, the scripted login and the failed one.
    expect(doc.logins.map((l) => l.success).sort()).toEqual([false, true, true]);
    expect(doc.sessions.length).toBeGreaterThanOrEqual(2);
    expect(doc.notices).toEqual([expect.objectContaining({ kind: 'policy_update', policyVersion: '2027-02-01' })]);
    expect(doc.emails).toEqual([expect.objectContaining({ template: 'policy_update:2027-02-01', kind: 'essential' })]);
    expect(doc.support).toEqual([expect.objectContaining({ id: family.supportId })]);
    const actions = doc.audit.map((e) => e.action);
    for (const a of ['account.signup', 'consent.given', 'consent.verified', 'support.created'])
      expect(actions).toContain(a);

    // Nothing of the other family, anywhere in the document.
    const text = JSON.stringify(doc);
    for (const secret of [
      ...other.secrets,
      other.accountId,
      other.profileId,
      other.callId,
      other.paymentId,
      other.supportId,
      other.photoId,
    ]) {
      expect(text).not.toContain(secret);
    }
    // The export itself is audited, and is never written into the data files.
    const after = await server.app.services.audit.forSubject(family.accountId);
    expect(after.some((e) => e.action === 'privacy.export')).toBe(true);
    await server.app.store.flush();
    for (const [, plain] of await storedData(server)) expect(plain).not.toContain('call-santa-export');
  });

  it("shows each profile and support request as the parent's own API shows it, and each email as the outbox holds it", async () => {
    const family = await scriptedFamily(server, { real: true });
    await publishPolicy(server, '2027-02-01', { material: true, effectiveInDays: 40 });
    const doc = exportDocumentSchema.parse((await server.api.get('/api/me/export', family.token)).body);
    expect([doc.profiles.length, doc.support.length, doc.emails.length]).toEqual([1, 1, 1]);
    const profiles = (await server.api.get('/api/profiles', family.token)).body.profiles as Record<string, unknown>[];
    expect(doc.profiles.map(({ createdAt: _c, updatedAt: _u, photo: _p, ...view }) => view)).toEqual(profiles);
    expect(doc.support).toEqual((await server.api.get('/api/support', family.token)).body.requests);
    const outbox = (await admin(server.api).get('/admin/outbox?status=all&limit=200')).body.entries as OutboxEntry[];
    expect(doc.emails).toEqual(
      outbox
        .filter((e) => e.accountId === family.accountId)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
    );
  });

  it('exports are rate-limited with 429 and Retry-After, and allowed again after the window', async () => {
    const parent = await signUpParent(server.api);
    for (let i = 0; i < 5; i++) expect((await server.api.get('/api/me/export', parent.token)).status).toBe(200);
    const limited = await server.api.get('/api/me/export', parent.token);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another parent is not affected.
    const other = await signUpParent(server.api);
    expect((await server.api.get('/api/me/export', other.token)).status).toBe(200);
    server.clock.advance(HOUR_MS);
    expect((await server.api.get('/api/me/export', parent.token)).status).toBe(200);
  });

  it('export needs a signed-in parent', async () => {
    expect((await server.api.get('/api/me/export')).status).toBe(401);
    expect((await server.api.get('/api/me/export', 'made-up-token')).status).toBe(401);
  });
});

describe('delete the account (P10)', () => {
  it('a wrong password is refused with 403 and changes nothing', async () => {
    const family = await scriptedFamily(server);
    const res = await server.api.delete('/api/me', { password: 'not the password' }, family.token);
    expect(res.status).toBe(403);
    // Only the password was asked: the code says the password is wrong, not "email or password".
    expect(res.body.error.code).toBe('wrong_password');
    expect(res.body.error.fields).toEqual({ password: expect.any(String) });
    expect((await server.api.get('/api/me', family.token)).status).toBe(200);
    expect((await server.api.get(`/api/profiles/${family.profileId}`, family.token)).status).toBe(200);
    expect((await server.app.store.accounts.get(family.accountId))?.status).toBe('active');
  });

  it('closing needs only the bearer token: with no body, or {}, it answers 202 with the account GET /api/me shows, its deletion date, and purgeBy', async () => {
    for (const body of [undefined, {}]) {
      const family = await scriptedFamily(server);
      const me = (await server.api.get('/api/me', family.token)).body;
      const res = await server.api.delete('/api/me', body, family.token);
      expect(res.status, JSON.stringify(body)).toBe(202);
      const purgeBy = new Date(server.clock.now() + 30 * DAY_MS).toISOString();
      const closed = deleteMeResponseSchema.parse(res.body);
      expect(closed.purgeBy).toBe(purgeBy);
      expect(closed.deletion).toEqual({ purgeBy });
      // The same account object GET /api/me serialises, only `deletion` now set.
      expect(res.body).toEqual({ ...me, deletion: { purgeBy }, purgeBy });
      expect(closed).toMatchObject({
        id: family.accountId,
        email: family.email,
        name: family.parentName,
        locale: 'da',
        restricted: false,
        marketingOptIn: false,
      });
      expect(closed.consent).toMatchObject({ verified: true });
      expect(await server.app.store.accounts.get(family.accountId)).toMatchObject({
        status: 'closed',
        purgeBy: server.clock.now() + 30 * DAY_MS,
      });
      expect(await server.app.store.profiles.findBy('accountId', family.accountId)).toEqual([]);
      expect((await server.api.get('/api/me', family.token)).status).toBe(401);
    }
  });

  it('unknown or malformed fields in the body are still refused with 400 and close nothing', async () => {
    const family = await scriptedFamily(server);
    const bodies: [unknown, string][] = [
      [{ confirm: true }, 'confirm'],
      [{ password: family.password, reason: 'moving' }, 'reason'],
      [{ password: 12345678 }, 'password'],
      [{ password: '' }, 'password'],
    ];
    for (const [body, field] of bodies) {
      const res = await server.api.delete('/api/me', body, family.token);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.fields).toHaveProperty(field);
    }
    expect(
      (
        await server.api.request('DELETE', '/api/me', {
          token: family.token,
          raw: 'null',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await server.api.request('DELETE', '/api/me', {
          token: family.token,
          raw: 'password=x',
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);
    expect((await server.app.store.accounts.get(family.accountId))?.status).toBe('active');
    expect((await server.api.get(`/api/profiles/${family.profileId}`, family.token)).status).toBe(200);
  });

  it('a second DELETE on a closed account is 401 (its sessions are revoked) and moves neither the purge date nor anything else', async () => {
    const family = await scriptedFamily(server);
    expectStatus(await server.api.delete('/api/me', undefined, family.token), 202);
    const closed = await server.app.store.accounts.get(family.accountId);
    server.clock.advance(DAY_MS);
    for (const body of [undefined, { password: family.password }]) {
      const again = await server.api.delete('/api/me', body, family.token);
      expect(again.status).toBe(401);
      expect(again.body.error.code).toBe('unauthorized');
    }
    expect(await server.app.store.accounts.get(family.accountId)).toEqual(closed);
    expect(
      (await server.app.services.audit.forSubject(family.accountId)).filter((e) => e.action === 'account.closed'),
    ).toHaveLength(1);
  });

  it('closing revokes every session and login at once, deletes profiles and photos at once, disconnects sockets, and answers 202 with the purge date', async () => {
    const family = await scriptedFamily(server);
    const second = await server.api.post('/api/auth/login', { email: family.email, password: family.password });
    const socket = await connect(family.token);
    const disconnected = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));

    const res = await server.api.delete('/api/me', { password: family.password }, family.token);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      id: family.accountId,
      purgeBy: new Date(server.clock.now() + 30 * DAY_MS).toISOString(),
    });
    await disconnected;
    socket.close();

    expect((await server.api.get('/api/me', family.token)).status).toBe(401);
    expect((await server.api.get('/api/me', second.body.token)).status).toBe(401);
    // The right password learns the account is closed (and until when it can be reopened); it signs nobody in.
    const login = await server.api.post('/api/auth/login', { email: family.email, password: family.password });
    expect(login.status).toBe(403);
    expect(login.body.error.code).toBe('account_closed');
    expect(login.body.token).toBeUndefined();
    const store = server.app.store;
    expect(await store.profiles.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.photos.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.photoFiles.get(family.photoId)).toBeUndefined();
    expect(await store.photoFiles.get(family.tempPhotoId)).toBeUndefined();
    // The child's profile is in no file of the running server either (shards and journal): its
    // behaviour note lives nowhere else, while the parent's email stays until the purge.
    const files = [...(await storedData(server)).values()];
    expect(files.some((plain) => plain.includes(family.note))).toBe(false);
    expect(files.some((plain) => plain.includes(family.email))).toBe(true);
    const account = await store.accounts.get(family.accountId);
    expect(account).toMatchObject({ status: 'closed', purgeBy: server.clock.now() + 30 * DAY_MS });
    expect(
      (await server.app.services.audit.forSubject(family.accountId)).some((e) => e.action === 'account.closed'),
    ).toBe(true);
    // Closed accounts cannot be reopened by signing up again before the purge.
    expect(
      (
        await server.api.post('/api/auth/signup', {
          email: family.email,
          password: 'another good password',
          name: 'X',
          locale: 'en',
        })
      ).status,
    ).toBe(409);
  });

  it('the purge after 30 days leaves no personal datum in any data file, keeps the payment record without it, and frees the email', async () => {
    const family = await scriptedFamily(server, { real: true });
    const other = await scriptedFamily(server);
    // Emails, a notice and a reset request, so every table holds something of the family.
    await publishPolicy(server, '2027-03-01', { material: false, effectiveInDays: 1 });
    expectStatus(await server.api.post('/api/auth/password-reset/request', { email: family.email }), 202);
    await server.app.services.passwordResets.settled();
    expectStatus(await server.api.delete('/api/me', { password: family.password }, family.token), 202);

    // Before the deadline the sweeps (the hourly timer fires as the clock moves) keep the closed account's remaining data.
    server.clock.advance(29 * DAY_MS);
    expectStatus(await admin(server.api).post('/admin/retention/run'), 200);
    expect(await server.app.store.accounts.get(family.accountId)).toBeDefined();
    expect(await server.app.store.payments.get(family.paymentId)).toMatchObject({ accountId: family.accountId });

    server.clock.advance(DAY_MS);
    expectStatus(await admin(server.api).post('/admin/retention/run'), 200);
    expect(await server.app.store.accounts.get(family.accountId)).toBeUndefined();
    await server.stop();

    const files = await storedData(server);
    expect(files.size).toBeGreaterThan(10);
    for (const [path, plain] of files) {
      for (const secret of family.secrets) expect(plain.includes(secret), `${secret} in ${path}`).toBe(false);
    }
    // The other family is untouched.
    const all = [...files.values()].join('\n');
    for (const secret of other.secrets) expect(all).toContain(secret);

    server = await server.restart();
    const store = server.app.store;
    expect(await store.accounts.get(family.accountId)).toBeUndefined();
    const payment = await store.payments.get(family.paymentId);
    expect(payment).toMatchObject({
      accountId: null,
      amount: 4900,
      currency: 'dkk',
      status: 'paid',
      checkoutSessionId: expect.stringMatching(/^cs_/),
    });
    expect(payment!.paidAt).toEqual(expect.any(Number));
    const ledger = await store.ledger.findOne('ref', `purchase:${payment!.checkoutSessionId}`);
    expect(ledger).toMatchObject({ accountId: null, seconds: 600 });
    expect(await store.calls.get(family.callId)).toMatchObject({
      accountId: null,
      profileId: null,
      meteredSeconds: 95,
    });
    expect(await store.sessions.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.consents.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.notices.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.passwordResets.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.support.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.outbox.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.logins.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.profiles.findBy('accountId', family.accountId)).toEqual([]);
    expect(await store.photos.findBy('accountId', family.accountId)).toEqual([]);
    const purged = (await server.app.services.audit.forSubject(family.accountId)).filter(
      (e) => e.action === 'account.purged',
    );
    expect(purged).toHaveLength(1);

    // The email can sign up again, as a new account.
    const again = await server.api.post('/api/auth/signup', {
      email: family.email,
      password: 'a brand new password',
      name: 'New',
      locale: 'en',
    });
    expect(again.status).toBe(201);
    expect(again.body.account.id).not.toBe(family.accountId);
    expect(again.body.account.consent).toBeNull();
  });

  it('ACCOUNT_PURGE_DAYS sets the stored deadline', async () => {
    await server.close();
    server = await startTestServer({ env: { ACCOUNT_PURGE_DAYS: '7' } });
    const parent = await signUpParent(server.api);
    const res = await server.api.delete('/api/me', { password: parent.password }, parent.token);
    expect(res.body.purgeBy).toBe(new Date(server.clock.now() + 7 * DAY_MS).toISOString());
  });
});

describe('restrict processing (P12)', () => {
  it('a restricted account keeps its data, is shown as restricted, and lifting it restores service', async () => {
    const family = await scriptedFamily(server);
    const res = await server.api.post('/api/me/restrict', { restricted: true }, family.token);
    expect(res.status).toBe(200);
    expect(res.body.restricted).toBe(true);
    expect((await server.app.store.accounts.get(family.accountId))?.restricted).toBe(true);
    // Data kept: profiles, ledger, calls still there; retention does not touch it.
    expectStatus(await admin(server.api).post('/admin/retention/run'), 200);
    expect((await server.api.get(`/api/profiles/${family.profileId}`, family.token)).status).toBe(200);
    expect(await server.app.store.calls.get(family.callId)).toBeDefined();
    expect(
      (await server.app.services.audit.forSubject(family.accountId)).some((e) => e.action === 'account.restricted'),
    ).toBe(true);

    const lifted = await server.api.post('/api/me/restrict', { restricted: false }, family.token);
    expect(lifted.body.restricted).toBe(false);
    expect((await server.api.post('/api/me/restrict', { restricted: 'yes' }, family.token)).status).toBe(400);
    expect((await server.api.post('/api/me/restrict', { restricted: true, other: 1 }, family.token)).status).toBe(400);
  });

  it('restricting ends the live calls of the account at once, and only those', async () => {
    const family = await scriptedFamily(server);
    const other = await scriptedFamily(server);
    const store = server.app.store;
    const open = async (accountId: string, id: string) =>
      store.calls.insert(testCallRow({ id, accountId, startedAt: server.clock.now() }));
    await open(family.accountId, 'live-call-a');
    await open(other.accountId, 'live-call-b');
    expectStatus(await server.api.post('/api/me/restrict', { restricted: true }, family.token), 200);
    expect(await store.calls.get('live-call-a')).toMatchObject({ reason: 'restricted' });
    expect((await store.calls.get('live-call-a'))?.endedAt).not.toBeNull();
    expect((await store.calls.get('live-call-b'))?.endedAt).toBeNull();
  });
});

describe('cross-account', () => {
  it("one parent's privacy routes never touch another account", async () => {
    const a = await scriptedFamily(server);
    const b = await scriptedFamily(server);
    // Closing needs the caller's own password: B's password on A's token is refused.
    expect(
      (await server.api.delete('/api/me', { password: b.password.replace('staple', 'stapler') }, a.token)).status,
    ).toBe(403);
    expectStatus(await server.api.post('/api/me/restrict', { restricted: true }, a.token), 200);
    expect((await server.app.store.accounts.get(b.accountId))?.restricted).toBe(false);
    expectStatus(await server.api.delete('/api/me', { password: a.password }, a.token), 202);
    expect((await server.app.store.accounts.get(b.accountId))?.status).toBe('active');
    expect((await server.api.get(`/api/profiles/${b.profileId}`, b.token)).status).toBe(200);
    const exp = await server.api.get('/api/me/export', b.token);
    expect(exp.body.account.id).toBe(b.accountId);
  });

  it("closing with the token alone closes only the token's own account: the other parent's account, sessions, profiles and photos stay", async () => {
    const a = await scriptedFamily(server);
    const b = await scriptedFamily(server);
    const store = server.app.store;
    const bBefore = {
      account: await store.accounts.get(b.accountId),
      profiles: await store.profiles.findBy('accountId', b.accountId),
      photos: await store.photos.findBy('accountId', b.accountId),
      sessions: await store.sessions.findBy('accountId', b.accountId),
    };
    const res = await server.api.delete('/api/me', undefined, a.token);
    expect(res.status).toBe(202);
    expect(res.body.id).toBe(a.accountId);
    expect(JSON.stringify(res.body)).not.toContain(b.email);
    expect((await store.accounts.get(a.accountId))?.status).toBe('closed');
    expect({
      account: await store.accounts.get(b.accountId),
      profiles: await store.profiles.findBy('accountId', b.accountId),
      photos: await store.photos.findBy('accountId', b.accountId),
      sessions: await store.sessions.findBy('accountId', b.accountId),
    }).toEqual(bBefore);
    expect((await server.api.get('/api/me', b.token)).body.deletion).toBeNull();
    expect((await server.api.get(`/api/profiles/${b.profileId}`, b.token)).status).toBe(200);
  });
});
