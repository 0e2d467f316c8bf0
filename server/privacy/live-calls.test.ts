import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../core/clock.js';
import { SimulatedSantaProvider } from '../realtime/simulated-santa.js';
import { callEndedSchema, type CallStartOk } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { createBrowserPeer, type BrowserPeer } from '../../test/support/webrtc-peer.js';
import { ack, callLedger, connectSocket, EventLog, readyParent, type ReadyParent } from '../../test/calls/support.js';
import { admin, expectStatus } from './test-helpers.js';

/** Real calls with Simulated Santa and a werift "browser": closing the account and the admin end stop them at once. */
let server: TestServer;
let clock: FakeClock;
let provider: SimulatedSantaProvider;
const sockets: Socket[] = [];
const peers: BrowserPeer[] = [];

beforeEach(async () => {
  clock = new FakeClock();
  provider = new SimulatedSantaProvider({ clock });
  server = await startTestServer({ clock, app: { realtime: provider } });
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const p of peers.splice(0)) await p.close();
  await server.close();
});

async function liveCall(parent: ReadyParent): Promise<{ call: CallStartOk; log: EventLog }> {
  const socket = await connectSocket(server.url, parent.token);
  sockets.push(socket);
  const log = new EventLog(socket);
  const peer = await createBrowserPeer();
  peers.push(peer);
  const res = callStartAckSchema.parse(
    await ack(socket, 'call:start', { profileId: parent.profileId, sdp: peer.offerSdp }),
  );
  if ('error' in res) throw new Error(`call:start refused: ${res.error.code}`);
  await peer.setAnswer(res.sdp);
  return { call: res, log };
}

describe('live calls and privacy rights', () => {
  it('closing the account ends its live call at once, tells the call window, and settles the credit used', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const other = await readyParent(server, { seconds: 600 });
    const mine = await liveCall(parent);
    const theirs = await liveCall(other);
    await clock.advanceAsync(5000, 100);

    const closed = await server.api.delete('/api/me', { password: 'correct horse battery staple' }, parent.token);
    expect(closed.status).toBe(202);
    expect(callEndedSchema.parse(await mine.log.wait('call:ended'))).toEqual({
      callId: mine.call.callId,
      reason: 'account_closed',
      seconds: 5,
    });
    expect(await server.app.store.calls.get(mine.call.callId)).toMatchObject({
      reason: 'account_closed',
      meteredSeconds: 5,
    });
    expect(await callLedger(server, mine.call.callId)).toEqual(['capture:5', 'hold:600', 'release:595']);
    // The other family's call goes on.
    expect(server.app.services.calls.liveCount()).toBe(1);
    expect(theirs.log.of('call:ended')).toEqual([]);
    await server.app.services.calls.endCall(theirs.call.callId, 'parent');
    expect(provider.openCalls).toBe(0);
  });

  it('POST /admin/calls/:id/end ends a live call over HTTP, settles it, and a second end is 404', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const { call, log } = await liveCall(parent);
    await clock.advanceAsync(3000, 100);
    const res = await admin(server.api).post(`/admin/calls/${call.callId}/end`);
    expect(res.status).toBe(200);
    expect(callEndedSchema.parse(await log.wait('call:ended'))).toEqual({
      callId: call.callId,
      reason: 'admin',
      seconds: 3,
    });
    expect(await callLedger(server, call.callId)).toEqual(['capture:3', 'hold:600', 'release:597']);
    const again = await admin(server.api).post(`/admin/calls/${call.callId}/end`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('call_not_found');
    expect(
      (await server.app.services.audit.forSubject(call.callId)).filter((e) => e.action === 'admin.call_end'),
    ).toHaveLength(1);
    expect(provider.openCalls).toBe(0);
    expectStatus(await server.api.get('/api/me', parent.token), 200);
  });
});
