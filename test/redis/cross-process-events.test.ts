import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, EventLog } from '../calls/support.js';
import { signUpParent, testServers, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { startServerGroup } from '../support/redis.js';

const servers = testServers();
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function open(server: TestServer, token: string): Promise<{ socket: Socket; log: EventLog }> {
  const socket = await connectSocket(server.url, token);
  sockets.push(socket);
  return { socket, log: new EventLog(socket) };
}

const grant = (server: TestServer, accountId: string, seconds: number) =>
  server.api.request('POST', `/admin/accounts/${accountId}/credits`, {
    token: TEST_ADMIN_TOKEN,
    body: { seconds, reason: 'cross-process test' },
  });

/** The reason the socket was disconnected, or a failure after 10 s. */
function disconnected(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket was not disconnected within 10 s')), 10_000);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

describe('REDIS_URL: two processes on one PostgreSQL and one Redis share socket events', () => {
  it("an account's events emitted on process A reach its sockets on process B, and no other account's", async () => {
    const [a, b] = await startServerGroup(servers, 2);
    const x = await signUpParent(a!.api);
    const y = await signUpParent(a!.api);
    const xOnB = await open(b!, x.token);
    const yOnB = await open(b!, y.token);
    const xOnA = await open(a!, x.token);

    // A real emit: an admin grant on A announces the new balance to X's sockets.
    expect((await grant(a!, x.accountId, 600)).status).toBe(201);
    const seen = await xOnB.log.wait('credits:updated');
    expect(seen).toMatchObject({ availableSeconds: 600 });
    await xOnA.log.wait('credits:updated');

    // A notice, straight through A's notifier, reaches X on B as well.
    a!.app.notifier.toAccount(x.accountId, 'credits:updated', { ...seen, availableSeconds: 601 });
    await xOnB.log.wait('credits:updated', (p: { availableSeconds: number }) => p.availableSeconds === 601);

    // Cross-account: Y's socket on B got nothing of X. The stream keeps order, so once Y's own
    // grant (emitted after X's events) has arrived, anything of X's would have arrived before it.
    expect((await grant(a!, y.accountId, 300)).status).toBe(201);
    await yOnB.log.wait('credits:updated');
    expect(yOnB.log.events).toEqual([
      { event: 'credits:updated', payload: expect.objectContaining({ availableSeconds: 300 }) },
    ]);
    expect(xOnB.log.of('credits:updated').map((p: { availableSeconds: number }) => p.availableSeconds)).toEqual([
      600, 601,
    ]);
  });

  it('/healthz reports Redis when REDIS_URL is set', async () => {
    const [a] = await startServerGroup(servers, 1);
    const res = await a!.api.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      store: { kind: 'postgres', ok: true },
      redis: { ok: true, status: 'ready' },
    });
    expect(JSON.stringify(res.body)).not.toContain('redis://');
  });

  it("a session revoked on A disconnects its socket on B; the account's other session and other accounts stay connected", async () => {
    const [a, b] = await startServerGroup(servers, 2);
    const x = await signUpParent(a!.api);
    const y = await signUpParent(a!.api);
    const second = (await a!.api.post('/api/auth/login', { email: x.email, password: x.password })).body
      .token as string;
    const xOnB = await open(b!, x.token);
    const xSecondOnB = await open(b!, second);
    const yOnB = await open(b!, y.token);

    const gone = disconnected(xOnB.socket);
    expect((await a!.api.post('/api/auth/logout', undefined, x.token)).status).toBe(204);
    // 'io server disconnect': the server closed it (a client-side drop would say otherwise).
    expect(await gone).toBe('io server disconnect');
    // Proof the others are still served: an event for each still arrives after the revocation.
    expect((await grant(a!, x.accountId, 60)).status).toBe(201);
    expect((await grant(a!, y.accountId, 60)).status).toBe(201);
    await xSecondOnB.log.wait('credits:updated');
    await yOnB.log.wait('credits:updated');
    expect(xSecondOnB.socket.connected).toBe(true);
    expect(yOnB.socket.connected).toBe(true);
  });

  it('an account closed on A has every socket on B disconnected', async () => {
    const [a, b] = await startServerGroup(servers, 2);
    const x = await signUpParent(a!.api);
    const y = await signUpParent(a!.api);
    const xOnB = await open(b!, x.token);
    const yOnB = await open(b!, y.token);
    const gone = disconnected(xOnB.socket);
    a!.app.notifier.disconnectAccount(x.accountId);
    expect(await gone).toBe('io server disconnect');
    expect((await grant(a!, y.accountId, 60)).status).toBe(201);
    await yOnB.log.wait('credits:updated');
    expect(yOnB.socket.connected).toBe(true);
  });
});
