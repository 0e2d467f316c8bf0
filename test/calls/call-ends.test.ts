import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../../server/core/clock.js';
import { SimulatedSantaProvider } from '../../server/realtime/simulated-santa.js';
import { admin } from '../../server/privacy/test-helpers.js';
import { callEndedSchema, type CallEndReason } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { testServers, type TestServer } from '../support/server.js';
import { createBrowserPeer, type BrowserPeer } from '../support/webrtc-peer.js';
import { ack, connectSocket, EventLog, readyParent, type ReadyParent } from './support.js';

/**
 * Every way a call ends goes through one closing path, exactly once: one hold, one capture,
 * one release in the ledger, the record closed once with the real reason, `call:ended` once
 * to every socket of the account (and to no other family's), whatever else then tries to end
 * it. Real server, real sockets, Simulated Santa answering a werift "browser", a fake clock
 * starting at 10:00 UTC.
 */
const servers = testServers();
const sockets: Socket[] = [];
const peers: BrowserPeer[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const p of peers.splice(0)) await p.close();
});

interface Family {
  parent: ReadyParent;
  window: Socket;
  sockets: { name: string; socket: Socket; log: EventLog }[];
}

interface World {
  server: TestServer;
  clock: FakeClock;
  provider: SimulatedSantaProvider;
  family: Family;
  stranger: { log: EventLog };
}

/** A server whose longest call is 90 s, a family with three sockets open (call window, side panel, popup), and a stranger. */
async function world(opts: { seconds?: number; profile?: Record<string, unknown> } = {}): Promise<World> {
  const clock = new FakeClock();
  const provider = new SimulatedSantaProvider({ clock });
  const server = await servers.start({
    clock,
    env: { MAX_CALL_SECONDS: '90', MIN_CALL_SECONDS: '30' },
    app: { realtime: provider },
  });
  const parent = await readyParent(server, { seconds: opts.seconds ?? 600, profile: opts.profile });
  const open = async (name: string, token: string) => {
    const socket = await connectSocket(server.url, token);
    sockets.push(socket);
    return { name, socket, log: new EventLog(socket) };
  };
  const family = [
    await open('window', parent.token),
    await open('side panel', parent.token),
    await open('popup', parent.token),
  ];
  const strangerParent = await readyParent(server, { seconds: 600 });
  const stranger = await open('stranger', strangerParent.token);
  return { server, clock, provider, family: { parent, window: family[0]!.socket, sockets: family }, stranger };
}

async function startCall(w: World): Promise<string> {
  const peer = await createBrowserPeer();
  peers.push(peer);
  const res = callStartAckSchema.parse(
    await ack(w.family.window, 'call:start', { profileId: w.family.parent.profileId, sdp: peer.offerSdp }),
  );
  if ('error' in res) throw new Error(`call:start refused: ${res.error.code}`);
  await peer.setAnswer(res.sdp);
  // Connected: from here on the fake clock may run ahead of real time.
  await peer.waitForEvent('session.created', 15_000);
  return res.callId;
}

/** The 'call ended' lines the closing path wrote for this call: one per close. */
const closesLogged = (server: TestServer, callId: string) =>
  server.logs.flatMap((l) => l.split('\n')).filter((l) => l.includes('"msg":"call ended"') && l.includes(callId))
    .length;

/**
 * After the end: everything else that could end the call tries again (the parent, the
 * window, the admin, the clock running on), and nothing changes. Then the proof.
 */
async function expectClosedOnce(
  w: World,
  callId: string,
  expected: { reason: CallEndReason; seconds: number; held: number },
  opts: { store?: TestServer; connected?: string[] } = {},
): Promise<void> {
  const connected = w.family.sockets.filter((s) =>
    (opts.connected ?? ['window', 'side panel', 'popup']).includes(s.name),
  );
  for (const s of connected) await s.log.wait('call:ended', (e) => e.callId === callId);
  const server = opts.store ?? w.server;
  if (!opts.store) {
    for (const s of connected) expect(await ack(s.socket, 'call:end', { callId })).toEqual({ ok: true });
    expect(await w.server.app.services.calls.endCall(callId, 'admin')).toBe(false);
    await w.clock.advanceAsync(30_000, 1000);
    await w.server.app.store.flush();
  }

  for (const s of connected) {
    const ended = s.log.of('call:ended').filter((e) => e.callId === callId);
    expect(
      ended.map((e) => callEndedSchema.parse(e)),
      s.name,
    ).toEqual([{ callId, reason: expected.reason, seconds: expected.seconds }]);
  }
  for (const s of w.family.sockets.filter((x) => !connected.includes(x)))
    expect(s.log.of('call:ended'), s.name).toEqual([]);
  expect(w.stranger.log.of('call:ended')).toEqual([]);

  const ledger = (await server.app.store.ledger.findBy('callId', callId)).map((e) => `${e.kind}:${e.seconds}`).sort();
  expect(ledger).toEqual([
    `capture:${expected.seconds}`,
    `hold:${expected.held}`,
    `release:${expected.held - expected.seconds}`,
  ]);
  const row = await server.app.store.calls.get(callId);
  expect(row).toMatchObject({ reason: expected.reason, meteredSeconds: expected.seconds });
  expect(row?.endedAt).not.toBeNull();
  expect(row?.settledAt).not.toBeNull();
  expect(
    closesLogged(w.server, callId) + (opts.store && opts.store !== w.server ? closesLogged(opts.store, callId) : 0),
  ).toBe(1);
  const credits = await server.app.services.credits.state(w.family.parent.accountId);
  expect(credits.heldSeconds).toBe(0);
  expect(w.provider.openCalls).toBe(0);
}

describe('every end of a call goes through the one closing path, once', () => {
  it('hangup: the call window hangs up', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(7000, 1000);
    expect(await ack(w.family.window, 'call:end', { callId })).toEqual({ ok: true });
    await expectClosedOnce(w, callId, { reason: 'hangup', seconds: 7, held: 90 });
  });

  it('parent: the side panel ends it', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(8000, 1000);
    expect(await ack(w.family.sockets[1]!.socket, 'call:end', { callId })).toEqual({ ok: true });
    await expectClosedOnce(w, callId, { reason: 'parent', seconds: 8, held: 90 });
  });

  it('credit_exhausted: the call time bought runs out before any limit', async () => {
    const w = await world({ seconds: 45 });
    const callId = await startCall(w);
    await w.clock.advanceAsync(46_000, 1000);
    await expectClosedOnce(w, callId, { reason: 'credit_exhausted', seconds: 45, held: 45 });
  });

  it('max_duration: the longest call allowed is reached', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(91_000, 1000);
    await expectClosedOnce(w, callId, { reason: 'max_duration', seconds: 90, held: 90 });
  });

  it("daily_limit: the child's daily minutes are used up (not the longest call)", async () => {
    const w = await world({ profile: { dailyMinutes: 1 } });
    const callId = await startCall(w);
    await w.clock.advanceAsync(61_000, 1000);
    await expectClosedOnce(w, callId, { reason: 'daily_limit', seconds: 60, held: 60 });
  });

  it("quiet_hours: the child's quiet hours begin (not the longest call)", async () => {
    const w = await world({ profile: { quietHours: { from: '10:01', to: '11:00' } } });
    const callId = await startCall(w);
    await w.clock.advanceAsync(61_000, 1000);
    await expectClosedOnce(w, callId, { reason: 'quiet_hours', seconds: 60, held: 60 });
  });

  it('disconnected: the call window stays away past the grace period', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(5000, 1000);
    w.family.window.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    await w.clock.advanceAsync(w.server.config.callGraceSeconds * 1000, 1000);
    await expectClosedOnce(
      w,
      callId,
      { reason: 'disconnected', seconds: 5 + w.server.config.callGraceSeconds, held: 90 },
      { connected: ['side panel', 'popup'] },
    );
  });

  it("provider_error: the provider's side of the call goes away", async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(9000, 1000);
    const row = await w.server.app.store.calls.get(callId);
    await w.provider.hangup(row!.providerCallId!);
    await expectClosedOnce(w, callId, { reason: 'provider_error', seconds: 9, held: 90 });
  });

  it('admin: the operator ends it over HTTP', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(4000, 1000);
    expect((await admin(w.server.api).post(`/admin/calls/${callId}/end`)).status).toBe(200);
    await expectClosedOnce(w, callId, { reason: 'admin', seconds: 4, held: 90 });
  });

  it('restricted: the parent pauses processing', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(6000, 1000);
    expect((await w.server.api.post('/api/me/restrict', { restricted: true }, w.family.parent.token)).status).toBe(200);
    await expectClosedOnce(w, callId, { reason: 'restricted', seconds: 6, held: 90 });
  });

  it('account_closed: the parent closes the account', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(3000, 1000);
    expect(
      (await w.server.api.delete('/api/me', { password: w.family.parent.password }, w.family.parent.token)).status,
    ).toBe(202);
    // Closing the account signs every socket out; each heard the end first.
    const connected = ['window', 'side panel', 'popup'];
    for (const s of w.family.sockets) await s.log.wait('call:ended', (e) => e.callId === callId);
    expect(await w.server.app.services.calls.endCall(callId, 'admin')).toBe(false);
    await w.clock.advanceAsync(30_000, 1000);
    await expectClosedOnce(
      w,
      callId,
      { reason: 'account_closed', seconds: 3, held: 90 },
      { store: w.server, connected },
    );
  });

  it('server_shutdown: a graceful stop ends and settles the call', async () => {
    const w = await world();
    const callId = await startCall(w);
    await w.clock.advanceAsync(12_000, 1000);
    await w.server.stop();
    const reopened = servers.track(await w.server.restart());
    await expectClosedOnce(w, callId, { reason: 'server_shutdown', seconds: 12, held: 90 }, { store: reopened });
  });

  it('server_restart: recovery closes a call whose owner stopped renewing its lease from its last checkpoint, and leaves a call whose lease holds', async () => {
    const w = await world();
    const { store, services } = w.server.app;
    // What a process that died mid-call leaves: an open record with its hold, a checkpoint and a lease that has passed.
    const callId = 'call-left-by-a-crash';
    const now = w.clock.now();
    const row = {
      id: callId,
      accountId: w.family.parent.accountId,
      profileId: w.family.parent.profileId,
      provider: 'simulated' as const,
      providerCallId: 'rtc_sim_gone',
      heldSeconds: 90,
      startedAt: now - 20_000,
      meteredSeconds: 15,
      checkpointAt: now - 5000,
      endedAt: null,
      reason: null,
      settledAt: null,
      ownerId: 'process-that-died',
      leaseUntil: now - 1,
      limitReason: 'credit_exhausted' as const,
      endRequest: null,
      window: null,
    };
    await store.calls.insert(row);
    // Another process's live call: its lease holds, so nobody touches it.
    const sibling = await readyParent(w.server, { seconds: 600 });
    await store.calls.insert({
      ...row,
      id: 'call-of-a-live-process',
      accountId: sibling.accountId,
      profileId: sibling.profileId,
      ownerId: 'process-alive',
      leaseUntil: now + 10_000,
    });
    expect(await services.credits.hold(w.family.parent.accountId, callId, { min: 30, max: 90 })).toBe(90);
    expect(await services.calls.recover({ everyOpen: false })).toEqual({ takenOver: 0, ended: 1, settled: 0 });
    expect(await services.calls.recover({ everyOpen: false })).toEqual({ takenOver: 0, ended: 0, settled: 0 });
    expect((await store.calls.get('call-of-a-live-process'))?.endedAt).toBeNull();
    await expectClosedOnce(w, callId, { reason: 'server_restart', seconds: 15, held: 90 });
    expect((await store.calls.get(callId))?.endedAt).toBe(now - 5000);
  });
});
