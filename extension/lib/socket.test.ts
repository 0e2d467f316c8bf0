import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer } from 'socket.io';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TcpBalancer } from '../../test/cluster/balancer.js';
import type { Socket } from 'socket.io-client';
import { connectSocket, defaultSocketFactory, RECONNECT_OPTIONS, type RawSocket } from './socket.js';
import { FakeRawSocket } from './testing/fakes.js';

function setup(random = () => 0.5) {
  const raw = new FakeRawSocket();
  const factory = vi.fn(() => raw);
  const socket = connectSocket('http://127.0.0.1:9', 'tok', factory, { random });
  return { raw, socket, factory };
}

describe('socket client', () => {
  it('connects to the server with the token in the handshake auth', () => {
    const { factory } = setup();
    expect(factory).toHaveBeenCalledWith('http://127.0.0.1:9', 'tok');
  });

  it('delivers events that match the shared schema', () => {
    const { raw, socket } = setup();
    const ticks: unknown[] = [];
    socket.on('call:tick', (t) => ticks.push(t));
    raw.fire('call:tick', { callId: 'c1', remainingSeconds: 100, elapsedSeconds: 20, profileId: 'p1' });
    expect(ticks).toEqual([{ callId: 'c1', remainingSeconds: 100, elapsedSeconds: 20, profileId: 'p1' }]);
  });

  it('drops events that do not match the contract instead of rendering them half', () => {
    const { raw, socket } = setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ended: unknown[] = [];
    socket.on('call:ended', (e) => ended.push(e));
    raw.fire('call:ended', { callId: 'c1', reason: 'because', seconds: 5 });
    raw.fire('call:ended', { callId: 'c1', reason: 'hangup', seconds: 1.5 });
    expect(ended).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it('stops delivering after unsubscribe', () => {
    const { raw, socket } = setup();
    const seen: unknown[] = [];
    const off = socket.on('credits:updated', (c) => seen.push(c));
    off();
    raw.fire('credits:updated', { balanceSeconds: 1, availableSeconds: 1 });
    expect(seen).toEqual([]);
  });

  it('validates the call:start body and its ack', async () => {
    const { raw, socket } = setup();
    raw.answer = async () => ({ callId: 'c1', sdp: 'v=0 answer', availableSeconds: 600 });
    expect(await socket.startCall({ profileId: 'p1', sdp: 'v=0 offer sdp' })).toEqual({
      callId: 'c1',
      sdp: 'v=0 answer',
      availableSeconds: 600,
    });
    expect(raw.emitted[0]).toEqual({ event: 'call:start', args: [{ profileId: 'p1', sdp: 'v=0 offer sdp' }] });
    raw.answer = async () => ({ callId: 'c1' });
    expect(await socket.startCall({ profileId: 'p1', sdp: 'v=0 offer sdp' })).toEqual({
      error: { code: 'bad_response', message: expect.any(String) },
    });
    raw.emitted = [];
    expect(await socket.startCall({ profileId: '', sdp: 'short' })).toEqual({
      error: { code: 'invalid_request', message: expect.any(String) },
    });
    expect(raw.emitted).toEqual([]);
  });

  it('passes a refusal through with its code', async () => {
    const { raw, socket } = setup();
    raw.answer = async () => ({ error: { code: 'insufficient_credit', message: 'Buy more' } });
    expect(await socket.startCall({ profileId: 'p1', sdp: 'v=0 offer sdp' })).toEqual({
      error: { code: 'insufficient_credit', message: 'Buy more' },
    });
  });

  it('takes only the codes the contract lists for the event: any other answer is bad_response', async () => {
    const { raw, socket } = setup();
    raw.answer = async () => ({ error: { code: 'call_not_found', message: 'No such live call' } });
    expect(await socket.endCall('c1')).toEqual({ error: { code: 'call_not_found', message: 'No such live call' } });
    expect(await socket.resumeCall('c1')).toEqual({ error: { code: 'call_not_found', message: 'No such live call' } });
    raw.answer = async () => ({ error: { code: 'not_found', message: 'No such call' } });
    expect(await socket.endCall('c1')).toEqual({ error: { code: 'bad_response', message: expect.any(String) } });
    raw.answer = async () => ({ error: { code: 'insufficient_credit', message: 'Buy more' } });
    expect(await socket.resumeCall('c1')).toEqual({ error: { code: 'bad_response', message: expect.any(String) } });
    raw.answer = async () => ({ ok: true });
    expect(await socket.resumeCall('c1')).toEqual({ error: { code: 'bad_response', message: expect.any(String) } });
  });

  it('turns an ack that never comes into network_error', async () => {
    const { raw, socket } = setup();
    raw.answer = async () => Promise.reject(new Error('operation has timed out'));
    expect(await socket.endCall('c1')).toEqual({ error: { code: 'network_error', message: expect.any(String) } });
    expect(raw.emitted[0]).toEqual({ event: 'call:end', args: [{ callId: 'c1' }] });
  });

  it('tries again itself, backing off, when socket.io will not: a refused handshake or a disconnect by the server', () => {
    vi.useFakeTimers();
    try {
      const { raw, socket } = setup();
      raw.fire('connect');
      raw.active = false;
      raw.fire('disconnect', 'io server disconnect');
      expect(socket.status).toBe('reconnecting');
      vi.advanceTimersByTime(999);
      expect(raw.connects).toBe(0);
      vi.advanceTimersByTime(1);
      expect(raw.connects).toBe(1);
      // The server's middleware refuses the handshake (not the token): the next try waits twice as long.
      raw.fire('connect_error', Object.assign(new Error('internal_error'), { data: undefined }));
      vi.advanceTimersByTime(1999);
      expect(raw.connects).toBe(1);
      vi.advanceTimersByTime(1);
      expect(raw.connects).toBe(2);
      raw.active = true;
      raw.fire('connect');
      expect(socket.status).toBe('connected');
      // While socket.io reconnects by itself (a lost transport), this side does not interfere.
      raw.fire('disconnect', 'transport close');
      vi.advanceTimersByTime(60_000);
      expect(raw.connects).toBe(2);
      // Closed: no try after that.
      raw.active = false;
      raw.fire('disconnect', 'io server disconnect');
      socket.close();
      vi.advanceTimersByTime(60_000);
      expect(raw.connects).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports connection status, and stops trying when the token is refused', () => {
    const { raw, socket } = setup();
    const seen: string[] = [];
    socket.onStatus((s) => seen.push(s));
    raw.fire('connect');
    raw.fire('disconnect', 'transport close');
    raw.fire('connect');
    const err = Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized' } });
    raw.fire('connect_error', err);
    expect(seen).toEqual(['connected', 'reconnecting', 'connected', 'unauthorized']);
    expect(raw.disconnected).toBe(true);
  });
});

describe('socket client, spread back-off', () => {
  it("spreads this side's retries by half either way", () => {
    vi.useFakeTimers();
    try {
      for (const [random, first] of [
        [0, 500],
        [0.999, 1499],
      ] as const) {
        const { raw } = setup(() => random);
        raw.fire('connect');
        raw.active = false;
        raw.fire('disconnect', 'io server disconnect');
        vi.advanceTimersByTime(first - 1);
        expect(raw.connects).toBe(0);
        vi.advanceTimersByTime(1);
        expect(raw.connects).toBe(1);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('never waits more than 5 s between tries, so a call window gets back within the grace period', () => {
    vi.useFakeTimers();
    try {
      const { raw } = setup(() => 0.999);
      raw.fire('connect');
      raw.active = false;
      raw.fire('disconnect', 'io server disconnect');
      for (let i = 0; i < 8; i++) {
        vi.advanceTimersByTime(7500);
        expect(raw.connects).toBe(i + 1);
        raw.fire('connect_error', Object.assign(new Error('internal_error'), { data: undefined }));
      }
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('socket client against real socket.io servers behind a balancer', () => {
  const TOKEN = 'a-token-both-processes-accept';
  const servers: Array<{ io: IoServer; http: HttpServer; port: number; handshakes: string[] }> = [];
  let balancer: TcpBalancer;

  async function ioProcess(): Promise<(typeof servers)[number]> {
    const http = createServer();
    const io = new IoServer(http, { transports: ['websocket', 'polling'] });
    const entry = { io, http, port: 0, handshakes: [] as string[] };
    io.use((socket, next) => {
      entry.handshakes.push(socket.conn.transport.name);
      next(socket.handshake.auth.token === TOKEN ? undefined : new Error('unauthorized'));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    entry.port = (http.address() as AddressInfo).port;
    servers.push(entry);
    return entry;
  }

  afterEach(async () => {
    await balancer?.close();
    for (const s of servers.splice(0)) {
      s.io.close();
      s.http.closeAllConnections();
      await new Promise((r) => s.http.close(r));
    }
  });

  it('speaks WebSocket only, and when its process goes away reconnects with back-off to whichever process answers', async () => {
    const a = await ioProcess();
    const b = await ioProcess();
    const alive = new Set([a.port, b.port]);
    balancer = new TcpBalancer(() => [a.port, b.port].filter((p) => alive.has(p)));
    await balancer.start();
    const socket = connectSocket(balancer.url, TOKEN);
    const seen: string[] = [];
    socket.onStatus((s) => seen.push(s));
    try {
      await vi.waitFor(() => expect(socket.status).toBe('connected'), { timeout: 10_000 });
      const [first, other] = a.handshakes.length ? [a, b] : [b, a];
      expect(first.handshakes).toEqual(['websocket']);
      // The process it reached stops, as a deploy stops it: its sockets close, it takes no new ones.
      alive.delete(first.port);
      first.io.close();
      await vi.waitFor(() => expect(seen).toEqual(['connected', 'reconnecting', 'connected']), { timeout: 15_000 });
      expect(other.handshakes).toEqual(['websocket']);
      // No long-polling request ever reached either process.
      expect([...a.handshakes, ...b.handshakes].every((t) => t === 'websocket')).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('does not fall back to long-polling when WebSockets are refused (polling would need sticky sessions)', async () => {
    const http = createServer();
    const io = new IoServer(http, { transports: ['polling'] });
    const handshakes: string[] = [];
    io.use((s, next) => {
      handshakes.push(s.conn.transport.name);
      next();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    servers.push({ io, http, port: (http.address() as AddressInfo).port, handshakes });
    let raw: RawSocket | null = null;
    const socket = connectSocket(
      `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
      TOKEN,
      (url, token) => (raw = defaultSocketFactory(url, token)),
    );
    // Nothing else listed to fall back to, on this connection or any later one.
    expect((raw as unknown as Socket).io.opts).toMatchObject({ transports: ['websocket'], ...RECONNECT_OPTIONS });
    expect((raw as unknown as Socket).io.opts.tryAllTransports).toBeFalsy();
    try {
      await vi.waitFor(() => expect(socket.status).toBe('reconnecting'), { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 1500));
      expect(handshakes).toEqual([]);
      expect(socket.status).toBe('reconnecting');
    } finally {
      socket.close();
    }
  });
});
