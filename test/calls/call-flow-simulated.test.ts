/* eslint-disable @typescript-eslint/no-explicit-any -- socket payloads are checked with the shared schemas */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { FakeClock } from '../../server/core/clock.js';
import { SimulatedSantaProvider } from '../../server/realtime/simulated-santa.js';
import { SANTA_LINES } from '../../server/santa/lines.js';
import {
  callEndedSchema,
  callListSchema,
  callStartedEventSchema,
  callTickSchema,
  callTranscriptSchema,
  callWarningSchema,
  type CallStartOk,
} from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createBrowserPeer, type BrowserPeer } from '../support/webrtc-peer.js';
import { ack, callLedger, connectSocket, eventually, EventLog, readyParent, type ReadyParent } from './support.js';
import { assertNoTraces, type Secrets } from './traces.js';

/**
 * The whole call over socket.io against Simulated Santa: a werift "browser" offers audio and
 * the oai-events channel, the server brokers the SDP, meters on its (fake) clock, relays
 * transcripts, runs the guardrail, and settles the ledger exactly once, whatever ends the call.
 */
let server: TestServer;
let clock: FakeClock;
let provider: SimulatedSantaProvider;
const sockets: Socket[] = [];
const peers: BrowserPeer[] = [];
const secrets: Secrets = { texts: [], sdps: [], tokens: [] };

beforeAll(async () => {
  clock = new FakeClock();
  provider = new SimulatedSantaProvider({
    clock,
    pacing: { wordMs: 40, greetingDelayMs: 100, turnGapMs: null, replyDelayMs: 100 },
  });
  server = await startTestServer({ clock, app: { realtime: provider } });
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const p of peers.splice(0)) await p.close();
});
afterAll(async () => {
  await server.stop();
  // After every call of this file: no transcript, SDP or token in the data files or the logs.
  assertNoTraces(server, secrets);
  await server.close();
});

async function socketOf(token: string): Promise<{ socket: Socket; log: EventLog }> {
  const socket = await connectSocket(server.url, token);
  sockets.push(socket);
  secrets.tokens.push(token);
  return { socket, log: new EventLog(socket) };
}

async function newPeer(): Promise<BrowserPeer> {
  const peer = await createBrowserPeer();
  peers.push(peer);
  secrets.sdps.push(peer.offerSdp);
  return peer;
}

/** Let fake time pass in 20 ms steps (Santa's audio frames and words), with real time for the network. */
async function pump(ms: number, stepMs = 20): Promise<void> {
  await clock.advanceAsync(ms, stepMs);
}

async function pumpUntil(condition: () => boolean, what: string, maxFakeMs = 30_000): Promise<void> {
  const realDeadline = Date.now() + 20_000;
  let fake = 0;
  while (!condition()) {
    if (fake > maxFakeMs || Date.now() > realDeadline) throw new Error(`timed out waiting for ${what}`);
    await pump(100);
    fake += 100;
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function startCall(parent: ReadyParent, window: Socket, peer: BrowserPeer): Promise<CallStartOk> {
  const res = callStartAckSchema.parse(
    await ack(window, 'call:start', { profileId: parent.profileId, sdp: peer.offerSdp }),
  );
  if ('error' in res) throw new Error(`call:start refused: ${res.error.code}`);
  secrets.sdps.push(res.sdp);
  await peer.setAnswer(res.sdp);
  return res;
}

describe('a call with Simulated Santa', () => {
  it('is the provider when no OpenAI key is set', async () => {
    const plain = await startTestServer();
    try {
      expect(plain.app.services.calls.providerKind).toBe('simulated');
    } finally {
      await plain.close();
    }
  });

  it('flows end to end: audio and oai-events, live relay to the side panel, metered, wrapped up and hung up at zero credit, settled once', async () => {
    const parent = await readyParent(server, { seconds: 120, profile: { name: 'Ada', wishList: ['a red kite'] } });
    const panel = await socketOf(parent.token);
    const window = await socketOf(parent.token);
    const peer = await newPeer();

    const started = await startCall(parent, window.socket, peer);
    expect(started.availableSeconds).toBe(120);
    expect(callStartedEventSchema.parse(await panel.log.wait('call:started'))).toEqual({
      callId: started.callId,
      profileId: parent.profileId,
      profileName: 'Ada',
      availableSeconds: 120,
      simulated: true,
    });
    expect((await server.app.services.credits.state(parent.accountId)).availableSeconds).toBe(0);

    // The media path and the data channel come up; Santa greets the child by name and speaks.
    await peer.waitForEvent('session.created', 15_000);
    await pumpUntil(() => peer.audioPackets() > 25, 'Santa audio');
    expect(peer.peakAudioLevel()).toBeGreaterThan(100);
    await pumpUntil(
      () => panel.log.of('call:transcript').some((t) => t.final && t.speaker === 'santa'),
      'a whole Santa line on the side panel',
    );
    const greeting = panel.log
      .of('call:transcript')
      .map((t) => callTranscriptSchema.parse(t))
      .find((t) => t.final)!;
    expect(greeting).toMatchObject({ callId: started.callId, speaker: 'santa', text: SANTA_LINES.en.greeting('Ada') });
    secrets.texts.push(greeting.text);
    expect(peer.events.some((e) => e.type === 'response.output_audio_transcript.delta')).toBe(true);
    expect(peer.audioPacketsSent()).toBeGreaterThan(0);
    expect(provider.audioStats(await providerCallIdOf(started.callId))?.received).toBeGreaterThan(0);

    // Ticks from the server clock reach both sockets.
    await pumpUntil(
      () =>
        panel.log.of('call:tick').length > 0 && window.log.of('call:tick').length === panel.log.of('call:tick').length,
      'a tick',
    );
    const tick = callTickSchema.parse(panel.log.of('call:tick').at(-1));
    expect(tick).toMatchObject({ callId: started.callId, profileId: parent.profileId });
    expect(tick.remainingSeconds + tick.elapsedSeconds).toBe(120);
    expect(window.log.of('call:tick').length).toBe(panel.log.of('call:tick').length);

    // 40 s before the end (a third of a 2-minute call) Santa wraps up; at zero the call ends.
    const toWrap = 120 - 40 - tick.elapsedSeconds;
    await pump(toWrap * 1000, 500);
    const warning = callWarningSchema.parse(await panel.log.wait('call:warning'));
    expect(warning).toEqual({ callId: started.callId, kind: 'time_low', remainingSeconds: 40 });
    await pumpUntil(
      () =>
        peer.events.some(
          (e) => e.type === 'response.output_audio_transcript.done' && (e as any).transcript === SANTA_LINES.en.wrapUp,
        ),
      'the wrap-up line',
    );
    secrets.texts.push(SANTA_LINES.en.wrapUp);
    await clock.advanceAsync(45_000, 1000);
    const ended = callEndedSchema.parse(await panel.log.wait('call:ended'));
    expect(ended).toEqual({ callId: started.callId, reason: 'credit_exhausted', seconds: 120 });
    await window.log.wait('call:ended');
    expect(window.log.of('call:ended')).toHaveLength(1);
    expect(panel.log.of('call:ended')).toHaveLength(1);

    // Hung up at the provider, settled once, recorded.
    expect(provider.openCalls).toBe(0);
    expect(await callLedger(server, started.callId)).toEqual(['capture:120', 'hold:120', 'release:0']);
    expect(await server.app.services.credits.state(parent.accountId)).toMatchObject({
      balanceSeconds: 0,
      availableSeconds: 0,
      heldSeconds: 0,
    });
    const history = callListSchema.parse((await server.api.get('/api/calls', parent.token)).body);
    expect(history.calls).toEqual([
      {
        id: started.callId,
        profileId: parent.profileId,
        startedAt: expect.any(String),
        endedAt: expect.any(String),
        seconds: 120,
        reason: 'credit_exhausted',
      },
    ]);
    expect(server.app.services.calls.liveCount()).toBe(0);
    // A late end changes nothing.
    expect(await ack(window.socket, 'call:end', { callId: started.callId })).toEqual({ ok: true });
    expect(await callLedger(server, started.callId)).toEqual(['capture:120', 'hold:120', 'release:0']);
  });

  it("alerts the parent when the child's words signal distress, and Santa answers with the gentle line", async () => {
    const parent = await readyParent(server, { seconds: 600 });
    const panel = await socketOf(parent.token);
    const window = await socketOf(parent.token);
    const peer = await newPeer();
    const started = await startCall(parent, window.socket, peer);
    await peer.waitForEvent('session.created', 15_000);
    const words = 'my dad hits me when he gets angry';
    secrets.texts.push(words);
    // Simulated Santa takes a user text item as the child's speech (its transcription).
    peer.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: words }] },
    });
    await pumpUntil(() => panel.log.of('call:warning').length > 0, 'the distress alert');
    expect(panel.log.of('call:warning').map((w) => callWarningSchema.parse(w))).toEqual([
      { callId: started.callId, kind: 'safety', category: 'child_distress' },
    ]);
    expect(JSON.stringify(panel.log.of('call:warning'))).not.toContain('hits');
    await pumpUntil(
      () =>
        peer.events.some(
          (e) =>
            e.type === 'response.output_audio_transcript.done' && (e as any).transcript === SANTA_LINES.en.distress,
        ),
      "Santa's gentle line",
    );
    secrets.texts.push(SANTA_LINES.en.distress);
    // The child's words were relayed to the parent live, and nowhere else.
    expect(panel.log.of('call:transcript')).toContainEqual({
      callId: started.callId,
      speaker: 'child',
      text: words,
      final: true,
    });
    expect(await ack(panel.socket, 'call:end', { callId: started.callId })).toEqual({ ok: true });
    expect(callEndedSchema.parse(await window.log.wait('call:ended')).reason).toBe('parent');
  });

  it('one call per child; the side panel ends it as the parent, the window as a hang-up; another parent can neither end nor take it', async () => {
    const parent = await readyParent(server, { seconds: 900 });
    const stranger = await readyParent(server, { seconds: 900 });
    const panel = await socketOf(parent.token);
    const window = await socketOf(parent.token);
    const strangerSocket = await socketOf(stranger.token);
    const peer = await newPeer();
    const started = await startCall(parent, window.socket, peer);

    const second = await newPeer();
    expect(await ack(panel.socket, 'call:start', { profileId: parent.profileId, sdp: second.offerSdp })).toMatchObject({
      error: { code: 'call_in_progress' },
    });
    // Another parent: their call:start on this child is not_found, their call:end too, and the call runs on.
    expect(
      await ack(strangerSocket.socket, 'call:start', { profileId: parent.profileId, sdp: second.offerSdp }),
    ).toMatchObject({ error: { code: 'not_found' } });
    expect(await ack(strangerSocket.socket, 'call:end', { callId: started.callId })).toMatchObject({
      error: { code: 'call_not_found' },
    });
    expect(await ack(strangerSocket.socket, 'call:resume', { callId: started.callId })).toMatchObject({
      error: { code: 'call_not_found' },
    });
    await pump(3000);
    expect(server.app.services.calls.liveCount()).toBe(1);
    expect(strangerSocket.log.of('call:tick')).toEqual([]);
    expect(strangerSocket.log.of('call:started')).toEqual([]);
    expect(await callLedger(server, started.callId)).toEqual([`hold:900`]);

    expect(await ack(window.socket, 'call:end', { callId: started.callId })).toEqual({ ok: true });
    expect(callEndedSchema.parse(await panel.log.wait('call:ended'))).toMatchObject({ reason: 'hangup', seconds: 3 });
    expect(await callLedger(server, started.callId)).toEqual(['capture:3', 'hold:900', 'release:897']);
    expect((await server.app.services.credits.state(parent.accountId)).availableSeconds).toBe(897);
    expect((await server.app.services.credits.state(stranger.accountId)).availableSeconds).toBe(900);
  });

  it("ends as disconnected when the call window's socket stays away past the grace period, unless it resumes", async () => {
    const parent = await readyParent(server, { seconds: 900 });
    const panel = await socketOf(parent.token);
    const window = await socketOf(parent.token);
    const peer = await newPeer();
    const started = await startCall(parent, window.socket, peer);
    await peer.waitForEvent('session.created', 15_000);

    const windowGone = () =>
      eventually(
        () => server.app.services.calls.liveCalls().find((c) => c.callId === started.callId)?.windowConnected === false,
        5000,
        'the server to see the window go',
      );
    window.socket.disconnect();
    await windowGone();
    await pump(10_000);
    const back = await socketOf(parent.token);
    expect(await ack(back.socket, 'call:resume', { callId: started.callId })).toEqual({
      ok: true,
      remainingSeconds: 890,
    });
    expect(server.app.services.calls.liveCalls().find((c) => c.callId === started.callId)?.windowConnected).toBe(true);
    await pump(30_000, 500);
    expect(server.app.services.calls.liveCount()).toBe(1);

    back.socket.disconnect();
    await windowGone();
    await pump(19_000, 500);
    expect(panel.log.of('call:ended')).toEqual([]);
    await pump(1000);
    expect(callEndedSchema.parse(await panel.log.wait('call:ended'))).toEqual({
      callId: started.callId,
      reason: 'disconnected',
      seconds: 60,
    });
    expect(await callLedger(server, started.callId)).toEqual(['capture:60', 'hold:900', 'release:840']);
  });

  it('two calls racing for one call worth of credit: exactly one starts', async () => {
    const parent = await readyParent(server, { seconds: 90 });
    const second = await server.api.post('/api/profiles', { name: 'Bo', age: 8, language: 'en' }, parent.token);
    const a = await socketOf(parent.token);
    const b = await socketOf(parent.token);
    const [pa, pb] = await Promise.all([newPeer(), newPeer()]);
    const answers = await Promise.all([
      ack(a.socket, 'call:start', { profileId: parent.profileId, sdp: pa.offerSdp }),
      ack(b.socket, 'call:start', { profileId: second.body.id, sdp: pb.offerSdp }),
    ]);
    const ok = answers.filter((x) => 'callId' in x);
    const refused = answers.filter((x) => 'error' in x);
    expect(ok).toHaveLength(1);
    // The winner's hold (taken before its provider answers) is a sibling's call holding the time: credit_held, not "no call time".
    expect(refused).toEqual([{ error: { code: 'credit_held', message: expect.any(String) } }]);
    expect(ok[0].availableSeconds).toBe(90);
    const holds = (await server.app.store.ledger.findBy('accountId', parent.accountId)).filter(
      (e) => e.kind === 'hold',
    );
    expect(holds.map((h) => h.seconds)).toEqual([90]);
    expect(await server.app.store.calls.findBy('accountId', parent.accountId)).toHaveLength(1);
    await server.app.services.calls.endCall(ok[0].callId, 'admin');
    expect(await callLedger(server, ok[0].callId)).toEqual(['capture:0', 'hold:90', 'release:90']);
  });

  it('restricting processing or an admin end stops live calls at once and settles them', async () => {
    const parent = await readyParent(server, { seconds: 900 });
    const panel = await socketOf(parent.token);
    const window = await socketOf(parent.token);
    const started = await startCall(parent, window.socket, await newPeer());
    await pump(7000);
    expect((await server.api.post('/api/me/restrict', { restricted: true }, parent.token)).status).toBe(200);
    expect(callEndedSchema.parse(await panel.log.wait('call:ended'))).toEqual({
      callId: started.callId,
      reason: 'restricted',
      seconds: 7,
    });
    expect(await callLedger(server, started.callId)).toEqual(['capture:7', 'hold:900', 'release:893']);
    expect(provider.openCalls).toBe(0);
    expect((await server.api.post('/api/me/restrict', { restricted: false }, parent.token)).status).toBe(200);

    const again = await startCall(parent, window.socket, await newPeer());
    await pump(2000);
    expect(await server.app.services.calls.endCall(again.callId, 'admin')).toBe(true);
    expect(await server.app.services.calls.endCall(again.callId, 'admin')).toBe(false);
    expect(callEndedSchema.parse(await panel.log.wait('call:ended', (e) => e.callId === again.callId))).toMatchObject({
      reason: 'admin',
      seconds: 2,
    });
    expect(await callLedger(server, again.callId)).toEqual(['capture:2', 'hold:893', 'release:891']);
  });

  it('a graceful shutdown ends every live call as server_shutdown and settles it', async () => {
    const clock2 = new FakeClock();
    const provider2 = new SimulatedSantaProvider({ clock: clock2 });
    const other = await startTestServer({ clock: clock2, app: { realtime: provider2 } });
    try {
      const parent = await readyParent(other, { seconds: 600 });
      const window = await connectSocket(other.url, parent.token);
      sockets.push(window);
      const peer = await newPeer();
      const res = callStartAckSchema.parse(
        await ack(window, 'call:start', { profileId: parent.profileId, sdp: peer.offerSdp }),
      );
      if ('error' in res) throw new Error(res.error.code);
      await clock2.advanceAsync(12_000, 1000);
      await other.stop();
      expect(provider2.openCalls).toBe(0);
      const reopened = await other.restart();
      try {
        expect(await reopened.app.store.calls.get(res.callId)).toMatchObject({
          reason: 'server_shutdown',
          meteredSeconds: 12,
        });
        expect(
          (await reopened.app.store.ledger.findBy('callId', res.callId)).map((e) => `${e.kind}:${e.seconds}`).sort(),
        ).toEqual(['capture:12', 'hold:600', 'release:588']);
      } finally {
        await reopened.close();
      }
    } finally {
      await other.close();
    }
  });
});

async function providerCallIdOf(callId: string): Promise<string> {
  const row = await server.app.store.calls.get(callId);
  if (!row?.providerCallId) throw new Error('no provider call id');
  return row.providerCallId;
}
