/* eslint-disable @typescript-eslint/no-explicit-any -- socket payloads are checked with the shared schemas */
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEndedSchema, callTickSchema, callTranscriptSchema } from '../../shared/schemas/calls.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { ack, connectSocket, EventLog } from '../calls/support.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai/server.js';
import { Model } from '../faults/model.js';
import { call, type Target } from '../faults/workload.js';
import { freshDatabase } from '../support/postgres.js';
import { testRedisUrl } from '../support/redis.js';
import { createBrowserPeer, type BrowserPeer } from '../support/webrtc-peer.js';
import { ServerCluster } from './cluster.js';
import { readyFamily } from './family.js';

/**
 * Issue 14's cluster test: three real server processes (A, B, C) on one PostgreSQL database and
 * one Redis, calls through the OpenAI provider (a local fake every process reaches). The
 * parent's side panel is on B, the child's call window on A, and the parent's other socket on C.
 */
let fake: FakeOpenAI;
let cluster: ServerCluster;
const sockets: Socket[] = [];
const peers: BrowserPeer[] = [];
const model = new Model('cluster');

beforeAll(async () => {
  fake = await startFakeOpenAI({ persona: { language: 'en', childName: 'Ada', wishList: ['a red kite'] } });
  cluster = await ServerCluster.start({
    size: 3,
    databaseUrl: await freshDatabase('cluster'),
    redisUrl: testRedisUrl(),
    openai: fake,
    env: { CALL_CHECKPOINT_SECONDS: '1' },
  });
}, 180_000);
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const p of peers) await p.close();
  await cluster?.close();
  await fake?.close();
});

const target = (name: string): Target => ({
  url: cluster.node(name).url,
  adminToken: cluster.adminToken,
  webhookSecret: cluster.webhookSecret,
  packs: { 'pack-10': 600, 'pack-30': 1800 },
});

async function socketOn(name: string, token: string): Promise<{ socket: Socket; log: EventLog }> {
  const socket = await connectSocket(cluster.node(name).url, token);
  sockets.push(socket);
  return { socket, log: new EventLog(socket) };
}

describe('three server processes on one PostgreSQL and one Redis', () => {
  it('the side panel on B sees the ticks and transcript of a call started on A; call:end sent to C ends it; settled once', async () => {
    const family = await readyFamily(target('A'), model);
    const panel = await socketOn('B', family.token);
    const other = await socketOn('C', family.token);
    const window = await socketOn('A', family.token);

    const peer = await createBrowserPeer();
    peers.push(peer);
    const started = callStartAckSchema.parse(
      await ack(window.socket, 'call:start', { profileId: family.profileId, sdp: peer.offerSdp }, 30_000),
    );
    if ('error' in started) throw new Error(`call:start refused: ${started.error.code}`);
    const callId = started.callId;
    await peer.setAnswer(started.sdp);
    await peer.waitFor(() => peer.channelState() === 'open', 15_000, 'the data channel');
    expect(await ack(window.socket, 'call:connected', { callId })).toEqual({ ok: true });
    const providerCallId = fake.state.callRequests.find((r) => r.offerSdp === peer.offerSdp)?.callId;
    expect(providerCallId).toEqual(expect.any(String));

    // B's panel hears of the call, and its ticks, from A's meter.
    expect((await panel.log.wait('call:started', (e) => e.callId === callId)).profileId).toBe(family.profileId);
    const tick = callTickSchema.parse(
      await panel.log.wait('call:tick', (t) => t.callId === callId && t.elapsedSeconds >= 2, 15_000),
    );
    expect(tick.remainingSeconds + tick.elapsedSeconds).toBe(started.availableSeconds);
    // Santa's greeting and the child's words, as A relays them after its guard checked them.
    const greeting = callTranscriptSchema.parse(
      await panel.log.wait('call:transcript', (t) => t.callId === callId && t.speaker === 'santa' && t.final, 20_000),
    );
    expect(greeting.text).toContain('Ada');
    await fake.childSays(providerCallId!, 'I would like a red kite please');
    await panel.log.wait(
      'call:transcript',
      (t) => t.callId === callId && t.speaker === 'child' && t.final && /red kite/.test(t.text),
      20_000,
    );
    // The panel on C sees the same call.
    await other.log.wait('call:tick', (t) => t.callId === callId, 10_000);

    // The parent ends it from C: the call lives on A.
    expect(await ack(other.socket, 'call:end', { callId })).toEqual({ ok: true });
    const ended = callEndedSchema.parse(await panel.log.wait('call:ended', (e) => e.callId === callId, 15_000));
    expect(ended.reason).toBe('parent');
    expect((await window.log.wait('call:ended', (e) => e.callId === callId)).seconds).toBe(ended.seconds);
    expect(fake.state.hangups.filter((id) => id === providerCallId)).toEqual([providerCallId]);

    // Settled once, whichever process is asked.
    for (const name of ['A', 'B', 'C']) {
      const credits = await call(target(name), 'GET', '/api/credits?limit=100', { token: family.token });
      expect(credits?.status).toBe(200);
      const history = credits!.body.history as { kind: string; seconds: number; ref: string }[];
      expect(history.filter((h) => h.kind === 'capture')).toEqual([
        expect.objectContaining({ seconds: ended.seconds, ref: callId }),
      ]);
      expect(credits!.body).toMatchObject({
        balanceSeconds: 1800 - ended.seconds,
        availableSeconds: 1800 - ended.seconds,
      });
    }
    const verify = await call(target('B'), 'GET', '/admin/audit/verify', { admin: true });
    expect(verify?.body).toMatchObject({ ok: true });
  });

  it('login limits hold across the three: five wrong passwords spread over A, B and C, and every process refuses the sixth', async () => {
    const family = await readyFamily(target('C'), model);
    const login = (name: string, password: string) =>
      call(target(name), 'POST', '/api/auth/login', { body: { email: family.email, password } });
    const answers: number[] = [];
    for (const name of ['A', 'B', 'C', 'A', 'B']) answers.push((await login(name, 'not the password'))?.status ?? 0);
    expect(answers).toEqual([401, 401, 401, 401, 401]);
    for (const name of ['C', 'A', 'B']) {
      const refused = await login(name, family.password);
      expect(refused?.status, `process ${name}`).toBe(429);
      expect((refused?.body as any).error.code).toBe('rate_limited');
    }
  });
});
