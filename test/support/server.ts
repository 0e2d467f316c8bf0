/* eslint-disable @typescript-eslint/no-explicit-any -- test client: bodies are checked by each assertion */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../server/config/config.js';
import { FakeClock } from '../../server/core/clock.js';
import { createLogger } from '../../server/core/logger.js';
import { createApp, type App, type AppOptions } from '../../server/app.js';
import { Writable } from 'node:stream';
import { afterEach } from 'vitest';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestServer {
  url: string;
  app: App;
  clock: FakeClock;
  dataDir: string;
  config: Config;
  /** Every log line the server wrote, for checks that nothing secret was logged. */
  logs: string[];
  api: ApiClient;
  /** Stop the server (flushing the store); the data dir stays for a restart. */
  stop(): Promise<void>;
  /** Stop and start again on the same data dir and clock. */
  restart(env?: Record<string, string>): Promise<TestServer>;
  /** Stop and remove the data dir. */
  close(): Promise<void>;
}

export function tempDataDir(prefix = 'callsanta-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * startTestServer for one test file: every server it starts (and every restart handed to
 * `track`) is closed, newest first, after each test, also when the test failed half-way.
 */
export function testServers() {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0).reverse()) await s.close();
  });
  const track = (s: TestServer): TestServer => {
    servers.push(s);
    return s;
  };
  return {
    start: async (opts?: Parameters<typeof startTestServer>[0]): Promise<TestServer> =>
      track(await startTestServer(opts)),
    track,
  };
}

/** STORE=postgres runs the servers of a test run on PostgreSQL (a fresh database each); otherwise on lowdb. */
export const TEST_STORE: 'lowdb' | 'postgres' = process.env.STORE === 'postgres' ? 'postgres' : 'lowdb';

/** With STORE=postgres: a new database in the run's cluster and a data key for it, as server environment. */
async function postgresEnv(): Promise<Record<string, string>> {
  const { freshDatabase } = await import('./postgres.js');
  return { DATABASE_URL: await freshDatabase('server'), DATA_KEY: randomBytes(32).toString('hex') };
}

/**
 * A real server on an ephemeral loopback port, with a real store and a fake clock: lowdb in a
 * temp dir, or with STORE=postgres a fresh PostgreSQL database (a restart keeps it).
 */
export async function startTestServer(
  opts: {
    env?: Record<string, string>;
    dataDir?: string;
    clock?: FakeClock;
    app?: Partial<AppOptions>;
    port?: number;
    /**
     * 'lowdb': on lowdb whatever STORE says, for a test of lowdb's own files under DATA_DIR
     * (PostgreSQL's bytes at rest have their own tests, test/store/pg-at-rest.test.ts).
     */
    store?: 'lowdb';
  } = {},
): Promise<TestServer> {
  if (TEST_STORE === 'postgres' && opts.store !== 'lowdb' && !opts.env?.DATABASE_URL && !opts.app?.store) {
    const pgEnv = await postgresEnv();
    return startTestServer({ ...opts, env: { ...pgEnv, ...opts.env, DATABASE_URL: pgEnv.DATABASE_URL! } });
  }
  const dataDir = opts.dataDir ?? tempDataDir();
  const clock = opts.clock ?? new FakeClock();
  // Every test client signs up from 127.0.0.1, so sign-ups per address are not limited here
  // unless a test sets SIGNUPS_PER_ADDRESS_PER_HOUR itself (the limit's own tests do).
  const config = parseConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SIGNUPS_PER_ADDRESS_PER_HOUR: '1000000',
    ...opts.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const app = await createApp({ config, clock, logger, ...opts.app });
  const address = await app.listen(opts.port ?? 0, '127.0.0.1');
  const url = `http://127.0.0.1:${address.port}`;
  let stopping: Promise<void> | null = null;
  const server: TestServer = {
    url,
    app,
    clock,
    dataDir,
    config,
    logs,
    api: new ApiClient(url),
    stop() {
      // A second stop while the first runs waits for it: a restart must not start on a store still closing.
      stopping ??= app.close();
      return stopping;
    },
    async restart(env) {
      await server.stop();
      return startTestServer({ env: { ...opts.env, ...env }, dataDir, clock, app: opts.app, store: opts.store });
    },
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** Real HTTP, as a client would speak it. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body: body as BodyInit | undefined });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string, token?: string) {
    return this.request<T>('GET', path, { token });
  }
  post<T = any>(path: string, body?: unknown, token?: string) {
    return this.request<T>('POST', path, { body, token });
  }
  patch<T = any>(path: string, body?: unknown, token?: string) {
    return this.request<T>('PATCH', path, { body, token });
  }
  delete<T = any>(path: string, body?: unknown, token?: string) {
    return this.request<T>('DELETE', path, { body, token });
  }
}

let counter = 0;
/** A parent with an account and, by default, consent given. */
export async function signUpParent(
  api: ApiClient,
  opts: { consent?: boolean; locale?: 'en' | 'da' | 'sv'; email?: string; password?: string; name?: string } = {},
): Promise<{ token: string; accountId: string; email: string; password: string }> {
  counter++;
  const email = opts.email ?? `parent${counter}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const password = opts.password ?? 'correct horse battery staple';
  const res = await api.post('/api/auth/signup', {
    email,
    password,
    name: opts.name ?? `Parent ${counter}`,
    locale: opts.locale ?? 'en',
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  const token = res.body.token as string;
  if (opts.consent !== false) {
    const policy = await api.get('/api/policy');
    const c = await api.post('/api/consent', { policyVersion: policy.body.version }, token);
    if (c.status !== 201) throw new Error(`consent failed: ${c.status} ${JSON.stringify(c.body)}`);
  }
  return { token, accountId: res.body.account.id as string, email, password };
}
