import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import type { Socket } from 'socket.io';
import { signUpParent, testServers, type TestServer } from '../../test/support/server.js';
import { wellFormedPacket } from './guard.js';

const servers = testServers();
let server: TestServer;
const uncaught: unknown[] = [];
const record = (err: unknown) => uncaught.push(err);
const clients: ClientSocket[] = [];

beforeEach(async () => {
  uncaught.length = 0;
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  server = await servers.start();
});

afterEach(() => {
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
  for (const c of clients.splice(0)) c.close();
});

async function client(): Promise<ClientSocket> {
  const { token } = await signUpParent(server.api);
  const s = connect(server.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  clients.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('the socket guard', () => {
  it('reads only packets whose event name is a string', () => {
    expect(wellFormedPacket(['call:end', {}])).toBe(true);
    expect(wellFormedPacket([])).toBe(false);
    expect(wellFormedPacket([1, {}])).toBe(false);
    expect(wellFormedPacket([undefined])).toBe(false);
    expect(wellFormedPacket([''])).toBe(false);
    expect(wellFormedPacket(['x'.repeat(65)])).toBe(false);
    expect(wellFormedPacket('call:end')).toBe(false);
  });

  it('contains a handler that throws, one that rejects, and a middleware that throws: the server and every other socket stay up', async () => {
    // Registered on the app's own socket.io server, after the hub: the guard covers handlers added by any module.
    server.app.io.on('connection', (socket: Socket) => {
      socket.use((packet, next) => {
        if (packet[0] === 'mw-throws') throw new Error('middleware bug');
        next();
      });
      // Listened for, so the call sockets' middleware passes it on instead of answering not_found.
      socket.on('mw-throws', () => undefined);
      socket.on('throws', () => {
        throw new Error('handler bug');
      });
      socket.on('rejects', async () => {
        await Promise.resolve();
        throw new Error('async handler bug');
      });
    });
    const attacker = await client();
    const bystander = await client();
    attacker.emit('throws');
    attacker.emit('rejects');
    const mwAck = await attacker.timeout(5000).emitWithAck('mw-throws', {});
    await settle();
    expect(uncaught).toEqual([]);
    expect(mwAck).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
    expect(attacker.connected).toBe(true);
    expect(bystander.connected).toBe(true);
    expect(await bystander.timeout(5000).emitWithAck('call:end', { callId: 'x' })).toMatchObject({
      error: { code: 'call_not_found' },
    });
    // Why it failed is logged, never what the client sent.
    expect(server.logs.join('')).toContain('handler bug');
    expect(server.logs.join('')).toContain('async handler bug');
  });

  it('a middleware that refuses an event with an error drops only that socket (socket.io emits it as an error event)', async () => {
    server.app.io.on('connection', (socket: Socket) => {
      socket.use((packet, next) => (packet[0] === 'refused' ? next(new Error('refused')) : next()));
      socket.on('refused', () => undefined);
    });
    const attacker = await client();
    const bystander = await client();
    const gone = new Promise<void>((resolve) => attacker.once('disconnect', () => resolve()));
    attacker.emit('refused');
    await gone;
    await settle();
    expect(uncaught).toEqual([]);
    expect(bystander.connected).toBe(true);
  });
});
