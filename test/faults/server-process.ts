import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A free loopback port, chosen once and kept across restarts. */
export { freePort } from '../support/free-port.js';

/**
 * The real server, as production runs it (`node --import tsx server/index.ts`), in its own
 * process so it can be killed with SIGKILL: no shutdown hook, no last flush.
 */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;
  /** The newest output, for a failure message. */
  private tail: string[] = [];
  readonly url: string;
  starts = 0;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  output(): string {
    return this.tail.join('');
  }

  /**
   * Starts the server and resolves once /healthz answers. `nice`: start it under `nice -n`
   * (every thread it makes inherits it), so a process booting beside a measurement (the bench's
   * takeover row) takes only the CPU nobody else wants; `renice` gives it back its share.
   */
  async start(timeoutMs = 60_000, options: { nice?: number } = {}): Promise<void> {
    if (this.child) throw new Error('server already running');
    this.tail = [];
    const node = [process.execPath, '--import', 'tsx', 'server/index.ts'];
    const [command, ...args] = options.nice === undefined ? node : ['nice', '-n', String(options.nice), ...node];
    const child = spawn(command!, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        LOG_LEVEL: 'warn',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    const keep = (b: Buffer) => {
      this.tail.push(b.toString());
      if (this.tail.length > 40) this.tail.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((c) => (exitCode = c));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`server exited with ${exitCode} at start:\n${this.output()}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server did not become healthy in ${timeoutMs} ms:\n${this.output()}`);
  }

  /**
   * Every thread of the running process to this nice value (Linux: the nice value is per
   * thread). Lowering it back needs root or CAP_SYS_NICE: throws EACCES otherwise.
   */
  renice(nice: number): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        setPriority(Number(tid), nice);
      } catch (err) {
        // A thread that ended since the listing; anything else (EACCES) is the caller's to know.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  }

  /** SIGKILL: the process gets no chance to flush or close anything. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** A graceful stop (SIGTERM), as an operator would do it. */
  async stop(): Promise<number | null> {
    if (!this.child) return null;
    this.child.kill('SIGTERM');
    const code = await this.exited;
    this.child = null;
    return code;
  }
}
