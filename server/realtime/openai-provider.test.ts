import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai/server.js';
import { createBrowserPeer, type BrowserPeer } from '../../test/support/webrtc-peer.js';
import type { OutputAudioTranscriptDoneEvent, RealtimeServerEvent, ResponseDoneEvent } from './events.js';
import { OpenAIRealtimeProvider } from './openai-provider.js';
import { RealtimeProviderError, type SantaSessionConfig } from './provider.js';

const silentLogger = { debug: () => {}, info: () => {}, warn: () => {} };
const SESSION: SantaSessionConfig = {
  instructions: '# Role\nYou are Santa Claus ...\n<child_profile>\nname: "Emma"\n</child_profile>',
  voice: 'cedar',
  language: 'da',
  maxOutputTokens: 700,
  childName: 'Emma',
  wishList: ['en cykel'],
};

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(
  timeoutMs = 8000,
): Promise<{ fake: FakeOpenAI; provider: OpenAIRealtimeProvider; peer: BrowserPeer }> {
  const fake = await startFakeOpenAI({ persona: { language: 'da', childName: 'Emma' } });
  cleanup.push(() => fake.close());
  const provider = new OpenAIRealtimeProvider({
    apiKey: fake.apiKey,
    baseURL: fake.baseURL,
    model: 'gpt-realtime-mini',
    voice: 'sage',
    timeoutMs,
    logger: silentLogger,
  });
  cleanup.push(() => provider.close());
  const peer = await createBrowserPeer();
  cleanup.push(() => peer.close());
  return { fake, provider, peer };
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('OpenAIRealtimeProvider against the local fake, through the real openai SDK', () => {
  it('creates the call with the session config and returns the SDP answer and the id from Location', async () => {
    const { fake, provider, peer } = await setup();
    const started = await provider.startCall(peer.offerSdp, SESSION);

    expect(started.providerCallId).toMatch(/^rtc_[0-9a-f]{32}$/);
    expect(started.answerSdp.startsWith('v=0')).toBe(true);
    expect(fake.state.callRequests).toHaveLength(1);
    const request = fake.state.callRequests[0]!;
    expect(request.callId).toBe(started.providerCallId);
    expect(request.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(request.offerSdp).toBe(peer.offerSdp);
    expect(request.session).toMatchObject({
      type: 'realtime',
      model: 'gpt-realtime-mini',
      instructions: SESSION.instructions,
      max_output_tokens: 700,
      output_modalities: ['audio'],
      audio: {
        output: { voice: 'cedar' },
        input: {
          transcription: { model: 'gpt-4o-mini-transcribe', language: 'da' },
          noise_reduction: { type: 'far_field' },
        },
      },
    });
    // Tracing is off in the request itself (null disables it), not left to the service's default (P1, P3).
    expect(Object.hasOwn(request.session, 'tracing')).toBe(true);
    expect(request.session.tracing).toBeNull();
    // The sideband joined the same call, with the key, at the URL the SDK builds.
    expect(fake.state.sidebandConnections).toEqual([
      { callId: started.providerCallId, authorization: `Bearer ${fake.apiKey}` },
    ]);
  });

  it('the fake, like OpenAI, never speaks first: silence until a response.create arrives on the sideband', async () => {
    const { fake, provider, peer } = await setup();
    const started = await provider.startCall(peer.offerSdp, SESSION);
    const events: RealtimeServerEvent[] = [];
    started.control.onEvent((e) => events.push(e));
    await peer.setAnswer(started.answerSdp);
    // The call is up (data channel open, audio track flowing), yet no response begins.
    await peer.waitForEvent('session.created', 15_000);
    await peer.waitFor(() => peer.audioPackets() > 50, 15_000, 'the audio track');
    expect(peer.events.filter((e) => e.type.startsWith('response.'))).toEqual([]);
    expect(events.filter((e) => e.type.startsWith('response.'))).toEqual([]);
    expect(fake.state.sidebandClientEvents).toEqual([]);

    started.control.send({ type: 'response.create' });
    const greeting = await peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
      'response.output_audio_transcript.done',
      15_000,
    );
    expect(greeting.transcript).toContain('Emma');
    expect(fake.state.sidebandClientEvents).toEqual([
      { callId: started.providerCallId, event: { type: 'response.create' } },
    ]);
  });

  it('relays sideband events and delivers control.send; like the service, a response asked for before the browser is connected plays unheard', async () => {
    const { fake, provider, peer } = await setup();
    const started = await provider.startCall(peer.offerSdp, SESSION);
    const events: RealtimeServerEvent[] = [];
    started.control.onEvent((e) => events.push(e));
    // Asked before the browser has the answer: the service starts at once.
    started.control.send({ type: 'response.create' });
    await eventually(() => events.some((e) => e.type === 'response.done'), 'the early response on the sideband');
    const early = events.find((e): e is ResponseDoneEvent => e.type === 'response.done')!;
    expect(events.filter((e) => e.type === 'response.output_audio_transcript.delta').length).toBeGreaterThan(3);
    await peer.setAnswer(started.answerSdp);
    await peer.waitForEvent('session.created', 15_000);
    // Nothing of it reached the browser: its events and its audio went out before the peer was there.
    expect(peer.events.filter((e) => 'response_id' in e && e.response_id === early.response.id)).toEqual([]);

    started.control.send({ type: 'response.create', response: { metadata: { santa_cue: 'change_subject' } } });
    await eventually(() => fake.state.sidebandClientEvents.length === 2, 'client events at the fake');
    expect(fake.state.sidebandClientEvents).toEqual([
      { callId: started.providerCallId, event: { type: 'response.create' } },
      {
        callId: started.providerCallId,
        event: { type: 'response.create', response: { metadata: { santa_cue: 'change_subject' } } },
      },
    ]);
    await eventually(() => events.filter((e) => e.type === 'response.done').length === 2, 'steered response');
    const done = events.filter((e): e is ResponseDoneEvent => e.type === 'response.done')[1]!;
    expect(done.response.status).toBe('completed');
    // Now connected, the browser gets this one's words and its audio.
    await peer.waitForEvent<OutputAudioTranscriptDoneEvent>('response.output_audio_transcript.done', 15_000);
    await peer.waitFor(() => peer.audioPackets() > 20, 15_000, 'audio from the provider');
  });

  it('hangs up through client.realtime.calls.hangup; the sideband closes; repeated hang-ups are fine', async () => {
    const { fake, provider, peer } = await setup();
    const started = await provider.startCall(peer.offerSdp, SESSION);
    const closed: string[] = [];
    started.control.onClose((reason) => closed.push(reason));
    await provider.hangup(started.providerCallId);
    expect(fake.state.hangups).toEqual([started.providerCallId]);
    expect(fake.state.calls.size).toBe(0);
    await eventually(() => closed.length === 1, 'control closed');
    expect(closed).toEqual(['closed']);
    // Already gone at the provider (400 call_id_not_found for an ended call, 404 for an unknown one):
    // still a successful, idempotent hang-up.
    await expect(provider.hangup(started.providerCallId)).resolves.toBeUndefined();
    await expect(provider.hangup('rtc_never_existed')).resolves.toBeUndefined();
    expect(fake.state.hangups).toEqual([started.providerCallId, started.providerCallId, 'rtc_never_existed']);
  });

  it('turns a 429 into rate_limited (with Retry-After) and a 500 into provider_unavailable', async () => {
    const { fake, provider, peer } = await setup();
    fake.fail('calls', { status: 429, retryAfterSeconds: 7 });
    const limited = await provider.startCall(peer.offerSdp, SESSION).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RealtimeProviderError);
    expect(limited).toMatchObject({ code: 'rate_limited', status: 429, retryAfterSeconds: 7 });

    fake.fail('calls', { status: 500 });
    await expect(provider.startCall(peer.offerSdp, SESSION)).rejects.toMatchObject({
      code: 'provider_unavailable',
      status: 500,
    });
    expect(fake.state.calls.size).toBe(0);
  });

  it('turns a provider that does not answer in time into timeout', async () => {
    const { fake, provider, peer } = await setup(300);
    fake.fail('calls', { delayMs: 3000 });
    await expect(provider.startCall(peer.offerSdp, SESSION)).rejects.toMatchObject({ code: 'timeout' });
  });

  it('a call the provider already ended is hung up without a warning (400 call_id_not_found, 404, 410 mean done)', async () => {
    const warnings: string[] = [];
    const fake = await startFakeOpenAI();
    cleanup.push(() => fake.close());
    const provider = new OpenAIRealtimeProvider({
      apiKey: fake.apiKey,
      baseURL: fake.baseURL,
      logger: { ...silentLogger, warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') },
    });
    cleanup.push(() => provider.close());
    const peer = await createBrowserPeer();
    cleanup.push(() => peer.close());
    const started = await provider.startCall(peer.offerSdp, SESSION);
    // The provider ends the call on its own (the child closed the window, the session cap).
    await fake.state.calls.get(started.providerCallId)!.close('closed');
    await expect(provider.hangup(started.providerCallId)).resolves.toBeUndefined();
    fake.fail('hangup', { status: 410 });
    await expect(provider.hangup(started.providerCallId)).resolves.toBeUndefined();
    expect(warnings).toEqual([]);
    // A real failure is still one.
    fake.fail('hangup', { status: 500, times: 5 });
    await expect(provider.hangup(started.providerCallId)).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('retries the sideband briefly when the service does not know the call yet (404) or fails (5xx)', async () => {
    const { fake, provider, peer } = await setup();
    fake.fail('sideband', { status: 404 });
    fake.fail('sideband', { status: 502 });
    const started = await provider.startCall(peer.offerSdp, SESSION);
    expect(fake.state.sidebandConnections).toEqual([
      { callId: started.providerCallId, authorization: `Bearer ${fake.apiKey}` },
    ]);
    expect(fake.state.hangups).toEqual([]);
    // The call is controllable: a client event reaches the provider.
    started.control.send({ type: 'response.create' });
    await eventually(() => fake.state.sidebandClientEvents.length === 1, 'the client event');
  });

  it('hangs the call up again when the sideband cannot be opened', async () => {
    const { fake, provider, peer } = await setup();
    fake.fail('sideband', { status: 503, times: 10 });
    await expect(provider.startCall(peer.offerSdp, SESSION)).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(fake.state.hangups).toHaveLength(1);
    expect(fake.state.calls.size).toBe(0);
  });

  it('maps a wrong key to unauthorized, a refused offer to invalid_sdp and an abort to aborted', async () => {
    const { fake, peer } = await setup();
    const wrongKey = new OpenAIRealtimeProvider({ apiKey: 'sk-wrong', baseURL: fake.baseURL, logger: silentLogger });
    await expect(wrongKey.startCall(peer.offerSdp, SESSION)).rejects.toMatchObject({
      code: 'unauthorized',
      status: 401,
    });

    const provider = new OpenAIRealtimeProvider({ apiKey: fake.apiKey, baseURL: fake.baseURL, logger: silentLogger });
    const noAudio = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
    await expect(provider.startCall(noAudio, SESSION)).rejects.toMatchObject({ code: 'invalid_sdp', status: 400 });
    await expect(provider.startCall('hello', SESSION)).rejects.toMatchObject({ code: 'invalid_sdp' });

    const controller = new AbortController();
    controller.abort();
    await expect(provider.startCall(peer.offerSdp, SESSION, controller.signal)).rejects.toMatchObject({
      code: 'aborted',
    });
  });

  it('refuses a plain-http base URL that is not loopback (the key would travel in clear)', () => {
    expect(
      () => new OpenAIRealtimeProvider({ apiKey: 'k', baseURL: 'http://example.com/v1', logger: silentLogger }),
    ).toThrow(/https/);
    expect(
      () => new OpenAIRealtimeProvider({ apiKey: 'k', baseURL: 'https://api.openai.com/v1', logger: silentLogger }),
    ).not.toThrow();
    expect(
      () => new OpenAIRealtimeProvider({ apiKey: 'k', baseURL: 'http://localhost:9999/v1', logger: silentLogger }),
    ).not.toThrow();
  });
});
