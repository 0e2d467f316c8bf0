import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { callReadinessSchema, type CallReadiness } from '../../shared/schemas/calls.js';
import { FakeRealtimeProvider } from '../fakes/realtime-provider.js';
import { startTestServer, signUpParent, type TestServer } from '../support/server.js';
import { ack, BROWSER_OFFER, connectSocket, readyParent } from './support.js';

/**
 * GET /api/calls/readiness over real HTTP: for each child, what call:start would answer now,
 * so the side panel and the popup can say it on the child's button instead of opening a call
 * window that can only fail; and the credit as one figure with what live calls hold.
 */
let server: TestServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  server = await startTestServer({ app: { realtime: new FakeRealtimeProvider() } });
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server.close();
});

async function readiness(token: string, timeZone?: string): Promise<CallReadiness> {
  const res = await server.api.get(
    `/api/calls/readiness${timeZone ? `?timeZone=${encodeURIComponent(timeZone)}` : ''}`,
    token,
  );
  expect(res.status).toBe(200);
  return callReadinessSchema.parse(res.body);
}

async function addChild(token: string, body: Record<string, unknown>): Promise<string> {
  const res = await server.api.post('/api/profiles', { age: 7, language: 'en', ...body }, token);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const hhmm = (at: number) => new Date(at).toISOString().slice(11, 16);

describe('GET /api/calls/readiness', () => {
  it('says every child can be called when nothing stands in the way', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const r = await readiness(parent.token, 'Europe/Copenhagen');
    expect(r).toEqual({
      balanceSeconds: 600,
      availableSeconds: 600,
      live: [],
      profiles: [{ profileId: parent.profileId, block: null, until: null, liveProfileId: null }],
    });
  });

  it('names the real reason while a sibling is on a call: that call holds the time, and call:start refuses with the same reason', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const bo = await addChild(parent.token, { name: 'Bo' });
    const window = await connectSocket(server.url, parent.token);
    sockets.push(window);
    const started = await ack(window, 'call:start', { profileId: parent.profileId, sdp: BROWSER_OFFER });
    expect(started).toMatchObject({ callId: expect.any(String) });

    const r = await readiness(parent.token);
    expect(r.balanceSeconds).toBe(600);
    expect(r.live).toEqual([
      {
        callId: started.callId,
        profileId: parent.profileId,
        heldSeconds: 600,
        remainingSeconds: 600,
        elapsedSeconds: 0,
        simulated: true,
      },
    ]);
    expect(r.availableSeconds).toBe(0);
    expect(r.profiles).toEqual([
      { profileId: parent.profileId, block: 'call_in_progress', until: null, liveProfileId: parent.profileId },
      { profileId: bo, block: 'credit_held', until: null, liveProfileId: parent.profileId },
    ]);
    expect(await ack(window, 'call:start', { profileId: bo, sdp: BROWSER_OFFER })).toMatchObject({
      error: { code: 'credit_held' },
    });

    expect(await ack(window, 'call:end', { callId: started.callId })).toEqual({ ok: true });
    await expect.poll(async () => (await readiness(parent.token)).profiles.map((p) => p.block)).toEqual([null, null]);
  });

  it('tells a side panel opened mid-call, after call:started went out, that Simulated Santa answers the live call', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const window = await connectSocket(server.url, parent.token);
    sockets.push(window);
    const started = await ack(window, 'call:start', { profileId: parent.profileId, sdp: BROWSER_OFFER });
    expect(started).toMatchObject({ callId: expect.any(String) });
    await server.clock.advanceAsync(5000, 1000);
    // The panel opens now: it missed call:started, so this is where it learns what the call window was told.
    expect((await readiness(parent.token)).live).toEqual([
      expect.objectContaining({ callId: started.callId, profileId: parent.profileId, simulated: true }),
    ]);
    expect(await ack(window, 'call:end', { callId: started.callId })).toEqual({ ok: true });
    await expect.poll(async () => (await readiness(parent.token)).live).toEqual([]);
  });

  it('says when quiet hours end, in the zone stored with the child; a zone the caller names moves nothing; an unknown one is refused', async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const now = server.clock.now();
    const quiet = { from: hhmm(now - 3600_000), to: hhmm(now + 3600_000) };
    const sleepy = await addChild(parent.token, { name: 'Sleepy', quietHours: quiet, timeZone: 'UTC' });
    const blockOf = (r: CallReadiness, id: string) => r.profiles.find((p) => p.profileId === id);
    expect(blockOf(await readiness(parent.token), sleepy)).toEqual({
      profileId: sleepy,
      block: 'quiet_hours',
      until: quiet.to,
      liveProfileId: null,
    });
    // Twelve hours east the same window is not now, but the caller does not choose the zone (issue 15).
    expect(blockOf(await readiness(parent.token, 'Pacific/Kiritimati'), sleepy)?.block).toBe('quiet_hours');
    // A child whose parent stored that zone is read in it.
    const east = await addChild(parent.token, { name: 'East', quietHours: quiet, timeZone: 'Pacific/Kiritimati' });
    expect(blockOf(await readiness(parent.token, 'UTC'), east)?.block).toBe(null);
    const bad = await server.api.get('/api/calls/readiness?timeZone=Mars%2FOlympus', parent.token);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_request', fields: { timeZone: expect.any(String) } } });
  });

  it('says the daily minutes are used up, no call time, unverified consent and restricted processing', async () => {
    const broke = await readyParent(server, { seconds: 0 });
    expect((await readiness(broke.token)).profiles[0]?.block).toBe('insufficient_credit');

    const unverified = await readyParent(server, { seconds: 600, verified: false });
    expect((await readiness(unverified.token)).profiles[0]?.block).toBe('consent_unverified');

    const limited = await readyParent(server, { seconds: 600, profile: { dailyMinutes: 1 } });
    const window = await connectSocket(server.url, limited.token);
    sockets.push(window);
    const call = await ack(window, 'call:start', { profileId: limited.profileId, sdp: BROWSER_OFFER });
    await server.clock.advanceAsync(60_000, 1000);
    await expect
      .poll(async () => (await server.api.get('/api/calls', limited.token)).body.calls[0]?.endedAt)
      .not.toBe(null);
    expect(call).toMatchObject({ callId: expect.any(String) });
    expect((await readiness(limited.token)).profiles[0]?.block).toBe('daily_limit_reached');

    const restricted = await readyParent(server, { seconds: 600 });
    expect((await server.api.post('/api/me/restrict', { restricted: true }, restricted.token)).status).toBeLessThan(
      300,
    );
    expect((await readiness(restricted.token)).profiles[0]?.block).toBe('processing_restricted');
  });

  it('shows a parent only their own children and calls, and nothing without a session', async () => {
    const a = await readyParent(server, { seconds: 600 });
    const b = await signUpParent(server.api);
    const window = await connectSocket(server.url, a.token);
    sockets.push(window);
    const started = await ack(window, 'call:start', { profileId: a.profileId, sdp: BROWSER_OFFER });
    expect(await readiness(b.token)).toEqual({ balanceSeconds: 0, availableSeconds: 0, live: [], profiles: [] });
    expect((await server.api.get('/api/calls/readiness')).status).toBe(401);
    await ack(window, 'call:end', { callId: started.callId });
  });
});

describe('GET /api/calls/:id', () => {
  it("tells a page that was away what became of its call: live, then ended with the reason and the seconds charged; never another family's", async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const other = await readyParent(server, { seconds: 600 });
    const window = await connectSocket(server.url, parent.token);
    sockets.push(window);
    const started = await ack(window, 'call:start', { profileId: parent.profileId, sdp: BROWSER_OFFER });
    const live = await server.api.get(`/api/calls/${started.callId}`, parent.token);
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ id: started.callId, profileId: parent.profileId, endedAt: null, reason: null });
    const foreign = await server.api.get(`/api/calls/${started.callId}`, other.token);
    const missing = await server.api.get('/api/calls/no-such-call', other.token);
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'not_found']);
    expect(foreign.body).toEqual(missing.body);
    expect(await ack(window, 'call:end', { callId: started.callId })).toEqual({ ok: true });
    await expect
      .poll(async () => (await server.api.get(`/api/calls/${started.callId}`, parent.token)).body.reason)
      .toBe('hangup');
    const ended = await server.api.get(`/api/calls/${started.callId}`, parent.token);
    expect(ended.body).toMatchObject({ endedAt: expect.any(String), seconds: expect.any(Number) });
    expect((await server.api.get(`/api/calls/${started.callId}`)).status).toBe(401);
  });
});
