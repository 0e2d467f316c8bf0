import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { ackErrorSchema } from '../../shared/schemas/calls.js';
import { callEndAckSchema, callStartAckSchema } from '../../shared/schemas/socket.js';
import { ERROR_CODES } from '../../shared/errors.js';
import { startTestServer, signUpParent, type TestServer } from '../support/server.js';
import { tokenHash } from '../../server/accounts/service.js';
import { ack, BROWSER_OFFER, connectSocket, readyParent, type ReadyParent } from './support.js';
import { endedCallRow } from '../support/call-rows.js';

/**
 * Every refusal of call:start, over a real socket.io connection: each answers with a stable
 * code and changes nothing (no hold on the ledger, no call record).
 */
let server: TestServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
});

async function socketOf(token: string): Promise<Socket> {
  const s = await connectSocket(server.url, token);
  sockets.push(s);
  return s;
}

/** What a refusal must leave untouched: the account's ledger and every call record. */
async function snapshot(accountId: string): Promise<string> {
  const ledger = await server.app.store.ledger.findBy('accountId', accountId);
  return JSON.stringify({
    ledger: ledger.map((e) => [e.id, e.kind, e.seconds]).sort(),
    calls: await server.app.store.calls.count(),
  });
}

/** `fields`: what an invalid_request names, as on REST; no other refusal carries fields. */
async function expectRefusal(
  parent: ReadyParent,
  payload: Record<string, unknown>,
  code: string,
  fields?: Record<string, unknown>,
): Promise<void> {
  const before = await snapshot(parent.accountId);
  const socket = await socketOf(parent.token);
  const raw: unknown = await ack(socket, 'call:start', { profileId: parent.profileId, sdp: BROWSER_OFFER, ...payload });
  const expected = { error: { code, message: expect.any(String), ...(fields ? { fields } : {}) } };
  expect(raw).toEqual(expected);
  expect(callStartAckSchema.parse(raw)).toEqual(expected);
  expect(ERROR_CODES as readonly string[]).toContain(code);
  expect(await snapshot(parent.accountId)).toBe(before);
  expect(server.app.services.calls.liveCount()).toBe(0);
  // One sign-in session may hold only a few sockets at once.
  socket.close();
  sockets.splice(sockets.indexOf(socket), 1);
}

/** The offer check comes after every policy check: a garbage offer that reaches it proves those passed. */
const GARBAGE_OFFER = 'v=0\r\nthis is not an offer at all\r\n';

describe('the socket handshake', () => {
  it('refuses a missing, unknown or revoked token with a clear error', async () => {
    const parent = await signUpParent(server.api);
    for (const token of ['', 'not-a-real-token']) {
      await expect(connectSocket(server.url, token)).rejects.toMatchObject({
        message: 'unauthorized',
        data: { code: 'unauthorized' },
      });
    }
    expect((await server.api.post('/api/auth/logout', undefined, parent.token)).status).toBe(204);
    await expect(connectSocket(server.url, parent.token)).rejects.toMatchObject({ data: { code: 'unauthorized' } });
  });
});

describe('a session revoked after the handshake', () => {
  it('logging out disconnects the sockets opened with that session at once, and only those', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const login = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    const other = await socketOf(parent.token);
    const socket = await socketOf(login.body.token as string);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    expect((await server.api.post('/api/auth/logout', undefined, login.body.token as string)).status).toBe(204);
    expect(await gone).toBe('io server disconnect');
    expect(other.connected).toBe(true);
    other.close();
  });

  it('revoked elsewhere (another server process), it is answered unauthorized on every call event and the socket is dropped', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    for (const [event, payload] of [
      ['call:start', { profileId: parent.profileId, sdp: BROWSER_OFFER }],
      ['call:end', { callId: 'any' }],
      ['call:resume', { callId: 'any' }],
    ] as const) {
      const login = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
      const socket = await socketOf(login.body.token as string);
      const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
      // Revoked straight in the store, as a second process sharing it would: no disconnect reaches this one.
      for (const s of await server.app.store.sessions.findBy('accountId', parent.accountId)) {
        if (s.revokedAt === null && s.tokenHash === tokenHash(login.body.token as string))
          await server.app.store.sessions.update(s.id, { revokedAt: server.clock.now() });
      }
      const before = await snapshot(parent.accountId);
      expect(await ack(socket, event, payload)).toMatchObject({ error: { code: 'unauthorized' } });
      expect(await gone).toBe('io server disconnect');
      expect(await snapshot(parent.accountId)).toBe(before);
    }
  });
});

describe('call:start refusals', () => {
  it('no consent: consent_required; consent not verified: consent_unverified', async () => {
    const noConsent = await readyParent(server, { consent: false, seconds: 600 });
    await expectRefusal({ ...noConsent, profileId: 'any-profile' }, {}, 'consent_required');
    const unverified = await readyParent(server, { verified: false, seconds: 600 });
    await expectRefusal(unverified, {}, 'consent_unverified');
  });

  it("another parent's profile is not_found, exactly like a missing one", async () => {
    const a = await readyParent(server, { seconds: 600 });
    const b = await readyParent(server, { seconds: 600 });
    await expectRefusal(a, { profileId: b.profileId }, 'not_found');
    await expectRefusal(a, { profileId: '00000000-0000-4000-8000-000000000000' }, 'not_found');
    // B's credit and calls are untouched too.
    expect((await server.app.services.credits.state(b.accountId)).availableSeconds).toBe(600);
  });

  it('restricted processing: processing_restricted', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const r = await server.api.post('/api/me/restrict', { restricted: true }, parent.token);
    expect(r.status).toBe(200);
    await expectRefusal(parent, {}, 'processing_restricted');
    expect((await server.api.post('/api/me/restrict', { restricted: false }, parent.token)).status).toBe(200);
    await expectRefusal(parent, { sdp: GARBAGE_OFFER }, 'invalid_sdp');
  });

  it("quiet hours, read in the time zone stored with the parent's controls (UTC without one)", async () => {
    // The test clock stands at 10:00 UTC, which is 11:00 in Copenhagen.
    const parent = await readyParent(server, { seconds: 600, profile: { quietHours: { from: '09:30', to: '10:30' } } });
    await expectRefusal(parent, {}, 'quiet_hours');
    const copenhagen = await readyParent(server, {
      seconds: 600,
      profile: { quietHours: { from: '09:30', to: '10:30' }, timeZone: 'Europe/Copenhagen' },
    });
    await expectRefusal(copenhagen, { sdp: GARBAGE_OFFER }, 'invalid_sdp');
    const overnight = await readyParent(server, {
      seconds: 600,
      profile: { quietHours: { from: '19:00', to: '11:00' } },
    });
    await expectRefusal(overnight, {}, 'quiet_hours');
    const overnightDk = await readyParent(server, {
      seconds: 600,
      profile: { quietHours: { from: '19:00', to: '11:00' }, timeZone: 'Europe/Copenhagen' },
    });
    await expectRefusal(overnightDk, { sdp: GARBAGE_OFFER }, 'invalid_sdp');
    const fromTen = await readyParent(server, {
      seconds: 600,
      profile: { quietHours: { from: '10:00', to: '12:00' } },
    });
    await expectRefusal(fromTen, {}, 'quiet_hours'); // from is inclusive
    const fromTenWest = await readyParent(server, {
      seconds: 600,
      profile: { quietHours: { from: '10:00', to: '12:00' }, timeZone: 'Etc/GMT+1' },
    });
    await expectRefusal(fromTenWest, { sdp: GARBAGE_OFFER }, 'invalid_sdp'); // 09:00 there
    await expectRefusal(parent, { timeZone: 'Nowhere/Atlantis' }, 'invalid_request', { timeZone: expect.any(String) });
  });

  it("the caller's time zone cannot move quiet hours: a zone sent with call:start is ignored", async () => {
    // Quiet hours 09:32-13:32 around the clock's 10:00 UTC; in Kiritimati (UTC+14) it is 00:00.
    const parent = await readyParent(server, { seconds: 600, profile: { quietHours: { from: '09:32', to: '13:32' } } });
    for (const timeZone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/New_York', 'Asia/Tokyo', 'UTC']) {
      await expectRefusal(parent, { timeZone, sdp: GARBAGE_OFFER }, 'quiet_hours');
    }
    // The same with a zone the parent stored: only the stored one counts.
    const stored = await readyParent(server, {
      seconds: 600,
      profile: { quietHours: { from: '10:32', to: '14:32' }, timeZone: 'Europe/Copenhagen' },
    });
    for (const timeZone of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles'])
      await expectRefusal(stored, { timeZone, sdp: GARBAGE_OFFER }, 'quiet_hours');
    // And the daily minutes' day begins at the stored zone's midnight, whatever the caller says.
    expect((await server.api.get(`/api/profiles/${stored.profileId}`, stored.token)).body.timeZone).toBe(
      'Europe/Copenhagen',
    );
  });

  it('a time zone the runtime does not know is refused when the parent stores it (fields.timeZone)', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const res = await server.api.patch(
      `/api/profiles/${parent.profileId}`,
      { timeZone: 'Nowhere/Atlantis' },
      parent.token,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual({ timeZone: expect.any(String) });
    expect(
      (await server.api.patch(`/api/profiles/${parent.profileId}`, { timeZone: 'Asia/Tokyo' }, parent.token)).body
        .timeZone,
    ).toBe('Asia/Tokyo');
    expect(
      (await server.api.patch(`/api/profiles/${parent.profileId}`, { timeZone: null }, parent.token)).body.timeZone,
    ).toBeNull();
  });

  it("the child's daily minutes: daily_limit_reached once today's calls used them", async () => {
    const parent = await readyParent(server, { seconds: 3600, profile: { dailyMinutes: 10 } });
    const now = server.clock.now();
    const usedCall = (id: string, startedAt: number, seconds: number) =>
      server.app.store.calls.insert(
        endedCallRow({
          id,
          accountId: parent.accountId,
          profileId: parent.profileId,
          heldSeconds: seconds,
          startedAt,
          seconds,
        }),
      );
    await usedCall(`y-${parent.profileId}`, now - 24 * 3600_000, 600); // yesterday's do not count
    await usedCall(`t1-${parent.profileId}`, now - 3600_000, 300);
    await expectRefusal(parent, { sdp: GARBAGE_OFFER }, 'invalid_sdp');
    await usedCall(`t2-${parent.profileId}`, now - 1800_000, 270); // 30 s left: less than a minimum call
    await expectRefusal(parent, {}, 'daily_limit_reached');
  });

  it('no credit: insufficient_credit; credit owed after a refund: credit_owed', async () => {
    const broke = await readyParent(server);
    await expectRefusal(broke, {}, 'insufficient_credit');
    const little = await readyParent(server, { seconds: 59 });
    await expectRefusal(little, {}, 'insufficient_credit');
    const owing = await readyParent(server, { seconds: 600 });
    await server.app.services.credits.takeBack(owing.accountId, 900, 'refund', `refund-${owing.accountId}`);
    await expectRefusal(owing, {}, 'credit_owed');
  });

  it('a malformed SDP offer: invalid_sdp, before any credit is held', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    for (const sdp of [
      GARBAGE_OFFER,
      'hello world!',
      BROWSER_OFFER.replace(/a=setup:actpass/g, 'a=setup:active'),
      'x'.repeat(40 * 1024),
    ]) {
      await expectRefusal(parent, { sdp }, 'invalid_sdp');
    }
  });

  it('an offer with a video track is refused (P2)', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    await expectRefusal(
      parent,
      { sdp: `${BROWSER_OFFER}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=rtpmap:96 VP8/90000\r\n` },
      'invalid_sdp',
    );
  });

  it('payloads that do not match the schema: invalid_request', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    await expectRefusal(parent, { profileId: 42 }, 'invalid_request', { profileId: expect.any(String) });
    await expectRefusal(parent, { extra: 'field' }, 'invalid_request', { extra: 'Unknown field' });
    const socket = await socketOf(parent.token);
    expect(callStartAckSchema.parse(await ack(socket, 'call:start', 'just a string'))).toMatchObject({
      error: { code: 'invalid_request' },
    });
    expect(callEndAckSchema.parse(await ack(socket, 'call:end', { callId: '' }))).toMatchObject({
      error: { code: 'invalid_request' },
    });
    expect(callEndAckSchema.parse(await ack(socket, 'call:end', { callId: 'no-such-call' }))).toMatchObject({
      error: { code: 'call_not_found' },
    });
  });

  it('a missing or non-string sdp is invalid_request naming fields.sdp, as REST names a bad field; a string that is no offer stays invalid_sdp', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    for (const sdp of [undefined, null, 42, true, { type: 'offer', sdp: BROWSER_OFFER }, [BROWSER_OFFER]]) {
      await expectRefusal(parent, { sdp }, 'invalid_request', { sdp: expect.any(String) });
    }
    // Exactly as a client sends it: no sdp key at all.
    const socket = await socketOf(parent.token);
    expect(await ack(socket, 'call:start', { profileId: parent.profileId })).toEqual({
      error: { code: 'invalid_request', message: expect.stringContaining('sdp'), fields: { sdp: expect.any(String) } },
    });
    // The same code and shape REST uses for a body that fails validation.
    const rest = await server.api.post('/api/profiles', { name: 'Ada', age: 'six', language: 'en' }, parent.token);
    expect(rest.status).toBe(400);
    expect(rest.body).toEqual({
      error: { code: 'invalid_request', message: expect.any(String), fields: { age: expect.any(String) } },
    });
    for (const sdp of ['v=0', '', 'x'.repeat(40 * 1024)]) await expectRefusal(parent, { sdp }, 'invalid_sdp');
  });

  it('an oversized payload drops the socket before it is read, and changes nothing', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const before = await snapshot(parent.accountId);
    const socket = await socketOf(parent.token);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.emit(
      'call:start',
      { profileId: parent.profileId, sdp: `${BROWSER_OFFER}a=x:${'y'.repeat(100 * 1024)}\r\n` },
      () => {
        throw new Error('an oversized call:start must never be answered');
      },
    );
    expect(await gone).toMatch(/transport (close|error)/);
    expect(await snapshot(parent.accountId)).toBe(before);
  });

  it('an event flood is answered rate_limited, then the socket is dropped; nothing changes', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const before = await snapshot(parent.accountId);
    const socket = await socketOf(parent.token);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++)
      answers.push(
        ack(socket, 'call:start', { profileId: parent.profileId, sdp: GARBAGE_OFFER }, 5000).catch(() => 'no answer'),
      );
    const codes = (await Promise.all(answers)).map((a) => (a as { error?: { code: string } }).error?.code ?? String(a));
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('invalid_sdp'));
    expect(codes.slice(10)).toEqual(Array(30).fill('rate_limited'));
    // Keep flooding without acks: the socket is dropped by the server.
    for (let i = 0; i < 60; i++) socket.emit('call:end', { callId: 'x' });
    expect(await gone).toBe('io server disconnect');
    expect(await snapshot(parent.accountId)).toBe(before);
    // Tokens come back with time: a new socket is fine, and the limit is per socket.
    server.clock.advance(10_000);
    const fresh = await socketOf(parent.token);
    expect(
      callStartAckSchema.parse(await ack(fresh, 'call:start', { profileId: parent.profileId, sdp: GARBAGE_OFFER })),
    ).toMatchObject({ error: { code: 'invalid_sdp' } });
  });
});

describe('events the server does not know', () => {
  it('are acked not_found at once, as REST answers an unknown endpoint; nothing changes and nothing of them is logged', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const before = await snapshot(parent.accountId);
    const socket = await socketOf(parent.token);
    const rest = await server.api.get('/api/no-such-endpoint', parent.token);
    expect(rest.status).toBe(404);
    const notFound = { error: { code: rest.body.error.code as string, message: 'No such event' } };
    expect(notFound.error.code).toBe('not_found');
    expect(await ack(socket, 'call:strat', { profileId: parent.profileId, sdp: BROWSER_OFFER })).toEqual(notFound);
    expect(await ack(socket, 'canary-event-name-7f3a', { secret: 'canary-payload-7f3a' })).toEqual(notFound);
    expect(ackErrorSchema.parse(await ack(socket, 'credits:updated', {}))).toEqual(notFound);
    expect(ackErrorSchema.parse(await ack(socket, 'constructor', {}))).toEqual(notFound);
    // Without an ack there is nothing to answer: it is dropped, and the socket carries on.
    socket.emit('no:ack', 'canary-payload-7f3a');
    expect(callEndAckSchema.parse(await ack(socket, 'call:end', { callId: 'no-such-call' }))).toMatchObject({
      error: { code: 'call_not_found' },
    });
    expect(socket.connected).toBe(true);
    expect(await snapshot(parent.accountId)).toBe(before);
    expect(server.logs.join('')).not.toContain('canary-payload-7f3a');
    expect(server.logs.join('')).not.toContain('canary-event-name-7f3a');
  });

  it("count against the socket's event rate limit like any event", async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const socket = await socketOf(parent.token);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => ack(socket, `unknown:${i}`, {}, 5000)));
    const codes = answers.map((a) => (a as { error: { code: string } }).error.code);
    expect(codes).toEqual([...Array(10).fill('not_found'), 'rate_limited', 'rate_limited']);
    // The bucket they emptied is the one call:start draws from.
    expect(
      callStartAckSchema.parse(await ack(socket, 'call:start', { profileId: parent.profileId, sdp: GARBAGE_OFFER })),
    ).toMatchObject({ error: { code: 'rate_limited' } });
    server.clock.advance(1000);
    expect(
      callStartAckSchema.parse(await ack(socket, 'call:start', { profileId: parent.profileId, sdp: GARBAGE_OFFER })),
    ).toMatchObject({ error: { code: 'invalid_sdp' } });
  });
});

describe('GET /api/calls', () => {
  it('needs a session and lists only the caller’s calls', async () => {
    expect((await server.api.get('/api/calls')).status).toBe(401);
    const parent = await readyParent(server, { seconds: 600 });
    const res = await server.api.get('/api/calls', parent.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ calls: [] });
  });
});
