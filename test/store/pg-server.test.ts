import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, parseConfig } from '../../server/config/config.js';
import { freshDatabase } from '../support/postgres.js';
import { signUpParent, testServers } from '../support/server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const servers = testServers();

describe('DATABASE_URL selects the PostgreSQL store', () => {
  it('lowdb stays the default; DATABASE_URL needs DATA_KEY and a postgres:// URL, and --help says so', () => {
    expect(parseConfig({}).databaseUrl).toBeUndefined();
    const key = randomBytes(32).toString('hex');
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/santa', DATA_KEY: key }).databaseUrl).toBe(
      'postgres://u:p@db:5432/santa',
    );
    expect(() => parseConfig({ DATABASE_URL: 'postgres://db/santa' })).toThrow(ConfigError);
    expect(() => parseConfig({ DATABASE_URL: 'postgres://db/santa' })).toThrow(
      /DATA_KEY: is required with DATABASE_URL/,
    );
    expect(() => parseConfig({ DATABASE_URL: 'mysql://db/santa', DATA_KEY: key })).toThrow(
      /Invalid DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
    expect(helpText()).toMatch(
      /DATABASE_URL\s+postgres:\/\/user:password@host:port\/database: keep the data in PostgreSQL/,
    );
    // A secret: its value (a password) is never shown as a default.
    expect(helpText()).not.toMatch(/DATABASE_URL.*default:/);
  });

  it('a server on PostgreSQL answers /healthz with the store kind, and keeps a family across a restart', async () => {
    const url = await freshDatabase('server');
    const server = await servers.start({ env: { DATABASE_URL: url, DATA_KEY: randomBytes(32).toString('hex') } });
    const health = await server.api.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, store: { kind: 'postgres', ok: true } });
    // A write in flight at this instant (the start-up jobs run beside it) is counted, not an error.
    expect(health.body.store.pendingWrites).toBeGreaterThanOrEqual(0);
    const parent = await signUpParent(server.api);
    const again = servers.track(await server.restart());
    expect((await again.api.get('/api/me', parent.token)).body.email).toBe(parent.email);
  });

  it('the server refuses to start on a database it cannot reach, saying where, without the password', () => {
    const r = spawnSync('npx', ['tsx', 'server/index.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        DATABASE_URL: 'postgres://santa:hunter2-secret@127.0.0.1:1/santa',
        DATA_KEY: randomBytes(32).toString('hex'),
        PORT: '0',
        LOG_LEVEL: 'silent',
      },
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/Call Santa cannot start: Cannot connect to PostgreSQL at 127\.0\.0\.1:1\/santa/);
    expect(r.stderr).not.toContain('hunter2-secret');
  });
});
