import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { ackErrorSchema } from '../../shared/schemas/calls.js';
import { BROWSER_OFFER, FakeRealtimeProvider } from '../fakes/realtime-provider.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { payDevCheckout } from '../support/dev-checkout.js';
import { makeBadTokens, makeParty, partyDigest, secretsOf, type BadTokens, type Party } from './world.js';

/** Socket.io's own events; everything else a server socket listens to is an event of ours. */
const RESERVED = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'error',
  'newListener',
  'removeListener',
]);

interface SocketWorld {
  server: TestServer;
  victim: Party;
  attacker: Party;
  bad: BadTokens;
  victimSocket: Socket;
}

/** Every client -> server event, with a payload aimed at the victim's call or child. */
const SOCKET_MATRIX: Record<string, (w: SocketWorld) => unknown> = {
  'call:start': (w) => ({ profileId: w.victim.profileId, sdp: BROWSER_OFFER }),
  'call:end': (w) => ({ callId: w.victim.callId }),
  'call:resume': (w) => ({ callId: w.victim.callId }),
  'call:connected': (w) => ({ callId: w.victim.callId }),
};

let w: SocketWorld;
const sockets: Socket[] = [];

function open(server: TestServer, token: string | undefined): Socket {
  const s = connect(server.url, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  sockets.push(s);
  return s;
}

function connected(s: Socket): Promise<{ ok: true } | { ok: false; data: unknown }> {
  return new Promise((resolve) => {
    if (s.connected) return resolve({ ok: true });
    s.once('connect', () => resolve({ ok: true }));
    s.once('connect_error', (err: Error & { data?: unknown }) => resolve({ ok: false, data: err.data }));
  });
}

function emit(s: Socket, event: string, payload: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no ack'), 5000);
    s.emit(event, payload, (ack: unknown) => {
      clearTimeout(timer);
      resolve(ack);
    });
  });
}

beforeAll(async () => {
  const server = await startTestServer({ app: { realtime: new FakeRealtimeProvider(0) } });
  const victim = await makeParty(server, 'victim');
  const attacker = await makeParty(server, 'attacker');
  // A completed card payment verifies consent, which a call needs.
  for (const p of [victim, attacker]) {
    const paid = await payDevCheckout(p.checkoutUrl);
    if (paid.status !== 303 && paid.status !== 200) throw new Error(`dev payment failed: ${paid.status}`);
  }
  const bad = await makeBadTokens(server, victim);
  const victimSocket = open(server, victim.token);
  if (!(await connected(victimSocket)).ok) throw new Error('victim socket did not connect');
  const ack = (await emit(victimSocket, 'call:start', { profileId: victim.profileId, sdp: BROWSER_OFFER })) as {
    callId?: string;
  };
  if (!ack.callId) throw new Error(`victim call did not start: ${JSON.stringify(ack)}`);
  victim.callId = ack.callId;
  w = { server, victim, attacker, bad, victimSocket };
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await w?.server.close();
});

describe('the socket authorization matrix covers every event', () => {
  it('has an entry for every event a connected socket listens to, and no entry without a listener', async () => {
    const serverSocket = w.server.app.io.of('/').sockets.get(w.victimSocket.id ?? '');
    expect(serverSocket, 'the server side of the victim socket').toBeDefined();
    const events = (serverSocket?.eventNames() ?? [])
      .map(String)
      .filter((e) => !RESERVED.has(e))
      .sort();
    expect(events).toEqual(Object.keys(SOCKET_MATRIX).sort());
  });
});

describe('a socket opens only with a live session', () => {
  it.each([
    ['no token', (): string | undefined => undefined],
    ['a random token', (): string | undefined => w.bad.garbage],
    ["the victim's expired token", (): string | undefined => w.bad.expired],
    ["the victim's revoked token", (): string | undefined => w.bad.revoked],
    ["a closed account's token", (): string | undefined => w.bad.closed],
    ['the admin token', (): string | undefined => TEST_ADMIN_TOKEN],
  ] as const)('refuses the handshake with %s', async (_label, token) => {
    const s = open(w.server, token());
    const result = await connected(s);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ data: { code: 'unauthorized' } });
    s.close();
  });
});

describe("a parent's socket never reaches another parent's call or child", () => {
  it.each(Object.keys(SOCKET_MATRIX))(
    "%s with the victim's ids is refused in the error shape and changes nothing of theirs",
    async (event) => {
      const s = open(w.server, w.attacker.token);
      expect((await connected(s)).ok).toBe(true);
      const before = await partyDigest(w.server.app.store, w.victim);
      const ack = await emit(s, event, (SOCKET_MATRIX[event] as (w: SocketWorld) => unknown)(w));
      expect(ackErrorSchema.safeParse(ack).success, `${event}: ${JSON.stringify(ack)}`).toBe(true);
      const text = JSON.stringify(ack).toLowerCase();
      for (const secret of secretsOf(w.victim))
        expect(text.includes(secret.toLowerCase()), `${event} ack leaks ${secret}`).toBe(false);
      await w.server.app.store.flush();
      expect(await partyDigest(w.server.app.store, w.victim)).toEqual(before);
      // The victim's call is still live: only its own sockets (or an admin) can end it.
      expect(w.server.app.services.calls.liveCount()).toBeGreaterThan(0);
      s.close();
    },
  );

  it("never hears another account's events (ticks, credit updates, call end)", async () => {
    const s = open(w.server, w.attacker.token);
    expect((await connected(s)).ok).toBe(true);
    const heard: string[] = [];
    s.onAny((event: string, ...args: unknown[]) => heard.push(`${event} ${JSON.stringify(args)}`));
    const victimHeard: string[] = [];
    w.victimSocket.onAny((event: string) => victimHeard.push(event));
    // The victim's call ticks, their credit changes, and their call ends.
    await w.server.clock.advanceAsync(3000, 1000);
    const grant = await w.server.api.request('POST', `/admin/accounts/${w.victim.accountId}/credits`, {
      body: { seconds: 60, reason: 'matrix' },
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(grant.status).toBe(201);
    expect(await emit(w.victimSocket, 'call:end', { callId: w.victim.callId })).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(victimHeard, 'the victim hears their own events (or this test proves nothing)').toEqual(
      expect.arrayContaining(['call:tick', 'credits:updated', 'call:ended']),
    );
    const all = heard.join('\n').toLowerCase();
    for (const secret of secretsOf(w.victim))
      expect(all.includes(secret.toLowerCase()), `the attacker heard ${secret}`).toBe(false);
    s.close();
  });
});

describe('a signed-out session keeps no power over calls', () => {
  it.each(Object.keys(SOCKET_MATRIX))(
    'a socket whose session was revoked after the handshake is refused %s and dropped',
    async (event) => {
      const login = await w.server.api.post('/api/auth/login', { email: w.victim.email, password: w.victim.password });
      const s = open(w.server, login.body.token as string);
      expect((await connected(s)).ok).toBe(true);
      expect((await w.server.api.post('/api/auth/logout', undefined, login.body.token as string)).status).toBe(204);
      // A live call of the account, started from its own signed-in socket.
      const started = (await emit(w.victimSocket, 'call:start', {
        profileId: w.victim.profileId,
        sdp: BROWSER_OFFER,
      })) as { callId?: string };
      expect(started.callId, JSON.stringify(started)).toBeDefined();
      w.victim.callId = started.callId ?? null;
      const before = await partyDigest(w.server.app.store, w.victim);
      const live = w.server.app.services.calls.liveCount();
      const ack = await emit(s, event, (SOCKET_MATRIX[event] as (w: SocketWorld) => unknown)(w));
      // Either an error ack or, when the server drops the socket first, no ack at all; never a success.
      if (ack !== 'no ack') expect(ackErrorSchema.safeParse(ack).success, JSON.stringify(ack)).toBe(true);
      await w.server.app.store.flush();
      expect(await partyDigest(w.server.app.store, w.victim)).toEqual(before);
      expect(w.server.app.services.calls.liveCount()).toBe(live);
      s.close();
      expect(await emit(w.victimSocket, 'call:end', { callId: w.victim.callId })).toEqual({ ok: true });
    },
  );

  it("a socket whose session was revoked hears none of the account's events any more", async () => {
    const login = await w.server.api.post('/api/auth/login', { email: w.victim.email, password: w.victim.password });
    const s = open(w.server, login.body.token as string);
    expect((await connected(s)).ok).toBe(true);
    const heard: string[] = [];
    s.onAny((event: string) => heard.push(event));
    expect((await w.server.api.post('/api/auth/logout', undefined, login.body.token as string)).status).toBe(204);
    const grant = await w.server.api.request('POST', `/admin/accounts/${w.victim.accountId}/credits`, {
      body: { seconds: 61, reason: 'matrix' },
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(grant.status).toBe(201);
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual([]);
    s.close();
  });
});
