/* eslint-disable @typescript-eslint/no-explicit-any -- socket payloads are checked with the shared schemas */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../../server/core/clock.js';
import { EVENT_STREAM_MAX_LEN } from '../../server/sockets/hub.js';
import { callEndedSchema, callTickSchema } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { FakeRealtimeProvider } from '../fakes/realtime-provider.js';
import { ack, BROWSER_OFFER, connectSocket, eventually, EventLog, readyParent, sleep } from '../calls/support.js';
import { ownRedisServer, startServerGroup } from '../support/redis.js';
import { signUpParent, testServers, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

/**
 * Redis stopped for several seconds under two processes, A running a live call. The sockets on
 * A get every event of the call at once all along (A does not wait for Redis to deliver its
 * own events); the sockets on B get every one of them once Redis is back. Checkpoints every
 * 5 s (CALL_CHECKPOINT_SECONDS' default).
 */
const CHECKPOINT_MS = 5000;
const servers = testServers();
const sockets: Socket[] = [];
const redis = ownRedisServer();
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function open(server: TestServer, token: string): Promise<{ socket: Socket; log: EventLog }> {
  const socket = await connectSocket(server.url, token);
  sockets.push(socket);
  return { socket, log: new EventLog(socket) };
}

const ticksOf = (log: EventLog, callId: string): number[] =>
  log
    .of('call:tick')
    .map((t: unknown) => callTickSchema.parse(t))
    .filter((t) => t.callId === callId)
    .map((t) => t.elapsedSeconds);

async function twoProcessesWithACall() {
  const clock = new FakeClock();
  const [a, b] = (await startServerGroup(servers, 2, {
    redisUrl: redis.url,
    clock,
    app: () => ({ realtime: new FakeRealtimeProvider(0, { clock }) }),
  })) as [TestServer, TestServer];
  const parent = await readyParent(a, { seconds: 600 });
  // The call window and one live view on A, the call's own process; another live view on B.
  const window = await open(a, parent.token);
  const panelOnA = await open(a, parent.token);
  const panelOnB = await open(b, parent.token);
  const started = callStartAckSchema.parse(
    await ack(window.socket, 'call:start', { profileId: parent.profileId, sdp: BROWSER_OFFER }),
  );
  if ('error' in started) throw new Error(`call:start refused: ${started.error.code}`);
  const { callId } = started;
  await clock.advanceAsync(2000, 1000);
  await eventually(() => ticksOf(panelOnB.log, callId).length >= 2, 10_000, 'ticks on B before Redis goes');
  return { clock, a, b, parent, window, panelOnA, panelOnB, callId };
}

async function stopRedis(a: TestServer, b: TestServer): Promise<void> {
  await redis.stop();
  await eventually(() => !a.app.redis!.isUp() && !b.app.redis!.isUp(), 10_000, 'both processes to see Redis gone');
}

async function startRedis(a: TestServer, b: TestServer): Promise<void> {
  await redis.start();
  await eventually(() => a.app.redis!.isUp() && b.app.redis!.isUp(), 10_000, 'both processes to see Redis back');
}

describe('while Redis is away, a process delivers its own events at once and the others get them when it is back', () => {
  it("a socket on the call's own process gets every tick, transcript line, call:ended and credits:updated while Redis is away; a socket on another process gets every one of them once it is back, in order, once each", async () => {
    const { clock, a, b, parent, window, panelOnA, panelOnB, callId } = await twoProcessesWithACall();
    await stopRedis(a, b);
    const ticksBefore = ticksOf(panelOnA.log, callId).length;

    // The window says its media is up: Santa greets, his words come as transcript lines.
    expect(await ack(window.socket, 'call:connected', { callId })).toEqual({ ok: true });
    // Several seconds of the call while Redis stays away: each tick reaches A's sockets as it happens.
    for (let s = 1; s <= 8; s++) {
      await clock.advanceAsync(1000, 100);
      const expected = ticksBefore + s;
      await eventually(
        () => ticksOf(panelOnA.log, callId).length >= expected,
        5000,
        `tick ${expected} on A while Redis is away`,
      );
      await sleep(500);
    }
    expect(redis.running).toBe(false);
    expect(panelOnA.log.of('call:transcript').length).toBeGreaterThan(0);
    // The parent ends the call from the live view on A: the end and the new balance arrive at once too.
    expect(await ack(panelOnA.socket, 'call:end', { callId })).toEqual({ ok: true });
    const ended = callEndedSchema.parse(await panelOnA.log.wait('call:ended', (e) => e.callId === callId));
    expect(ended.reason).toBe('parent');
    await panelOnA.log.wait('credits:updated');
    expect(redis.running).toBe(false);
    // Nothing of the outage has reached B yet: its live view waits for Redis.
    expect(panelOnB.log.of('call:ended')).toEqual([]);

    await startRedis(a, b);
    // One more event after the outage's: once B has it, the stream has brought B everything before it.
    const grant = await a.api.request('POST', `/admin/accounts/${parent.accountId}/credits`, {
      token: TEST_ADMIN_TOKEN,
      body: { seconds: 60, reason: 'after the outage' },
    });
    expect(grant.status).toBe(201);
    const afterwards = (p: any) => p.availableSeconds === 600 - ended.seconds + 60;
    await panelOnA.log.wait('credits:updated', afterwards);
    await panelOnB.log.wait('credits:updated', afterwards, 15_000);

    // Every event, in the same order, once each, on both processes' sockets.
    expect(panelOnB.log.events).toEqual(panelOnA.log.events);
    const ticks = ticksOf(panelOnA.log, callId);
    expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => i + 1));
    expect(panelOnA.log.of('call:ended')).toHaveLength(1);
    expect(window.socket.connected && panelOnA.socket.connected && panelOnB.socket.connected).toBe(true);
  });

  it("call:end sent to a process that does not run the call while Redis is away ends it at the owner's next checkpoint, before Redis is back", async () => {
    const { clock, a, b, window, panelOnB, callId } = await twoProcessesWithACall();
    const poked = vi.spyOn(a.app.services.calls, 'poked');
    await stopRedis(a, b);

    // B records the end in the call's record (PostgreSQL is up); its nudge to A cannot travel now.
    const askedAt = clock.now();
    expect(await ack(panelOnB.socket, 'call:end', { callId })).toEqual({ ok: true });
    expect((await b.app.store.calls.get(callId))!.endRequest).toEqual({ reason: 'parent', at: askedAt });
    // One checkpoint interval of the call on A: its checkpoint reads the record and ends the call.
    for (let s = 1; s <= CHECKPOINT_MS / 1000; s++) {
      await clock.advanceAsync(1000, 100);
      await sleep(100);
    }
    const ended = callEndedSchema.parse(await window.log.wait('call:ended', (e) => e.callId === callId, 10_000));
    // Charged up to when the parent asked, not to when A read it.
    expect(ended).toEqual({ callId, reason: 'parent', seconds: 2 });
    expect(redis.running).toBe(false);
    expect(poked).not.toHaveBeenCalled();
    expect((await a.app.store.calls.get(callId))!.endedAt).not.toBeNull();
    expect(a.app.services.calls.liveCount()).toBe(0);

    await startRedis(a, b);
    await panelOnB.log.wait('call:ended', (e) => e.callId === callId, 15_000);
    expect(panelOnB.log.of('call:ended')).toHaveLength(1);
  });

  it('a session signed out while Redis is away has its socket on the same process disconnected at once, before any later event, and its socket on another process once Redis is back', async () => {
    const clock = new FakeClock();
    const [a, b] = (await startServerGroup(servers, 2, { redisUrl: redis.url, clock })) as [TestServer, TestServer];
    const parent = await signUpParent(a.api);
    const onA = await open(a, parent.token);
    const onB = await open(b, parent.token);
    // B has read the stream before Redis goes (it resumes from the last entry it read).
    a.app.notifier.toAccount(parent.accountId, 'credits:updated', { balanceSeconds: 0, availableSeconds: 0 });
    await onB.log.wait('credits:updated');
    await stopRedis(a, b);

    const goneOnA = disconnected(onA.socket);
    const goneOnB = disconnected(onB.socket);
    expect((await a.api.post('/api/auth/logout', undefined, parent.token)).status).toBe(204);
    expect(await goneOnA).toBe('io server disconnect');
    expect(redis.running).toBe(false);
    // An event for the account after the sign-out reaches neither socket of the ended session.
    a.app.notifier.toAccount(parent.accountId, 'credits:updated', { balanceSeconds: 60, availableSeconds: 60 });
    await startRedis(a, b);
    expect(await goneOnB).toBe('io server disconnect');
    expect(onA.log.of('credits:updated')).toEqual([{ balanceSeconds: 0, availableSeconds: 0 }]);
    expect(onB.log.of('credits:updated')).toEqual([{ balanceSeconds: 0, availableSeconds: 0 }]);
  });

  it('past 10,000 events waiting for Redis, the next ones for the other processes are dropped and counted on /admin/metrics; this process still delivers them to its own sockets', async () => {
    const clock = new FakeClock();
    const [a, b] = (await startServerGroup(servers, 2, { redisUrl: redis.url, clock })) as [TestServer, TestServer];
    const parent = await signUpParent(a.api);
    const onA = await open(a, parent.token);
    await stopRedis(a, b);
    // As many events as may wait for Redis, for an account with no socket here: all wait for the other processes.
    for (let n = 0; n < EVENT_STREAM_MAX_LEN; n++)
      a.app.notifier.toAccount('nobody-here', 'credits:updated', { balanceSeconds: n, availableSeconds: n });
    a.app.notifier.toAccount(parent.accountId, 'credits:updated', { balanceSeconds: 7, availableSeconds: 7 });
    expect(await onA.log.wait('credits:updated')).toEqual({ balanceSeconds: 7, availableSeconds: 7 });
    const metrics = await a.api.request('GET', '/admin/metrics', { token: TEST_ADMIN_TOKEN });
    expect(metrics.body).toContain('callsanta_socket_events_dropped_total 1');
    expect(a.logs.filter((l) => l.includes('events for the other processes are dropped'))).toHaveLength(1);
    expect(a.logs.join('')).not.toContain('"balanceSeconds"');
    await startRedis(a, b);
    await eventually(
      () => a.logs.some((l) => l.includes('socket events for the other processes flow again')),
      15_000,
      'the waiting appends to be sent',
    );
  });
});

/** The reason the socket was disconnected, or a failure after 15 s. */
function disconnected(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket was not disconnected within 15 s')), 15_000);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}
