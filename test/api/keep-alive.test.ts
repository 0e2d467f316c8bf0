import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../server/app.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('HTTP keep-alive behind a proxy', () => {
  it('keeps an idle connection open longer than nginx keeps its upstream ones (60 s), and says so to the client', async () => {
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    const res = await fetch(`${server.url}/healthz`);
    await res.text();
    expect(res.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
  });
});

describe('a stopping server', () => {
  it('does not wait for a connection that never sent a whole request: the stop ends and the connection is closed', async () => {
    const other = await startTestServer();
    const { port } = new URL(other.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Half a request, as a browser's preconnect or a slow client leaves it.
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await other.close();
    await closed;
    expect(socket.destroyed).toBe(true);
  });
});
