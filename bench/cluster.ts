import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { atLeast, info, type Row } from './lib/report.js';
import { BenchServer } from './lib/child.js';
import { benchDatabase } from './lib/pg.js';
import { nowMs, pool } from './lib/stats.js';
import { BROWSER_OFFER } from '../test/fakes/realtime-provider.js';
import { Model } from '../test/faults/model.js';
import { readyFamily, type ClusterFamily } from '../test/cluster/family.js';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';

export const name = 'cluster';

/** Call starts per measured run, how many are in flight at once, and the fake provider's answer time. */
const STARTS = Number(process.env.BENCH_CLUSTER_STARTS ?? 120);
const IN_FLIGHT = Number(process.env.BENCH_CLUSTER_IN_FLIGHT ?? 24);
const PROVIDER_MS = Number(process.env.BENCH_CLUSTER_PROVIDER_MS ?? 50);
const WEBHOOK_SECRET = 'whsec_bench';
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

function ack<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    socket.timeout(60_000).emit(event, payload, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

async function socketTo(url: string, token: string): Promise<Socket> {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/**
 * Call starts per second on `processes` server processes (children running the real app with
 * the bench's fake provider, PROVIDER_MS to answer) on one PostgreSQL database and one Redis:
 * STARTS families, each with its own socket on process i % n, start one call each, IN_FLIGHT at
 * a time; the figure is STARTS over the time from the first call:start to the last ack.
 */
async function startsPerSecond(processes: number, redis: RedisServer, log: (line: string) => void): Promise<number> {
  const env = {
    DATABASE_URL: await benchDatabase(`cluster${processes}`),
    DATA_KEY: randomBytes(32).toString('hex'),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `bench${processes}:`,
    SIGNUPS_PER_ADDRESS_PER_HOUR: '1000000',
    BENCH_PROVIDER_LATENCY_MS: String(PROVIDER_MS),
  };
  const servers: BenchServer[] = [];
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < processes; i++) servers.push(await BenchServer.startWith(env));
    // The families are made through one process (what is measured is the starts).
    const t = {
      url: servers[0]!.url,
      adminToken: ADMIN_TOKEN,
      webhookSecret: WEBHOOK_SECRET,
      packs: { 'pack-10': 600, 'pack-30': 1800 },
    };
    const model = new Model(`bench${processes}`);
    const families: ClusterFamily[] = await pool(
      Array.from({ length: STARTS }, (_, i) => i),
      4,
      () => readyFamily(t, model, 'pack-10'),
    );
    const windows = await pool(families, 50, async (f, i) => {
      const socket = await socketTo(servers[i % processes]!.url, f.token);
      sockets.push(socket);
      return { socket, f };
    });
    log(`cluster: ${processes} process(es), ${STARTS} families ready`);
    const started = nowMs();
    const acks = await pool(windows, IN_FLIGHT, ({ socket, f }) =>
      ack<{ callId?: string; error?: { code: string } }>(socket, 'call:start', {
        profileId: f.profileId,
        sdp: BROWSER_OFFER,
      }),
    );
    const seconds = (nowMs() - started) / 1000;
    const refused = acks.filter((a) => !a.callId);
    if (refused.length)
      throw new Error(`${refused.length} call starts refused: ${JSON.stringify(refused[0]?.error ?? refused[0])}`);
    await pool(windows, IN_FLIGHT, ({ socket }, i) => ack(socket, 'call:end', { callId: acks[i]!.callId }));
    return STARTS / seconds;
  } finally {
    for (const s of sockets) s.disconnect();
    for (const s of servers) await s.stop();
  }
}

/**
 * Several processes (issue 14): how call starts scale from one process to two on one
 * PostgreSQL database and one Redis, in the same run, beside each other.
 */
export async function run(log: (line: string) => void): Promise<Row[]> {
  const redis = await startRedisServer();
  try {
    const one = await startsPerSecond(1, redis, log);
    log(`cluster: 1 process: ${one.toFixed(1)} call starts/s`);
    const two = await startsPerSecond(2, redis, log);
    log(`cluster: 2 processes: ${two.toFixed(1)} call starts/s`);
    const note = `${STARTS} starts, ${IN_FLIGHT} in flight, provider answers in ${PROVIDER_MS} ms; the bench client, PostgreSQL and Redis share the machine's cores with the servers`;
    return [
      info('cluster: call starts per second, 1 process', one, 'starts/s', note),
      info('cluster: call starts per second, 2 processes', two, 'starts/s', note),
      atLeast('cluster: call starts, 2 processes / 1 process', two / one, 'x', 1),
    ];
  } finally {
    await redis.close();
  }
}
