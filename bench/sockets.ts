import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { atMost, info, type Row } from './lib/report.js';
import { sharedSeed } from './lib/seed.js';
import { BenchServer } from './lib/child.js';
import { BROWSER_OFFER } from '../test/fakes/realtime-provider.js';
import { nowMs, pool, sleep } from './lib/stats.js';
import { openClients } from './broker.js';

export const name = 'sockets';

const IDLE = Number(process.env.BENCH_SOCKETS ?? 10_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const CPU_WINDOW_MS = Number(process.env.BENCH_CPU_WINDOW_MS ?? 30_000);
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_MS ?? 15_000);

function ack<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    socket.timeout(60_000).emit(event, payload, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * One server process (a child, so its memory and CPU are its own) with 10,000 signed-in
 * families, measured once its start-up sweep is over: each family opens one authenticated
 * socket and stays idle; then 1,000 of them start a call (fake provider) and the server
 * meters all of them (1 Hz ticks to each account, checkpoints to the store) while its CPU
 * time is read, beside a bare socket.io server ticking as many sockets in the same window.
 */
export async function run(log: (line: string) => void): Promise<Row[]> {
  const seed = await sharedSeed(Math.max(IDLE, Number(process.env.BENCH_FAMILIES ?? 10_000)));
  log('sockets: seeded');
  // BENCH_CHECKPOINT_SECONDS: what the metering costs without the store's share (for PERFORMANCE.md).
  const server = await BenchServer.start(
    seed,
    process.env.BENCH_CHECKPOINT_SECONDS ? { CALL_CHECKPOINT_SECONDS: process.env.BENCH_CHECKPOINT_SECONDS } : {},
  );
  log('sockets: server up');
  const rows: Row[] = [];
  let clients: Awaited<ReturnType<typeof openClients>> = [];
  let floor: TickFloor | null = null;
  try {
    await sleep(500);
    const before = await server.gcStats();
    const t = nowMs();
    clients = await openClients(server.url, seed.families.slice(0, IDLE), 200);
    const connectSeconds = (nowMs() - t) / 1000;
    await sleep(2000);
    const after = await server.gcStats();
    if (after.sockets !== IDLE) throw new Error(`server holds ${after.sockets} sockets, expected ${IDLE}`);
    const perSocketKB = (after.rss - before.rss) / IDLE / 1024;
    const heapKB = (after.heapUsed + after.external - before.heapUsed - before.external) / IDLE / 1024;
    log(
      `sockets: ${IDLE} connected in ${connectSeconds.toFixed(1)} s; rss ${(before.rss / 2 ** 20).toFixed(0)} -> ${(after.rss / 2 ** 20).toFixed(0)} MiB`,
    );
    rows.push(
      atMost(
        `sockets: memory per idle authenticated socket (${IDLE}, server RSS)`,
        perSocketKB,
        'KB',
        20,
        `JS heap + external per socket ${heapKB.toFixed(1)} KB; server RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB with ${IDLE} sockets`,
      ),
    );
    rows.push(info(`sockets: connect rate (${IDLE} authenticated, 200 in flight)`, IDLE / connectSeconds, 'sockets/s'));
    // What 10,000 idle sockets cost by themselves (socket.io heartbeats): the floor under the call figure.
    const i0 = await server.stats();
    await sleep(IDLE_WINDOW_MS);
    const i1 = await server.stats();
    const idleCpu = (i1.userMicros + i1.systemMicros - i0.userMicros - i0.systemMicros) / 1000 / (i1.at - i0.at);
    rows.push(
      info(
        `sockets: server CPU with ${IDLE} idle sockets, no calls`,
        idleCpu * 100,
        '% of a core',
        `${(IDLE_WINDOW_MS / 1000).toFixed(0)} s window; heartbeats every 10 s per socket`,
      ),
    );

    // 1,000 metered calls, on their own: the other sockets leave first, so the figure is the
    // calls' cost (the idle sockets' own cost is the row above).
    const callers = clients.slice(0, CALLS);
    for (const cl of clients.slice(CALLS)) cl.socket.close();
    for (let i = 0; i < 100 && (await server.stats()).sockets > CALLS; i++) await sleep(100);
    const startedAt = nowMs();
    await pool(callers, 50, async (cl) => {
      const res = await ack<{ callId?: string; error?: unknown }>(cl.socket, 'call:start', {
        profileId: cl.family.profileIds[0],
        sdp: BROWSER_OFFER,
      });
      if (!res.callId) throw new Error(`call:start refused: ${JSON.stringify(res)}`);
    });
    log(`sockets: ${CALLS} calls started in ${((nowMs() - startedAt) / 1000).toFixed(1)} s`);
    let ticks = 0;
    for (const cl of callers) cl.socket.on('call:tick', () => ticks++);
    // The floor beside it, over the same window: a bare socket.io server ticking as many sockets.
    // Both see the same machine, so their ratio holds where the machine's noise moves both.
    log(`sockets: the bare socket.io floor with ${CALLS} sockets, side by side`);
    floor = await TickFloor.start(CALLS);
    await sleep(3000); // past the first checkpoints
    const a = await server.stats();
    const fa = await floor.stats();
    const ticks0 = ticks;
    await sleep(CPU_WINDOW_MS);
    const b = await server.stats();
    const fb = await floor.stats();
    const cpu = (b.userMicros + b.systemMicros - a.userMicros - a.systemMicros) / 1000 / (b.at - a.at);
    const floorCpu = (fb.cpuMicros - fa.cpuMicros) / 1000 / (fb.at - fa.at);
    const tickRate = (ticks - ticks0) / ((b.at - a.at) / 1000);
    const floorRate = (floor.ticks - fa.ticks) / ((fb.at - fa.at) / 1000);
    if (b.liveCalls !== CALLS) throw new Error(`only ${b.liveCalls} calls live at the end of the window`);
    rows.push(
      atMost(
        `sockets: server CPU with ${CALLS} metered calls (1 Hz ticks, checkpoints)`,
        cpu * 100,
        '% of a core',
        10,
        `${tickRate.toFixed(0)} ticks/s delivered; ${CALLS} sockets connected; ${(CPU_WINDOW_MS / 1000).toFixed(0)} s window; checkpoints every ${process.env.BENCH_CHECKPOINT_SECONDS ?? 5} s`,
      ),
    );
    rows.push(
      info(
        `sockets: bare socket.io server, ${CALLS} sockets, 1 Hz ticks only (the floor, same window)`,
        floorCpu * 100,
        '% of a core',
        `${floorRate.toFixed(0)} ticks/s delivered; no store, auth or metering`,
      ),
    );
    rows.push(
      info(
        `sockets: metered calls' CPU as a ratio to the bare socket.io floor (same window)`,
        cpu / floorCpu,
        'x',
        'what metering, checkpoints and authentication add over socket.io itself; see docs/PERFORMANCE.md',
      ),
    );
    return rows;
  } finally {
    floor?.close();
    // The run's data is a throw-away copy: kill rather than end 1,000 calls one by one.
    await server.kill();
    for (const cl of clients) cl.socket.close();
  }
}

/** A bare socket.io server emitting 1 Hz ticks to `count` sockets (bench/lib/tick-floor-server.ts), and its clients. */
class TickFloor {
  ticks = 0;
  private readonly sockets: Socket[] = [];

  private constructor(private readonly child: ChildProcess) {}

  static async start(count: number): Promise<TickFloor> {
    const child = fork(join(import.meta.dirname, 'lib', 'tick-floor-server.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const floor = new TickFloor(child);
    try {
      const port = await new Promise<number>((resolve) =>
        child.once('message', (m: { port: number }) => resolve(m.port)),
      );
      for (let i = 0; i < count; i++) {
        const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
        socket.on('call:tick', () => floor.ticks++);
        floor.sockets.push(socket);
        if (i % 100 === 99) await sleep(50);
      }
      await sleep(2000);
      return floor;
    } catch (err) {
      floor.close();
      throw err;
    }
  }

  stats(): Promise<{ cpuMicros: number; at: number; ticks: number }> {
    return new Promise((resolve) => {
      this.child.once('message', (m: { cpuMicros: number; at: number }) => resolve({ ...m, ticks: this.ticks }));
      this.child.send({ type: 'stats' });
    });
  }

  close(): void {
    for (const s of this.sockets) s.close();
    this.child.kill('SIGKILL');
  }
}
