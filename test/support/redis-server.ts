import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** How to get Redis where it is missing: the project's own setup script. */
export const REDIS_INSTALL_HINT =
  'redis-server was not found (looked at $REDIS_SERVER and /usr/bin/redis-server). ' +
  'Install it with `node scripts/setup-services.mjs` (Debian: apt-get install redis-server), or point REDIS_SERVER at the binary.';

/** The redis-server binary: $REDIS_SERVER, else Debian's, else null. */
export function findRedisServer(): string | null {
  const fromEnv = process.env.REDIS_SERVER;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null;
}

/** One PING over a raw connection: true once the server answers +PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    sock.once('connect', () => sock.write('PING\r\n'));
  });
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Whether the server process is running now. */
  readonly running: boolean;
  /** Stop the server (its data is gone: nothing is persisted); the port stays this server's to start on again. */
  stop(): Promise<void>;
  /** Start it again on the same port (after stop()); resolves once it answers PING. */
  start(): Promise<void>;
  /** Stop and remove its folder. */
  close(): Promise<void>;
}

/**
 * A throwaway redis-server on a free loopback port, in a temp dir, with no persistence (no RDB
 * snapshot, no AOF): what it holds dies with it, like a Redis that blinks in production. Tests
 * that stop and start Redis (the blink test) start their own; the rest share the run's one
 * (test/support/redis-global-setup.ts). A machine without redis-server fails with how to install it.
 */
export async function startRedisServer(): Promise<RedisServer> {
  const bin = findRedisServer();
  if (!bin) throw new Error(REDIS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'callsanta-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const start = async (): Promise<void> => {
    if (child) return;
    output = '';
    const proc = spawn(
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--protected-mode',
        'yes',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        '--databases',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        if (child === proc) child = null;
        resolve();
      }),
    );
    const deadline = Date.now() + 10_000;
    while (!(await pings(port))) {
      if (child !== proc) throw new Error(`redis-server exited at start: ${output.trim()}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 10 s: ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== null;
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
