import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/core/logger.js';
import { holdProcessLock } from '../../server/store/pg/process-lock.js';
import { freshDatabase } from '../support/postgres.js';
import { redisEnv } from '../support/redis.js';
import { signUpParent, testServers } from '../support/server.js';

const servers = testServers();
const ROOT = new URL('../..', import.meta.url).pathname;
const silent = createLogger('silent');

async function database(): Promise<Record<string, string>> {
  return { DATABASE_URL: await freshDatabase('lock'), DATA_KEY: randomBytes(32).toString('hex') };
}

/** The real server (`tsx server/index.ts`) as an operator starts it: its exit code and stderr. */
function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', REDIS_URL: '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('one server on PostgreSQL without REDIS_URL holds the database alone', () => {
  it('a second server without REDIS_URL refuses to start, saying why; once the first stops, it starts', async () => {
    const db = await database();
    const first = await servers.start({ env: db });
    const parent = await signUpParent(first.api);

    const refused = await serve(db);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /Call Santa cannot start: Another Call Santa server already runs on this database: a server without REDIS_URL keeps its rate limits and socket rooms in its own memory, so it must be the only one/,
    );
    expect(refused.stderr).toContain('set REDIS_URL');
    // The refused start changed nothing: the first server still serves.
    expect((await first.api.get('/api/me', parent.token)).status).toBe(200);

    await first.stop();
    const second = await servers.start({ env: db });
    expect((await second.api.get('/api/me', parent.token)).status).toBe(200);
  });

  it('servers with REDIS_URL share the database with each other, never with one without it, whichever starts first', async () => {
    const db = await database();
    const shared = { ...db, ...redisEnv() };
    const a = await servers.start({ env: shared });
    const b = await servers.start({ env: shared });
    // A server without REDIS_URL would keep its own limits beside them: refused.
    await expect(holdProcessLock(db.DATABASE_URL!, 'alone', silent, { waitMs: 200 })).rejects.toThrow(
      /Another Call Santa server already runs on this database/,
    );
    await a.stop();
    await b.stop();
    // And the other way round: while one without REDIS_URL runs, none with it may start.
    const alone = await holdProcessLock(db.DATABASE_URL!, 'alone', silent);
    await expect(holdProcessLock(db.DATABASE_URL!, 'shared', silent, { waitMs: 200 })).rejects.toThrow(
      /A Call Santa server without REDIS_URL runs on this database and must be the only one there/,
    );
    await alone.release();
    const again = await holdProcessLock(db.DATABASE_URL!, 'shared', silent, { waitMs: 200 });
    await again.release();
  });
});
