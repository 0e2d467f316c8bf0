import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/postgres.js';
import { ServerCluster } from './cluster.js';
import { testRedisUrl } from '../support/redis.js';

/**
 * The cluster harness itself: three real server processes on one PostgreSQL database and one
 * Redis, a balancer in front, and the kill -9 / SIGTERM / restart the cluster tests build on.
 */
let cluster: ServerCluster;

beforeAll(async () => {
  cluster = await ServerCluster.start({
    size: 3,
    databaseUrl: await freshDatabase('cluster'),
    redisUrl: testRedisUrl(),
  });
}, 120_000);
afterAll(async () => {
  await cluster?.close();
});

const json = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

function freshGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
}

describe('the cluster harness', () => {
  it('runs three processes on one PostgreSQL database: an account made on A signs in on B and C', async () => {
    for (const node of cluster.nodes) {
      const health = await json(`${node.url}/healthz`);
      expect(health.status, node.name).toBe(200);
      expect(health.body.store).toMatchObject({ kind: 'postgres', ok: true });
    }
    const email = `harness-${Date.now()}@example.test`;
    const password = 'correct horse battery staple';
    const signup = await json(`${cluster.node('A').url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, name: 'Harness Parent', locale: 'en' }),
    });
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    for (const name of ['B', 'C']) {
      const login = await json(`${cluster.node(name).url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      expect(login.status, name).toBe(200);
      const me = await json(`${cluster.node('A').url}/api/me`, {
        headers: { authorization: `Bearer ${String(login.body.token)}` },
      });
      expect(me.status, `a session made on ${name} works on A`).toBe(200);
    }
  });

  it('spreads connections over the processes, skips one killed with SIGKILL, and takes it back once restarted', async () => {
    // A new connection per request (no keep-alive): the balancer picks a process per connection.
    const hits = async (n: number) => {
      cluster.balancer.served.clear();
      for (let i = 0; i < n; i++) expect(await freshGet(`${cluster.url}/healthz`)).toBe(200);
      return new Map(cluster.balancer.served);
    };
    const all = await hits(6);
    expect([...all.keys()].sort()).toEqual(cluster.nodes.map((n) => n.port).sort());

    const b = cluster.node('B');
    await cluster.kill('B');
    await expect(fetch(`${b.url}/healthz`)).rejects.toThrow();
    const without = await hits(6);
    expect(without.has(b.port)).toBe(false);
    expect([...without.values()].reduce((s, v) => s + v, 0)).toBe(6);

    await cluster.restart('B');
    expect(b.process.starts).toBe(2);
    expect((await hits(6)).get(b.port)).toBeGreaterThan(0);
  });

  it('stops a process with SIGTERM, which exits 0, while the others keep answering', async () => {
    expect(await cluster.stop('C')).toBe(0);
    expect(cluster.running().map((n) => n.name)).toEqual(['A', 'B']);
    expect(await freshGet(`${cluster.url}/healthz`)).toBe(200);
    await cluster.restart('C');
    expect(cluster.running()).toHaveLength(3);
  });
});
