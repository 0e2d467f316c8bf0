import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { ack, connectSocket } from '../calls/support.js';
import { signUpParent, testServers } from '../support/server.js';
import { startServerGroup } from '../support/redis.js';
import { MAX_SOCKETS_PER_SESSION } from '../../server/sockets/hub.js';
import { io as connect } from 'socket.io-client';

const servers = testServers();
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('REDIS_URL: rate limits are counted across processes', () => {
  it('wrong passwords on A and on B add up to one sign-in limit; another email is not affected', async () => {
    const [a, b] = await startServerGroup(servers, 2);
    const x = await signUpParent(a!.api);
    const y = await signUpParent(a!.api);
    const wrong = { email: x.email, password: 'not the password at all' };
    // Five failures per email from one address: three answered by A, two by B.
    for (const s of [a, b, a, b, a]) expect((await s!.api.post('/api/auth/login', wrong)).status).toBe(401);
    for (const s of [b, a]) {
      const refused = await s!.api.post('/api/auth/login', { email: x.email, password: x.password });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect((await b!.api.post('/api/auth/login', { email: y.email, password: y.password })).status).toBe(200);
  });

  it('password reset requests from one address count on every process', async () => {
    const [a, b] = await startServerGroup(servers, 2);
    for (let i = 0; i < 20; i++) {
      const s = i % 2 === 0 ? a! : b!;
      expect((await s.api.post('/api/auth/password-reset/request', { email: `nobody${i}@example.test` })).status).toBe(
        202,
      );
    }
    expect((await a!.api.post('/api/auth/password-reset/request', { email: 'nobody@example.test' })).status).toBe(429);
    expect((await b!.api.post('/api/auth/password-reset/request', { email: 'nobody@example.test' })).status).toBe(429);
  });

  it("a session's socket event budget is one budget on every process: a socket on B finds it spent on A", async () => {
    const [a, b] = await startServerGroup(servers, 2);
    const x = await signUpParent(a!.api);
    const onA = await connectSocket(a!.url, x.token);
    sockets.push(onA);
    const codes: string[] = [];
    for (let i = 0; i < 10; i++)
      codes.push(
        ((await ack(onA, 'call:end', { callId: 'nothing' })) as { error?: { code: string } }).error?.code ?? 'ok',
      );
    expect(codes).not.toContain('rate_limited');
    const onB = await connectSocket(b!.url, x.token);
    sockets.push(onB);
    expect(((await ack(onB, 'call:end', { callId: 'nothing' })) as { error?: { code: string } }).error?.code).toBe(
      'rate_limited',
    );
    // Another parent's session on B has its own budget.
    const y = await signUpParent(a!.api);
    const yOnB = await connectSocket(b!.url, y.token);
    sockets.push(yOnB);
    expect(((await ack(yOnB, 'call:end', { callId: 'nothing' })) as { error?: { code: string } }).error?.code).not.toBe(
      'rate_limited',
    );
  });

  it(`one sign-in session holds at most ${MAX_SOCKETS_PER_SESSION} sockets across all processes; closing one on A frees a slot on B`, async () => {
    const [a, b] = await startServerGroup(servers, 2);
    const x = await signUpParent(a!.api);
    const opened: Socket[] = [];
    for (let i = 0; i < MAX_SOCKETS_PER_SESSION; i++) {
      const s = await connectSocket((i % 2 === 0 ? a! : b!).url, x.token);
      sockets.push(s);
      opened.push(s);
    }
    /** A handshake's refusal code, or 'connected'. */
    const attempt = (url: string, token: string) =>
      new Promise<string>((resolve) => {
        const s = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.once('connect', () => resolve('connected'));
        s.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
      });
    expect(await attempt(b!.url, x.token)).toBe('rate_limited');
    expect(await attempt(a!.url, x.token)).toBe('rate_limited');
    // Another parent is not affected.
    const y = await signUpParent(a!.api);
    expect(await attempt(b!.url, y.token)).toBe('connected');
    // One of X's sockets on A closes: its slot is free on B.
    opened[0]!.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(await attempt(b!.url, x.token)).toBe('connected');
  });
});
