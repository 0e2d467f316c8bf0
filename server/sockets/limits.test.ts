import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { signUpParent, testServers, type TestServer } from '../../test/support/server.js';
import { MAX_SOCKETS_PER_ACCOUNT, MAX_SOCKETS_PER_SESSION } from './hub.js';

const servers = testServers();
let server: TestServer;
const opened: Socket[] = [];

beforeEach(async () => {
  server = await servers.start();
});
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** Connects with a token; resolves with the socket, or with the handshake's refusal. */
function open(token: string): Promise<{ socket: Socket; refused?: { code?: string } }> {
  const socket = connect(server.url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  opened.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) =>
      resolve({ socket, refused: err.data ?? { code: err.message } }),
    );
  });
}

async function closeAndWait(s: Socket): Promise<void> {
  s.close();
  // The server has dropped it from its rooms once a fresh handshake would count it no more.
  await new Promise((r) => setTimeout(r, 50));
}

const endAck = (s: Socket) =>
  s.timeout(5000).emitWithAck('call:end', { callId: 'nothing' }) as Promise<{ error?: { code: string } }>;

describe('socket limits hold per sign-in session and per account, not per socket', () => {
  it(`one sign-in session holds at most ${MAX_SOCKETS_PER_SESSION} sockets; the next handshake is refused rate_limited until one closes`, async () => {
    const parent = await signUpParent(server.api);
    const ok = [];
    for (let i = 0; i < MAX_SOCKETS_PER_SESSION; i++) ok.push(await open(parent.token));
    expect(ok.every((r) => r.refused === undefined)).toBe(true);
    const over = await open(parent.token);
    expect(over.refused).toMatchObject({ code: 'rate_limited' });
    // Another parent is not affected.
    expect((await open((await signUpParent(server.api)).token)).refused).toBeUndefined();
    await closeAndWait(ok[0]!.socket);
    expect((await open(parent.token)).refused).toBeUndefined();
  });

  it(`one account holds at most ${MAX_SOCKETS_PER_ACCOUNT} sockets across all its sign-in sessions`, async () => {
    const parent = await signUpParent(server.api);
    const tokens = [parent.token];
    while (tokens.length * MAX_SOCKETS_PER_SESSION <= MAX_SOCKETS_PER_ACCOUNT) {
      tokens.push(
        (await server.api.post('/api/auth/login', { email: parent.email, password: parent.password })).body
          .token as string,
      );
    }
    let connected = 0;
    let refused = 0;
    for (const token of tokens) {
      for (let i = 0; i < MAX_SOCKETS_PER_SESSION; i++) {
        const r = await open(token);
        if (r.refused) {
          expect(r.refused).toMatchObject({ code: 'rate_limited' });
          refused++;
        } else connected++;
      }
    }
    expect(connected).toBe(MAX_SOCKETS_PER_ACCOUNT);
    expect(refused).toBe(tokens.length * MAX_SOCKETS_PER_SESSION - MAX_SOCKETS_PER_ACCOUNT);
  });

  it('the event budget belongs to the sign-in session: reconnecting does not refill it', async () => {
    const parent = await signUpParent(server.api);
    const first = (await open(parent.token)).socket;
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) codes.push((await endAck(first)).error?.code ?? 'ok');
    // Answered on their merits (no such call), never rate_limited.
    expect(codes.filter((c) => c === 'rate_limited')).toEqual([]);
    expect((await endAck(first)).error?.code).toBe('rate_limited');
    // Ten reconnects, each a new socket of the same session: still no budget (the fake clock has not moved).
    for (let i = 0; i < 10; i++) {
      await closeAndWait(opened[opened.length - 1]!);
      const again = (await open(parent.token)).socket;
      expect((await endAck(again)).error?.code).toBe('rate_limited');
    }
    // The bucket refills with time, 2 events per second.
    server.clock.advance(1000);
    expect((await endAck(opened[opened.length - 1]!)).error?.code).not.toBe('rate_limited');
    // Another sign-in session of the same parent has its own budget.
    const other = (await server.api.post('/api/auth/login', { email: parent.email, password: parent.password })).body
      .token as string;
    expect((await endAck((await open(other)).socket)).error?.code).not.toBe('rate_limited');
  });
});
