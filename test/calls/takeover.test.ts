/* eslint-disable @typescript-eslint/no-explicit-any -- socket payloads are checked with the shared schemas */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../../server/core/clock.js';
import { createLogger } from '../../server/core/logger.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { OpenAIRealtimeProvider } from '../../server/realtime/openai-provider.js';
import { SimulatedSantaProvider } from '../../server/realtime/simulated-santa.js';
import type { RealtimeProvider } from '../../server/realtime/provider.js';
import { callEndedSchema, callTickSchema, callTranscriptSchema } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { freshDatabase } from '../support/postgres.js';
import { startServerGroup } from '../support/redis.js';
import { testServers } from '../support/server.js';
import { createBrowserPeer, type BrowserPeer } from '../support/webrtc-peer.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import {
  ack,
  callLedger,
  connectSocket,
  eventually,
  EventLog,
  readyParent,
  sleep,
  type ReadyParent,
} from './support.js';

/**
 * Several server processes on one PostgreSQL database, in one test process: each its own app,
 * store connection pool, socket.io server and provider client, sharing one fake clock. A
 * process "dies" by `calls.halt()`: everything of its calls stops at once and nothing is
 * written, as after kill -9 (test/calls/crash-recovery.test.ts kills a real process). Without
 * REDIS_URL the processes cannot nudge each other, so what is proved here rests on the store
 * alone (the nudges only make it quicker). Checkpoints every 5 s, leases of 15 s, the
 * watcher every 2 s.
 */

const LEASE_MS = 15_000;
const WATCH_MS = 2000;
const servers: TestServer[] = [];
const group = testServers();
const sockets: Socket[] = [];
const peers: BrowserPeer[] = [];
let fake: FakeOpenAI | null = null;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const p of peers.splice(0)) await p.close();
  for (const s of servers.splice(0).reverse()) await s.close();
  await fake?.close();
  fake = null;
});

interface Cluster {
  clock: FakeClock;
  processes: TestServer[];
}

/** `n` processes on one fresh database, with OpenAI (the local fake) or Simulated Santa. */
async function cluster(n: number, provider: 'openai' | 'simulated'): Promise<Cluster> {
  const url = await freshDatabase('takeover');
  const dataKey = randomBytes(32).toString('hex');
  const clock = new FakeClock();
  if (provider === 'openai') fake = await startFakeOpenAI({ persona: { language: 'en', childName: 'Ada' } });
  const processes: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    const name = `process-${String.fromCharCode(97 + i)}`;
    const store = await openPgStore({ url, dataKey, clock });
    const realtime: RealtimeProvider =
      provider === 'openai'
        ? new OpenAIRealtimeProvider({ apiKey: fake!.apiKey, baseURL: fake!.baseURL, logger: createLogger('warn') })
        : new SimulatedSantaProvider({ clock });
    const server = await startTestServer({
      clock,
      env: { DATABASE_URL: url, DATA_KEY: dataKey, MAX_CALL_SECONDS: '600' },
      app: { store, realtime, processId: name, clustered: true },
    });
    servers.push(server);
    processes.push(server);
  }
  return { clock, processes };
}

async function socketOf(server: TestServer, token: string): Promise<{ socket: Socket; log: EventLog }> {
  const socket = await connectSocket(server.url, token);
  sockets.push(socket);
  return { socket, log: new EventLog(socket) };
}

/** Place a call from a window socket on `server`, as the call window does: a real browser peer joins it. */
async function startCall(
  server: TestServer,
  parent: ReadyParent,
  window: Socket,
): Promise<{ callId: string; providerCallId: string; peer: BrowserPeer }> {
  const peer = await createBrowserPeer();
  peers.push(peer);
  const res = callStartAckSchema.parse(
    await ack(window, 'call:start', { profileId: parent.profileId, sdp: peer.offerSdp }),
  );
  if ('error' in res) throw new Error(`call:start refused: ${res.error.code}`);
  await peer.setAnswer(res.sdp);
  // Connected: from here on the fake clock may run ahead of real time.
  await peer.waitForEvent('session.created', 15_000);
  const row = await server.app.store.calls.get(res.callId);
  return { callId: res.callId, providerCallId: row!.providerCallId!, peer };
}

/**
 * The start most tests share: two processes, a parent with 600 s whose call window on A places
 * a call, and whose side panel watches from B (without REDIS_URL, B tells only its own sockets).
 */
async function callOnAWatchedFromB(provider: 'openai' | 'simulated') {
  const { clock, processes } = await cluster(2, provider);
  const [a, b] = processes as [TestServer, TestServer];
  const parent = await readyParent(a, { seconds: 600 });
  const window = await socketOf(a, parent.token);
  const panel = await socketOf(b, parent.token);
  const { callId, providerCallId } = await startCall(a, parent, window.socket);
  return { clock, a, b, parent, window, panel, callId, providerCallId };
}

/** Move the shared clock second by second, letting each second's writes land before the next. */
async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    clock.advance(Math.min(1000, ms - t));
    await sleep(15);
  }
}

describe('several processes on one store: one owner per live call', () => {
  it('an OpenAI call whose owner dies is taken over within the lease and a watch interval: the sideband is joined again by call id, metering goes on from the checkpoint, the transcript reaches the parent, settled once', async () => {
    const { clock, a, b, parent, panel, callId, providerCallId } = await callOnAWatchedFromB('openai');
    const startedAt = (await a.app.store.calls.get(callId))!.startedAt;

    await run(clock, 10_000);
    const before = await eventually(async () => {
      const row = await a.app.store.calls.get(callId);
      return row?.meteredSeconds === 10 ? row : undefined;
    });
    expect(before).toMatchObject({ ownerId: 'process-a', leaseUntil: clock.now() + LEASE_MS, endedAt: null });
    expect(fake!.state.sidebandConnections.filter((c) => c.callId === providerCallId)).toHaveLength(1);

    // Process A dies. Nothing happens to the call until its lease has passed.
    await a.app.services.calls.halt();
    await run(clock, LEASE_MS - 1000);
    expect((await b.app.store.calls.get(callId))?.ownerId).toBe('process-a');
    await run(clock, 1000 + WATCH_MS);
    const after = await eventually(async () => {
      const row = await b.app.store.calls.get(callId);
      return row?.ownerId === 'process-b' && b.app.services.calls.liveCount() === 1 ? row : undefined;
    }, 15_000);
    expect(after.endedAt).toBeNull();
    // Joined again by its call id; the child's media never went through us, and the call never stopped there.
    expect(fake!.state.sidebandConnections.filter((c) => c.callId === providerCallId)).toHaveLength(2);
    expect(fake!.state.hangups).toEqual([]);
    expect(fake!.state.calls.has(providerCallId)).toBe(true);

    // Metering goes on from the checkpoint: the gap since it is charged (the child kept talking).
    await run(clock, 1000);
    const now = Math.floor((clock.now() - startedAt) / 1000);
    const tick = callTickSchema.parse(
      await panel.log.wait('call:tick', (t) => t.callId === callId && t.elapsedSeconds === now),
    );
    expect(tick.elapsedSeconds).toBeGreaterThan(before.meteredSeconds + LEASE_MS / 1000);
    // Every tick B sent counts on from the checkpoint, never back to zero.
    expect(panel.log.of('call:tick').every((t) => t.elapsedSeconds > before.meteredSeconds)).toBe(true);

    // The parent's view on B goes on: the child's words reach it from the new owner.
    await fake!.childSays(providerCallId, 'I would like a red kite please');
    const heard = callTranscriptSchema.parse(
      await panel.log.wait('call:transcript', (t) => t.speaker === 'child' && t.final, 15_000),
    );
    expect(heard.text).toBe('I would like a red kite please');

    // The window comes back on B (A is gone) and the parent ends the call there.
    const window2 = await socketOf(b, parent.token);
    expect(await ack(window2.socket, 'call:resume', { callId })).toMatchObject({ ok: true });
    await run(clock, 3000);
    const seconds = Math.floor((clock.now() - startedAt) / 1000);
    expect(await ack(panel.socket, 'call:end', { callId })).toEqual({ ok: true });
    const ended = callEndedSchema.parse(await panel.log.wait('call:ended', (e) => e.callId === callId));
    expect(ended).toEqual({ callId, reason: 'parent', seconds });
    expect(await callLedger(b, callId)).toEqual([`capture:${seconds}`, 'hold:600', `release:${600 - seconds}`]);
    expect(fake!.state.hangups).toEqual([providerCallId]);
    expect(panel.log.of('call:ended')).toHaveLength(1);
  });

  it('a process that lost its lease stops metering at once; the new owner carries the call on', async () => {
    const { clock, processes } = await cluster(2, 'openai');
    const [a, b] = processes as [TestServer, TestServer];
    const parent = await readyParent(a, { seconds: 600 });
    const window = await socketOf(a, parent.token);
    const { callId } = await startCall(a, parent, window.socket);
    await run(clock, 5000);
    await eventually(async () => (await a.app.store.calls.get(callId))?.meteredSeconds === 5);
    // A stalls past its lease (as far as the others can tell): B claims the call.
    await b.app.store.calls.update(callId, { leaseUntil: clock.now() - 1 });
    await b.app.services.calls.takeOverExpired('server_lost');
    expect((await b.app.store.calls.get(callId))?.ownerId).toBe('process-b');
    expect(b.app.services.calls.liveCount()).toBe(1);
    // A's next checkpoint is refused: it stops there, closes nothing, hangs nothing up.
    await run(clock, 5000);
    await eventually(() => a.app.services.calls.liveCount() === 0, 10_000, 'A to let the call go');
    const ticksOnA = window.log.of('call:tick').length;
    await run(clock, 10_000);
    expect(window.log.of('call:tick')).toHaveLength(ticksOnA);
    expect(window.log.of('call:ended')).toEqual([]);
    expect(fake!.state.hangups).toEqual([]);
    const row = await eventually(async () => {
      const r = await b.app.store.calls.get(callId);
      return r && r.meteredSeconds >= 15 ? r : undefined;
    });
    expect(row).toMatchObject({ ownerId: 'process-b', endedAt: null });
    expect(await b.app.services.calls.endCall(callId)).toBe(true);
    expect(await callLedger(b, callId)).toHaveLength(3);
  });

  it('call:end sent to a process that does not run the call ends it on its owner, charged up to when it was sent', async () => {
    const { clock, a, b, parent, window, panel, callId } = await callOnAWatchedFromB('simulated');
    await run(clock, 7000);
    // B knows of the call from the store: its readiness shows it, and B refuses a second call for the child.
    const ready = await b.api.get('/api/calls/readiness', parent.token);
    expect(ready.body.live).toEqual([
      // From A's record in the store: a Simulated Santa call, as A's call:started said.
      {
        callId,
        profileId: parent.profileId,
        heldSeconds: 600,
        remainingSeconds: 593,
        elapsedSeconds: 7,
        simulated: true,
      },
    ]);
    expect(ready.body.profiles).toEqual([
      expect.objectContaining({
        profileId: parent.profileId,
        block: 'call_in_progress',
        liveProfileId: parent.profileId,
      }),
    ]);
    const second = await createBrowserPeer();
    peers.push(second);
    expect(await ack(panel.socket, 'call:start', { profileId: parent.profileId, sdp: second.offerSdp })).toMatchObject({
      error: { code: 'call_in_progress' },
    });
    expect(await ack(panel.socket, 'call:end', { callId })).toEqual({ ok: true });
    // The owner reads the request at its next checkpoint (with REDIS_URL it is nudged at once).
    await run(clock, 5000);
    const ended = callEndedSchema.parse(await window.log.wait('call:ended', (e) => e.callId === callId));
    expect(ended).toEqual({ callId, reason: 'parent', seconds: 7 });
    expect(await callLedger(a, callId)).toEqual(['capture:7', 'hold:600', 'release:593']);
    // Another account's call is not found on any process, and keeps running.
    const stranger = await readyParent(b, { seconds: 600 });
    const strangerWindow = await socketOf(a, stranger.token);
    const other = await startCall(a, stranger, strangerWindow.socket);
    const intruder = await socketOf(b, parent.token);
    expect(await ack(intruder.socket, 'call:end', { callId: other.callId })).toMatchObject({
      error: { code: 'call_not_found' },
    });
    await run(clock, 6000);
    expect((await a.app.store.calls.get(other.callId))?.endedAt).toBeNull();
  });

  it('a Simulated Santa call whose owner dies ends with server_lost, settled from its last checkpoint; of two processes racing to take it over exactly one wins', async () => {
    const { clock, processes } = await cluster(3, 'simulated');
    const [a, b, c] = processes as [TestServer, TestServer, TestServer];
    const parent = await readyParent(a, { seconds: 600 });
    const window = await socketOf(a, parent.token);
    // Without REDIS_URL a process tells only its own sockets: the parent watches on both B and C.
    const panels = [await socketOf(b, parent.token), await socketOf(c, parent.token)];
    const { callId } = await startCall(a, parent, window.socket);
    await run(clock, 12_000);
    await eventually(async () => (await a.app.store.calls.get(callId))?.meteredSeconds === 10);
    await a.app.services.calls.halt();
    // B and C find the same expired lease at the same moment and both try to claim the call
    // (their watchers are stopped so that only this race runs).
    const calls = (p: TestServer) => p.app.services.calls as any;
    await calls(b).watcher.stop();
    await calls(c).watcher.stop();
    clock.advance(LEASE_MS);
    const row = await b.app.store.calls.get(callId);
    const race = await Promise.all([calls(b).takeOver(row, 'server_lost'), calls(c).takeOver(row, 'server_lost')]);
    expect([...race].sort()).toEqual(['ended', 'lost_race']);
    const winner = panels[race.indexOf('ended')]!;
    const ended = callEndedSchema.parse(await winner.log.wait('call:ended', (e) => e.callId === callId));
    expect(ended).toEqual({ callId, reason: 'server_lost', seconds: 10 });
    expect(panels.flatMap((p) => p.log.of('call:ended'))).toHaveLength(1);
    expect(await callLedger(b, callId)).toEqual(['capture:10', 'hold:600', 'release:590']);
    expect(await b.app.store.calls.get(callId)).toMatchObject({ reason: 'server_lost', meteredSeconds: 10 });
    expect((await b.app.store.calls.get(callId))?.settledAt).not.toBeNull();
  });

  it('SIGTERM drain hands the calls over at once: another process takes over within a watch interval, from the drain checkpoint', async () => {
    const { clock, a, b, window, panel, callId, providerCallId } = await callOnAWatchedFromB('openai');
    await run(clock, 7000);
    const drainedAt = clock.now();
    // The drain: app.close() is what SIGTERM runs (server/index.ts).
    await a.stop();
    const handed = await b.app.store.calls.get(callId);
    expect(handed).toMatchObject({ ownerId: 'process-a', leaseUntil: drainedAt, meteredSeconds: 7, endedAt: null });
    expect(window.socket.connected).toBe(false);
    expect(fake!.state.hangups).toEqual([]);
    // One watch interval, far less than a lease.
    await run(clock, WATCH_MS);
    await eventually(() => b.app.services.calls.liveCount() === 1, 15_000, 'B to take the call over');
    expect(fake!.state.sidebandConnections.filter((c) => c.callId === providerCallId)).toHaveLength(2);
    await run(clock, 1000);
    const expected = 7 + Math.floor((clock.now() - drainedAt) / 1000);
    await panel.log.wait('call:tick', (t) => t.callId === callId && t.elapsedSeconds === expected);
    expect(panel.log.of('call:tick').every((t) => t.elapsedSeconds >= 7)).toBe(true);
    expect(await b.app.services.calls.endCall(callId)).toBe(true);
    const ended = callEndedSchema.parse(await panel.log.wait('call:ended', (e) => e.callId === callId));
    expect(ended.reason).toBe('admin');
    expect(await callLedger(b, callId)).toEqual([
      `capture:${ended.seconds}`,
      'hold:600',
      `release:${600 - ended.seconds}`,
    ]);
  });

  it('the calls of a drained process are taken over side by side, not one after another', async () => {
    const { clock, a, b, window, callId } = await callOnAWatchedFromB('openai');
    const other = await readyParent(a, { seconds: 600 });
    const otherWindow = await socketOf(a, other.token);
    const second = await startCall(a, other, otherWindow.socket);
    await run(clock, 2000);
    // Each new sideband is held at the fake for a while: one after another, the second would
    // not even be asked for before the first is open.
    fake!.fail('sideband', { delayMs: 2000, times: 2 });
    const asked = () => fake!.state.authorizations.filter((r) => r.route === 'sideband').length;
    const opened = () => fake!.state.sidebandConnections.length;
    const [askedBefore, openedBefore] = [asked(), opened()];
    await a.stop();
    await run(clock, WATCH_MS);
    await eventually(() => asked() - askedBefore >= 2 || opened() > openedBefore, 15_000, 'B to join the calls again');
    expect({ asked: asked() - askedBefore, opened: opened() - openedBefore }).toEqual({ asked: 2, opened: 0 });
    await eventually(() => b.app.services.calls.liveCount() === 2, 15_000, 'B to take both calls over');
    expect(window.socket.connected).toBe(false);
    for (const id of [callId, second.callId]) expect(await b.app.services.calls.endCall(id)).toBe(true);
  });

  it('a process alone on its store still ends its calls at SIGTERM (nobody would take them over)', async () => {
    const clock = new FakeClock();
    const url = await freshDatabase('takeover');
    const dataKey = randomBytes(32).toString('hex');
    const store = await openPgStore({ url, dataKey, clock });
    const alone = await startTestServer({
      clock,
      env: { DATABASE_URL: url, DATA_KEY: dataKey },
      app: { store, realtime: new SimulatedSantaProvider({ clock }), processId: 'process-alone' },
    });
    servers.push(alone);
    const parent = await readyParent(alone, { seconds: 600 });
    const window = await socketOf(alone, parent.token);
    const { callId } = await startCall(alone, parent, window.socket);
    await run(clock, 4000);
    const ended = window.log.wait('call:ended', (e) => e.callId === callId);
    await alone.stop();
    expect(callEndedSchema.parse(await ended)).toEqual({ callId, reason: 'server_shutdown', seconds: 4 });
  });

  it('with REDIS_URL, call:resume and call:end on a process that does not run the call reach its owner at once (call:poke): the grace period stops, the hang-up ends it', async () => {
    const clock = new FakeClock();
    const [a, b] = (await startServerGroup(group, 2, { clock })) as [TestServer, TestServer];
    const parent = await readyParent(a, { seconds: 600 });
    const window = await socketOf(a, parent.token);
    const panel = await socketOf(b, parent.token);
    const { callId } = await startCall(a, parent, window.socket);
    await run(clock, 6000);
    // The window's socket drops and comes back on B: A, the owner, hears of it and stops the grace period.
    window.socket.disconnect();
    await eventually(() => a.app.services.calls.liveCalls()[0]?.windowConnected === false, 5000, 'the grace period');
    const window2 = await socketOf(b, parent.token);
    expect(await ack(window2.socket, 'call:resume', { callId })).toEqual({ ok: true, remainingSeconds: 594 });
    await eventually(() => a.app.services.calls.liveCalls()[0]?.windowConnected === true, 5000, 'A to hear of it');
    await run(clock, 25_000); // past the 20 s grace period
    expect(panel.log.of('call:ended')).toEqual([]);
    // The window on B hangs up: A ends the call at once, as the child's hang-up.
    expect(await ack(window2.socket, 'call:end', { callId })).toEqual({ ok: true });
    const ended = callEndedSchema.parse(await panel.log.wait('call:ended', (e) => e.callId === callId));
    expect(ended).toEqual({ callId, reason: 'hangup', seconds: 31 });
    expect(await callLedger(a, callId)).toEqual(['capture:31', 'hold:600', 'release:569']);
  });
});
