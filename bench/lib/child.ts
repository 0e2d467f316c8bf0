import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildStats } from './server-child.js';
import { copySeed, type Seeded } from './seed.js';

/** The server child: its URL, and its own memory and CPU, read inside it. */
export class BenchServer {
  private nextId = 1;
  private readonly waiting = new Map<number, (s: ChildStats) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (msg: { type: string; id: number; stats: ChildStats }) => {
      if (msg.type !== 'reply') return;
      this.waiting.get(msg.id)?.(msg.stats);
      this.waiting.delete(msg.id);
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /**
   * Start on a copy of the seeded data (benchmarks write; the seed stays clean for the next one),
   * and return once its start-up retention sweep is over.
   */
  static async start(seed: Seeded, env: Record<string, string> = {}): Promise<BenchServer> {
    return BenchServer.startWith({ DATA_DIR: copySeed(seed), DATA_KEY: seed.dataKey, ...env });
  }

  /** Start with this environment alone (e.g. DATABASE_URL, DATA_KEY and REDIS_URL: one of several processes on one database). */
  static async startWith(env: Record<string, string>): Promise<BenchServer> {
    const child = fork(join(import.meta.dirname, 'server-child.ts'), [], {
      // BENCH_CHILD_NODE_ARGS (e.g. "--trace-gc"): extra Node flags for the server child, for finding where a figure goes.
      execArgv: [
        '--import',
        'tsx',
        '--expose-gc',
        ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
        STRIPE_WEBHOOK_SECRET: 'whsec_bench',
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
      child.on('message', (msg: { type: string; port?: number }) => {
        if (msg.type === 'ready' && msg.port) resolve(msg.port);
      });
    });
    child.removeAllListeners('exit');
    const server = new BenchServer(child, `http://127.0.0.1:${port}`);
    await server.ask('settle');
    return server;
  }

  private ask(type: 'stats' | 'gc' | 'settle'): Promise<ChildStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ type, id });
    });
  }

  stats(): Promise<ChildStats> {
    return this.ask('stats');
  }

  /** Full GC in the child, then its stats. */
  gcStats(): Promise<ChildStats> {
    return this.ask('gc');
  }

  /** SIGKILL: for a run whose data is thrown away, without ending what is live one by one. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'stop', id: 0 });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}
