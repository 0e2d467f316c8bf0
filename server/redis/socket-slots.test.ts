import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../core/logger.js';
import { systemClock } from '../core/clock.js';
import { RedisConnection } from './connection.js';
import { redisSocketSlots, type SocketSlots } from './socket-slots.js';
import { redisEnv, testRedisUrl } from '../../test/support/redis.js';

const silent = createLogger('silent');
const opened: { connection: RedisConnection; slots: SocketSlots[] }[] = [];
afterAll(async () => {
  for (const { connection, slots } of opened.splice(0)) {
    for (const s of slots) s.close();
    await connection.close();
  }
});

/** Two processes of one deployment: one Redis, one key prefix, each with its own slots (its own process id). */
async function deployment(timing: { processTtlMs: number; beatMs: number }) {
  const url = testRedisUrl();
  const prefix = redisEnv(url).REDIS_KEY_PREFIX;
  const startProcess = () => {
    const connection = new RedisConnection(url, prefix, systemClock, silent);
    const slots = redisSocketSlots(connection, { perSession: 2, perAccount: 20 }, timing);
    opened.push({ connection, slots: [slots] });
    return { connection, slots };
  };
  const a = startProcess();
  const b = startProcess();
  expect(await a.connection.waitUntilUp(5000)).toBe(true);
  expect(await b.connection.waitUntilUp(5000)).toBe(true);
  return { a, b };
}

describe('socket caps across processes, when a process dies', () => {
  it("a killed process's sockets stop filling a family's session as soon as its heartbeat lapses, not a minute later", async () => {
    // A's heartbeat lasts 400 ms and is never renewed after its claims: A is killed right after them.
    const { a, b } = await deployment({ processTtlMs: 400, beatMs: 60_000 });
    expect(await a.slots.claim('session-1', 'account-1', 'panel')).toBe(true);
    expect(await a.slots.claim('session-1', 'account-1', 'window')).toBe(true);
    // While A lives, the cap holds across processes.
    expect(await b.slots.claim('session-1', 'account-1', 'panel-again')).toBe(false);

    await sleep(600);
    // The panel and the window reconnect on B: both fit, and the cap holds again after them.
    expect(await b.slots.claim('session-1', 'account-1', 'panel-again')).toBe(true);
    expect(await b.slots.claim('session-1', 'account-1', 'window-again')).toBe(true);
    expect(await b.slots.claim('session-1', 'account-1', 'one-too-many')).toBe(false);
  });

  it("a live process's sockets keep counting: its heartbeat is renewed while it runs", async () => {
    const { a, b } = await deployment({ processTtlMs: 400, beatMs: 100 });
    expect(await a.slots.claim('session-2', 'account-2', 'panel')).toBe(true);
    expect(await a.slots.claim('session-2', 'account-2', 'window')).toBe(true);
    await sleep(1000);
    expect(await b.slots.claim('session-2', 'account-2', 'third')).toBe(false);
    // Closing one on A frees exactly one slot.
    a.slots.release('session-2', 'account-2', 'window');
    await sleep(100);
    expect(await b.slots.claim('session-2', 'account-2', 'third')).toBe(true);
    expect(await b.slots.claim('session-2', 'account-2', 'fourth')).toBe(false);
  });
});
