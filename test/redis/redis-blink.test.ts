import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../../server/core/clock.js';
import { callTickSchema } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { FakeRealtimeProvider } from '../fakes/realtime-provider.js';
import { ack, BROWSER_OFFER, connectSocket, eventually, EventLog, readyParent, sleep } from '../calls/support.js';
import { ownRedisServer, startServerGroup } from '../support/redis.js';
import { testServers, type TestServer } from '../support/server.js';

/**
 * Redis goes away for 10 s (stopped: a fresh, empty Redis comes back, as after a restart
 * without persistence) under two processes with a live call. Sockets stay connected to their
 * process; the streams adapter holds every event for the other processes and delivers it, in
 * order, once Redis is back (a process's own sockets get its events at once meanwhile:
 * events-while-redis-away.test.ts).
 */
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

const elapsedOf = (log: EventLog, callId: string) =>
  log
    .of('call:tick')
    .map((t: unknown) => callTickSchema.parse(t))
    .filter((t) => t.callId === callId)
    .map((t) => t.elapsedSeconds);

describe('Redis stopped for 10 s and started again', () => {
  it('loses no event to a socket that stayed connected, meters the live call throughout, refuses new calls clearly meanwhile, and recovers on its own', async () => {
    const clock = new FakeClock();
    const [a, b] = await startServerGroup(servers, 2, {
      redisUrl: redis.url,
      clock,
      app: () => ({ realtime: new FakeRealtimeProvider(0, { clock }) }),
    });
    const x = await readyParent(a!, { seconds: 600 });
    const y = await readyParent(a!, { seconds: 600 });
    // X's call window on A, X's side panel on B; Y's call window on B.
    const window = await open(a!, x.token);
    const panel = await open(b!, x.token);
    const yWindow = await open(b!, y.token);

    const started = callStartAckSchema.parse(
      await ack(window.socket, 'call:start', { profileId: x.profileId, sdp: BROWSER_OFFER }),
    );
    if ('error' in started) throw new Error(`call:start refused: ${started.error.code}`);
    const { callId } = started;
    await clock.advanceAsync(2000, 1000);
    await eventually(() => elapsedOf(panel.log, callId).length >= 2, 10_000, 'ticks on B before the blink');

    await redis.stop();
    await eventually(() => !a!.app.redis!.isUp() && !b!.app.redis!.isUp(), 10_000, 'both processes to see Redis gone');
    const awayFrom = Date.now();

    // /healthz says so on both processes: 503, with what went wrong and since when.
    for (const s of [a!, b!]) {
      const health = await s.api.get('/healthz');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ ok: false, store: { ok: true }, redis: { ok: false } });
      expect(typeof health.body.redis.error).toBe('string');
      expect(typeof health.body.redis.downSince).toBe('string');
    }
    // A new call is refused with the clear code, on either process; nothing is held for it.
    for (const w of [yWindow, await open(a!, y.token)]) {
      const refused = callStartAckSchema.parse(
        await ack(w.socket, 'call:start', { profileId: y.profileId, sdp: BROWSER_OFFER }),
      );
      expect(refused).toEqual({ error: { code: 'service_unavailable', message: expect.any(String) } });
    }
    expect((await a!.app.services.credits.state(y.accountId)).availableSeconds).toBe(600);

    // The live call goes on: metered each second, its checkpoints written to the store.
    const before = (await a!.app.store.calls.get(callId))!;
    while (Date.now() - awayFrom < 10_000) {
      await clock.advanceAsync(1000, 1000);
      await sleep(250);
    }
    const during = (await a!.app.store.calls.get(callId))!;
    expect(during.endedAt).toBeNull();
    // Ten more seconds metered while Redis was away, checkpointed (every 5 s) to the store.
    expect(during.meteredSeconds).toBeGreaterThanOrEqual(before.meteredSeconds + 5);
    expect(during.checkpointAt).toBeGreaterThan(before.checkpointAt);
    expect(a!.app.services.calls.liveCount()).toBe(1);

    await redis.start();
    await eventually(() => a!.app.redis!.isUp() && b!.app.redis!.isUp(), 10_000, 'both processes to see Redis back');
    expect((await a!.api.get('/healthz')).status).toBe(200);
    expect((await b!.api.get('/healthz')).body).toMatchObject({ ok: true, redis: { ok: true, status: 'ready' } });

    // Every tick A emitted reaches both sockets, in order and without a gap, once Redis is back.
    await clock.advanceAsync(1000, 1000);
    const last = await eventually(
      () => {
        const onA = elapsedOf(window.log, callId);
        const onB = elapsedOf(panel.log, callId);
        return onA.length > 10 && onB.length === onA.length ? onA : undefined;
      },
      15_000,
      'the ticks of the blink on B',
    );
    expect(elapsedOf(panel.log, callId)).toEqual(last);
    expect(last).toEqual(Array.from({ length: last.length }, (_, i) => i + 1));
    expect(window.socket.connected && panel.socket.connected).toBe(true);

    // New calls start again, on the other process too.
    const fresh = callStartAckSchema.parse(
      await ack(yWindow.socket, 'call:start', { profileId: y.profileId, sdp: BROWSER_OFFER }),
    );
    expect('callId' in fresh).toBe(true);
  });
});
