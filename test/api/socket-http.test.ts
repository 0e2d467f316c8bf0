import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiErrorSchema } from '../../shared/errors.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * socket.io's HTTP long-polling answers, as a client sees them over real HTTP: engine.io
 * writes them itself, outside Express, so they need their own proof of the REST contract.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** What helmet sets on every REST answer (test/api/http-contract.test.ts checks some on /healthz). */
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

const poll = (query: string, init?: RequestInit) => fetch(`${server.url}/socket.io/?${query}`, init);

async function handshake(): Promise<string> {
  const res = await poll('EIO=4&transport=polling');
  expect(res.status).toBe(200);
  const text = await res.text();
  return (JSON.parse(text.slice(1)) as { sid: string }).sid;
}

async function expectRestHeaders(res: Response, what: string) {
  const rest = await fetch(`${server.url}/healthz`);
  for (const name of SECURITY_HEADERS) {
    expect(rest.headers.get(name), `REST ${name}`).toBeTruthy();
    expect(res.headers.get(name), `${what}: ${name}`).toBe(rest.headers.get(name));
  }
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('cache-control'), what).toBe('no-store');
  expect(res.headers.get('x-powered-by'), what).toBeNull();
}

async function expectRefusal(res: Response, status: number, code: string, what: string) {
  expect(res.status, what).toBe(status);
  expect(res.headers.get('content-type'), what).toMatch(/^application\/json/);
  const body = apiErrorSchema.parse(JSON.parse(await res.text()));
  expect(body.error.code, what).toBe(code);
  expect(body.error.message.length, what).toBeGreaterThan(0);
  await expectRestHeaders(res, what);
  return body;
}

describe("socket.io's polling answers", () => {
  it('carry the same security headers as REST on the handshake, a sent packet and a poll', async () => {
    const first = await poll('EIO=4&transport=polling');
    expect(first.status).toBe(200);
    await expectRestHeaders(first, 'handshake');
    const { sid } = JSON.parse((await first.text()).slice(1)) as { sid: string };

    // Connect to the main namespace with no token: the refusal comes back on the next poll.
    const sent = await poll(`EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST',
      body: '40{}',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
    });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toBe('ok');
    await expectRestHeaders(sent, 'POST');

    const got = await poll(`EIO=4&transport=polling&sid=${sid}`);
    expect(got.status).toBe(200);
    expect(await got.text()).toMatch(/^44\{"message":"unauthorized"/);
    await expectRestHeaders(got, 'poll');
  });

  it('answer an old-protocol (EIO=3) client in the JSON error shape, naming the protocol', async () => {
    const body = await expectRefusal(await poll('EIO=3&transport=polling'), 400, 'invalid_request', 'EIO=3');
    expect(body.error.message).toMatch(/protocol/i);
    expect(Object.keys(body.error.fields ?? {})).toEqual(['EIO']);
  });

  it('refuse an old-protocol WebSocket upgrade before it happens, in the JSON error shape', async () => {
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        'GET /socket.io/?EIO=3&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
          'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/\r\nContent-Type: application\/json/i);
    const parsed = apiErrorSchema.parse(JSON.parse(body));
    expect(parsed.error.code).toBe('invalid_request');
    expect(Object.keys(parsed.error.fields ?? {})).toEqual(['EIO']);
  });

  it("answer engine.io's other refusals in the JSON error shape", async () => {
    const transport = await expectRefusal(
      await poll('EIO=4&transport=carrier-pigeon'),
      400,
      'invalid_request',
      'unknown transport',
    );
    expect(Object.keys(transport.error.fields ?? {})).toEqual(['transport']);
    const sid = await expectRefusal(
      await poll('EIO=4&transport=polling&sid=no-such-sid'),
      400,
      'invalid_request',
      'unknown sid',
    );
    expect(Object.keys(sid.error.fields ?? {})).toEqual(['sid']);
    await expectRefusal(
      await poll('EIO=4&transport=polling', { method: 'POST', body: '40' }),
      400,
      'invalid_request',
      'handshake by POST',
    );
  });

  it("answer the polling transport's own refusals (an overlapping poll, an oversized message) in the JSON error shape", async () => {
    const sid = await handshake();
    // The first poll waits for data; a second one at the same time is refused.
    const waiting = poll(`EIO=4&transport=polling&sid=${sid}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectRefusal(await poll(`EIO=4&transport=polling&sid=${sid}`), 400, 'invalid_request', 'overlap');
    await (await waiting).text();

    const other = await handshake();
    await expectRefusal(
      await poll(`EIO=4&transport=polling&sid=${other}`, {
        method: 'POST',
        body: `4${'x'.repeat(70 * 1024)}`,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
      }),
      413,
      'payload_too_large',
      'oversized',
    );
  });
});
