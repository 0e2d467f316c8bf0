import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/config/config.js';
import { signUpParent, testServers } from '../support/server.js';
import { RawClient } from '../fuzz/client.js';

/**
 * Forwarded headers are a proxy's word about the client. Only the proxies the operator names
 * in TRUST_PROXY may give it; from anyone else X-Forwarded-For and -Proto change nothing, so a
 * client cannot pick a new address per request (resetting every per-address limit) or a
 * scheme (`javascript:`) for the URLs the server builds.
 */
const servers = testServers();

async function resetRequests(
  url: string,
  n: number,
  headers: (i: number) => Record<string, string>,
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/api/auth/password-reset/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers(i) },
      body: JSON.stringify({ email: `nobody${i}@example.test` }),
    });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

describe('TRUST_PROXY', () => {
  it('a spoofed X-Forwarded-For from an address that is not a named proxy changes no per-address limit', async () => {
    const server = await servers.start();
    // 20 requests per address in 15 minutes; each claims to come from somewhere else.
    const statuses = await resetRequests(server.url, 21, (i) => ({ 'x-forwarded-for': `203.0.113.${i + 1}` }));
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(202));
    expect(statuses[20]).toBe(429);
  });

  it('from a named proxy, X-Forwarded-For is the client: each client has its own limit', async () => {
    const server = await servers.start({ env: { TRUST_PROXY: 'loopback' } });
    const statuses = await resetRequests(server.url, 25, (i) => ({ 'x-forwarded-for': `203.0.113.${i + 1}` }));
    expect(statuses).toEqual(Array(25).fill(202));
    // One client behind the proxy still meets its limit.
    const one = await resetRequests(server.url, 21, () => ({ 'x-forwarded-for': '198.51.100.7' }));
    expect(one[20]).toBe(429);
  });

  it('checkout URLs are http or https only: X-Forwarded-Proto cannot make them javascript:, and a junk Host cannot name another site', async () => {
    for (const env of [{}, { TRUST_PROXY: '1' }] as Record<string, string>[]) {
      const server = await servers.start({ env });
      const parent = await signUpParent(server.api);
      for (const proto of ['javascript', 'data', 'https:evil', 'ftp']) {
        const res = await server.api.request('POST', '/api/credits/checkout', {
          token: parent.token,
          body: { packId: 'pack-10' },
          headers: { 'x-forwarded-proto': proto },
        });
        expect(res.status).toBe(200);
        expect(String(res.body.url), `${JSON.stringify(env)} ${proto}`).toMatch(
          new RegExp(`^${server.url}/dev/checkout/`),
        );
      }
    }
    const trusted = await servers.start({ env: { TRUST_PROXY: '1' } });
    const parent = await signUpParent(trusted.api);
    const https = await trusted.api.request('POST', '/api/credits/checkout', {
      token: parent.token,
      body: { packId: 'pack-10' },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(https.body.url)).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dev\/checkout\//);
    // A Host that is not a host (Node's fetch cannot send one; a raw client can).
    const raw = RawClient.fromUrl(trusted.url);
    try {
      for (const host of ['evil.example/x?', 'javascript:alert(1)', 'a b', '"quoted"']) {
        const res = await raw.send(
          'POST',
          '/api/credits/checkout',
          { host, authorization: `Bearer ${parent.token}`, 'content-type': 'application/json' },
          JSON.stringify({ packId: 'pack-10' }),
        );
        expect(res.status, host).toBe(200);
        expect((JSON.parse(res.text) as { url: string }).url, host).toMatch(/^http:\/\/localhost\/dev\/checkout\//);
      }
    } finally {
      raw.close();
    }
    const untrusted = await servers.start();
    const p2 = await signUpParent(untrusted.api);
    const ignored = await untrusted.api.request('POST', '/api/credits/checkout', {
      token: p2.token,
      body: { packId: 'pack-10' },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(ignored.body.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev\/checkout\//);
  });

  it('PUBLIC_URL, when set, is the base of every URL the server builds, whatever the request says', async () => {
    const server = await servers.start({ env: { PUBLIC_URL: 'https://santa.example.test', TRUST_PROXY: 'loopback' } });
    const parent = await signUpParent(server.api);
    const res = await server.api.request('POST', '/api/credits/checkout', {
      token: parent.token,
      body: { packId: 'pack-10' },
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' },
    });
    expect(String(res.body.url)).toMatch(/^https:\/\/santa\.example\.test\/dev\/checkout\//);
  });

  it('accepts hop counts, addresses, subnets and proxy-addr names; refuses `true` and junk', () => {
    expect(parseConfig({}).trustProxy).toBe(false);
    expect(parseConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(parseConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8, 192.0.2.1' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.0.2.1',
    ]);
    for (const bad of ['true', '*', '0', '11', '10.0.0.0/33', 'proxy.example', '10.0.0.1/8/1'])
      expect(() => parseConfig({ TRUST_PROXY: bad }), bad).toThrow(/Invalid TRUST_PROXY/);
  });
});
