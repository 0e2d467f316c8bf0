import { io as connect, type Socket } from 'socket.io-client';
import { atMost, info, type Row } from './lib/report.js';
import { sharedSeed, type SeededFamily } from './lib/seed.js';
import { BenchServer } from './lib/child.js';
import { BROWSER_OFFER } from '../test/fakes/realtime-provider.js';
import { nowMs, percentile, pool, sleep } from './lib/stats.js';
import { benchCluster, copySeedIntoPostgres, nextTransactionId, postgresCpuMicros } from './lib/pg.js';

export const name = 'broker';

/** Sockets (one family each); more than the widest round, so the per-socket event limit never bites. */
const SOCKETS = 300;
const PROVIDER_MS = 300;
/**
 * The broker's figures are about the server's work around the provider; they run on a
 * 1,000-family store so the whole bench stays within its time budget while the store's own
 * cost at 10,000 families is measured by the store and sockets benchmarks.
 */
const BROKER_FAMILIES = Number(process.env.BENCH_BROKER_FAMILIES ?? 1000);
/** BENCH_POSTGRES=0 leaves out the PostgreSQL rows. */
const POSTGRES = process.env.BENCH_POSTGRES !== '0';

interface Client {
  socket: Socket;
  family: SeededFamily;
  /** When this socket may send again without touching its event budget (2/s, burst 10). */
  readyAt: number;
}

export async function openClients(url: string, families: SeededFamily[], concurrency = 100): Promise<Client[]> {
  return pool(families, concurrency, async (family) => {
    const socket = connect(url, {
      auth: { token: family.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 20_000,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(e));
    });
    return { socket, family, readyAt: 0 };
  });
}

function ack<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    socket.timeout(30_000).emit(event, payload, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * `c` concurrent call:starts, ack latency each, then every call ended; repeated until
 * `samples` are in. Each client is used at most once per round and rounds are paced so no
 * socket exceeds its event budget (a rate_limited ack would be a bench bug, so it throws).
 */
async function measure(clients: Client[], c: number, samples: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  while (out.length < samples) {
    const round: Client[] = [];
    for (let i = 0; i < c; i++) round.push(clients[next++ % clients.length] as Client);
    const wait = Math.max(0, ...round.map((r) => r.readyAt)) - Date.now();
    if (wait > 0) await sleep(wait);
    const started = await Promise.all(
      round.map(async (cl) => {
        const t = nowMs();
        const res = await ack<{ callId?: string; error?: { code: string } }>(cl.socket, 'call:start', {
          profileId: cl.family.profileIds[0],
          sdp: BROWSER_OFFER,
        });
        const ms = nowMs() - t;
        if (!res.callId) throw new Error(`call:start refused: ${JSON.stringify(res)}`);
        return { cl, ms, callId: res.callId };
      }),
    );
    for (const s of started) out.push(s.ms);
    await Promise.all(
      started.map(async (s) => {
        const res = await ack<{ ok?: boolean }>(s.cl.socket, 'call:end', { callId: s.callId });
        if (res.ok !== true) throw new Error(`call:end refused: ${JSON.stringify(res)}`);
        s.cl.readyAt = Date.now() + 1100; // two events spent: one second of budget
      }),
    );
  }
  return out;
}

interface StoreUnderTest {
  label: string;
  env: Record<string, string>;
  /** CPU (µs) spent outside the server child on the server's behalf: PostgreSQL's processes. */
  extraCpuMicros?: () => number;
  /** A counter of the database's write transactions. */
  writeTransactions?: () => Promise<number>;
}

async function run1(
  latencyMs: number,
  log: (l: string) => void,
  plan: readonly (readonly [number, number])[],
  store: StoreUnderTest = { label: 'lowdb', env: {} },
) {
  const seed = await sharedSeed(BROKER_FAMILIES);
  const server = await BenchServer.start(seed, { BENCH_PROVIDER_LATENCY_MS: String(latencyMs), ...store.env });
  const clients = await openClients(server.url, seed.families.slice(0, SOCKETS));
  try {
    // Warm-up: JIT, first writes of each shard.
    await measure(clients, 50, 100);
    const result: Record<number, number[]> = {};
    let cpuPerCall = Number.NaN;
    let extraCpuPerCall = Number.NaN;
    let writesPerCall = Number.NaN;
    for (const [c, n] of plan) {
      const xa = (await store.writeTransactions?.()) ?? 0;
      const a = await server.stats();
      const ea = store.extraCpuMicros?.() ?? 0;
      result[c] = await measure(clients, c, n);
      const b = await server.stats();
      const eb = store.extraCpuMicros?.() ?? 0;
      const xb = (await store.writeTransactions?.()) ?? 0;
      if (c === 100) {
        cpuPerCall = (b.userMicros + b.systemMicros - a.userMicros - a.systemMicros) / 1000 / (result[c]?.length ?? 1);
        extraCpuPerCall = (eb - ea) / 1000 / (result[c]?.length ?? 1);
        writesPerCall = (xb - xa - 1) / (result[c]?.length ?? 1);
      }
      log(
        `broker (${store.label}, ${latencyMs} ms provider): ${c} concurrent: p50 ${percentile(result[c] ?? [], 50).toFixed(2)} ms, p99 ${percentile(result[c] ?? [], 99).toFixed(2)} ms`,
      );
    }
    return { result, cpuPerCall, extraCpuPerCall, writesPerCall };
  } finally {
    for (const cl of clients) cl.socket.close();
    await server.stop();
  }
}

/**
 * call:start -> ack through the real server (sockets, auth, consent and credit checks, the
 * hold, the call record flushed to disk, the session) against a provider that answers at
 * once, at 1, 10 and 100 concurrent starts; then the same against a 300 ms provider, as the
 * ratio of what the parent waits to what the provider took.
 */
export async function run(log: (line: string) => void): Promise<Row[]> {
  const { result: zero, cpuPerCall } = await run1(0, log, [
    [1, 300],
    [10, 500],
    [100, 1000],
  ]);
  // Against a 300 ms provider every sample costs 300 ms: fewer of them, same widths.
  const { result: slow } = await run1(PROVIDER_MS, log, [
    [1, 40],
    [100, 500],
  ]);
  const rows: Row[] = [];
  for (const c of [1, 10, 100]) {
    const xs = zero[c] ?? [];
    rows.push(
      info(
        `broker call:start->ack p50, ${c} concurrent, 0 ms provider`,
        percentile(xs, 50),
        'ms',
        `${xs.length} calls; ${BROKER_FAMILIES}-family store`,
      ),
    );
    if (c === 100)
      rows.push(atMost(`broker call:start->ack p99, ${c} concurrent, 0 ms provider`, percentile(xs, 99), 'ms', 10));
    else rows.push(info(`broker call:start->ack p99, ${c} concurrent, 0 ms provider`, percentile(xs, 99), 'ms'));
  }
  rows.push(
    info(
      'broker server CPU per call (start + end), 100 concurrent',
      cpuPerCall,
      'ms',
      "the server child's user+system time over the 100-concurrent rounds, per call",
    ),
  );
  const s100 = slow[100] ?? [];
  rows.push(
    info(
      'broker ratio p50 / provider, 100 concurrent, 300 ms provider',
      percentile(s100, 50) / PROVIDER_MS,
      'ratio',
      `p50 ${percentile(s100, 50).toFixed(1)} ms`,
    ),
  );
  rows.push(
    atMost(
      'broker ratio p99 / provider, 100 concurrent, 300 ms provider',
      percentile(s100, 99) / PROVIDER_MS,
      'ratio',
      1.02,
      `p99 ${percentile(s100, 99).toFixed(1)} ms; 1 concurrent p50 ${percentile(slow[1] ?? [], 50).toFixed(1)} ms`,
    ),
  );
  if (POSTGRES) rows.push(...(await onPostgres(log)));
  return rows;
}

/**
 * The same rounds against the same season moved onto PostgreSQL (the copy command's function,
 * a database of its own in the bench cluster): the server child runs with DATABASE_URL.
 */
async function onPostgres(log: (line: string) => void): Promise<Row[]> {
  const seed = await sharedSeed(BROKER_FAMILIES);
  const cluster = await benchCluster();
  const { url } = await copySeedIntoPostgres(seed, 'bench_broker');
  log(`broker (PostgreSQL): ${BROKER_FAMILIES}-family season copied into its database`);
  const { result, cpuPerCall, extraCpuPerCall, writesPerCall } = await run1(
    0,
    log,
    [
      [1, 300],
      [100, 1000],
    ],
    {
      label: 'PostgreSQL',
      env: { DATABASE_URL: url, DATA_KEY: seed.dataKey },
      extraCpuMicros: () => postgresCpuMicros(cluster),
      writeTransactions: () => nextTransactionId(cluster),
    },
  );
  const rows: Row[] = [];
  for (const c of [1, 100]) {
    const xs = result[c] ?? [];
    rows.push(
      info(
        `broker call:start->ack p50, ${c} concurrent, 0 ms provider, PostgreSQL`,
        percentile(xs, 50),
        'ms',
        `${xs.length} calls; ${BROKER_FAMILIES}-family store copied onto PostgreSQL`,
      ),
    );
    if (c === 100)
      rows.push(
        atMost(`broker call:start->ack p99, ${c} concurrent, 0 ms provider, PostgreSQL`, percentile(xs, 99), 'ms', 10),
      );
    else
      rows.push(
        info(`broker call:start->ack p99, ${c} concurrent, 0 ms provider, PostgreSQL`, percentile(xs, 99), 'ms'),
      );
  }
  rows.push(
    info(
      'broker server CPU per call (start + end), 100 concurrent, PostgreSQL: server process',
      cpuPerCall,
      'ms',
      "the server child's user+system time over the 100-concurrent rounds, per call",
    ),
  );
  rows.push(
    info(
      'broker PostgreSQL write transactions per call (start + end), 100 concurrent',
      writesPerCall,
      'commits',
      'transaction ids handed out over the 100-concurrent rounds, per call: each is a commit that waits for its WAL flush',
    ),
  );
  rows.push(
    info(
      'broker server CPU per call (start + end), 100 concurrent, PostgreSQL: database processes',
      extraCpuPerCall,
      'ms',
      "the bench cluster's postmaster and backends (/proc utime+stime) over the same rounds, per call",
    ),
  );
  return rows;
}
