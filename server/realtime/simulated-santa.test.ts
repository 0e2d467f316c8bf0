import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createBrowserPeer, type BrowserPeer } from '../../test/support/webrtc-peer.js';
import { SANTA_LINES, wrapUpInstruction } from '../santa/persona.js';
import type {
  OutputAudioTranscriptDeltaEvent,
  OutputAudioTranscriptDoneEvent,
  RealtimeServerEvent,
  ResponseDoneEvent,
} from './events.js';
import { RealtimeProviderError, type RealtimeControl, type SantaSessionConfig } from './provider.js';
import { SimulatedSantaProvider } from './simulated-santa.js';
import { REFUSED_PORTS } from './simulated/candidates.js';

const FAST = { wordMs: 10, greetingDelayMs: 30, turnGapMs: null, replyDelayMs: 20 } as const;

function session(language: 'en' | 'da' | 'sv', childName: string, wishList: string[] = []): SantaSessionConfig {
  return {
    instructions: 'unused by the simulation',
    voice: 'sage',
    language,
    maxOutputTokens: 512,
    childName,
    wishList,
  };
}

interface Harness {
  provider: SimulatedSantaProvider;
  peer: BrowserPeer;
  control: RealtimeControl;
  controlEvents: RealtimeServerEvent[];
  callId: string;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/**
 * A call with a werift "browser". With `greet`, the control channel asks Santa to speak first
 * before the browser has the answer, as the calls service does when a call starts.
 */
async function connect(
  language: 'en' | 'da' | 'sv',
  name: string,
  wishes: string[] = [],
  pacing: object = FAST,
  greet = true,
): Promise<Harness> {
  const provider = new SimulatedSantaProvider({ pacing });
  const peer = await createBrowserPeer();
  open.push(async () => {
    await peer.close();
    await provider.close();
  });
  const started = await provider.startCall(peer.offerSdp, session(language, name, wishes));
  const controlEvents: RealtimeServerEvent[] = [];
  started.control.onEvent((event) => controlEvents.push(event));
  if (greet) started.control.send({ type: 'response.create' });
  await peer.setAnswer(started.answerSdp);
  return { provider, peer, control: started.control, controlEvents, callId: started.providerCallId };
}

function transcriptDone(events: RealtimeServerEvent[], responseId?: string): OutputAudioTranscriptDoneEvent[] {
  return events.filter(
    (e): e is OutputAudioTranscriptDoneEvent =>
      e.type === 'response.output_audio_transcript.done' && (!responseId || e.response_id === responseId),
  );
}

function deltasOf(events: RealtimeServerEvent[], responseId: string): string[] {
  return events
    .filter(
      (e): e is OutputAudioTranscriptDeltaEvent =>
        e.type === 'response.output_audio_transcript.delta' && e.response_id === responseId,
    )
    .map((e) => e.delta);
}

async function waitForControl(
  h: Harness,
  predicate: (e: RealtimeServerEvent) => boolean,
  what: string,
): Promise<RealtimeServerEvent> {
  await h.peer.waitFor(() => h.controlEvents.some(predicate), 15_000, what);
  return h.controlEvents.find(predicate)!;
}

describe('Simulated Santa', () => {
  it('answers a browser offer on loopback, sends audible Opus and, asked to, greets by name on both channels (en)', async () => {
    const h = await connect('en', 'Emma', ['a red bicycle']);
    await h.peer.waitForEvent('session.created', 15_000);
    expect(h.controlEvents.some((e) => e.type === 'session.created')).toBe(true);

    const greeting = await h.peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
      'response.output_audio_transcript.done',
      15_000,
    );
    expect(greeting.transcript).toBe(SANTA_LINES.en.greeting('Emma'));
    expect(greeting.transcript).toContain('Emma');
    const dcDeltas = deltasOf(h.peer.events, greeting.response_id);
    expect(dcDeltas.length).toBeGreaterThan(3);
    expect(dcDeltas.join('').trim()).toBe(greeting.transcript);

    await waitForControl(
      h,
      (e) =>
        e.type === 'response.output_audio_transcript.done' &&
        (e as OutputAudioTranscriptDoneEvent).response_id === greeting.response_id,
      'greeting on control',
    );
    expect(deltasOf(h.controlEvents, greeting.response_id)).toEqual(dcDeltas);
    // The GA event order of one response: created, deltas, transcript done, done.
    await h.peer.waitForEvent<ResponseDoneEvent>(
      'response.done',
      15_000,
      (e) => e.response.id === greeting.response_id,
    );
    const ofGreeting = h.peer.events
      .filter(
        (e) =>
          ('response' in e && (e as ResponseDoneEvent).response.id === greeting.response_id) ||
          (e as { response_id?: string }).response_id === greeting.response_id,
      )
      .map((e) => e.type)
      .filter((t) =>
        [
          'response.created',
          'response.output_audio_transcript.delta',
          'response.output_audio_transcript.done',
          'response.done',
        ].includes(t),
      );
    expect(ofGreeting[0]).toBe('response.created');
    expect(ofGreeting.at(-1)).toBe('response.done');
    expect(ofGreeting.at(-2)).toBe('response.output_audio_transcript.done');
    expect(ofGreeting.filter((t) => t.endsWith('.delta')).length).toBe(dcDeltas.length);
    expect(
      (
        h.peer.events.find(
          (e) => e.type === 'response.done' && (e as ResponseDoneEvent).response.id === greeting.response_id,
        ) as ResponseDoneEvent
      ).response.status,
    ).toBe('completed');

    // Audio really flows both ways: Santa's voice arrives decodable and loud enough to hear.
    await h.peer.waitFor(
      () => h.peer.audioPackets() > 50 && h.peer.peakAudioLevel() > 500,
      15_000,
      'audible Santa audio',
    );
    await h.peer.waitFor(() => (h.provider.audioStats(h.callId)?.received ?? 0) > 10, 15_000, 'mic audio at Santa');
  });

  it('never speaks first: with the media flowing and the channel open, no response until a response.create', async () => {
    // Turn gaps and greeting delays far shorter than the wait: a Santa who spoke on his own would have.
    const h = await connect('en', 'Lily', ['a sledge'], { ...FAST, turnGapMs: 20 }, false);
    await h.peer.waitForEvent('session.created', 15_000);
    await h.peer.waitFor(() => h.peer.audioPackets() > 50, 15_000, 'the connect jingle on the audio track');
    expect(h.peer.events.filter((e) => e.type.startsWith('response.'))).toEqual([]);
    expect(h.controlEvents.filter((e) => e.type.startsWith('response.'))).toEqual([]);

    h.control.send({ type: 'response.create' });
    const greeting = await h.peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
      'response.output_audio_transcript.done',
      15_000,
    );
    expect(greeting.transcript).toBe(SANTA_LINES.en.greeting('Lily'));
  });

  it('offers only 127.0.0.1 candidates in its answer', async () => {
    const provider = new SimulatedSantaProvider({ pacing: FAST });
    const peer = await createBrowserPeer();
    open.push(async () => {
      await peer.close();
      await provider.close();
    });
    const started = await provider.startCall(peer.offerSdp, session('en', 'Liam'));
    const candidates = started.answerSdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    expect(candidates.length).toBeGreaterThan(0);
    for (const line of candidates) expect(line).toMatch(/ 127\.0\.0\.1 \d+ typ host/);
    expect(started.providerCallId).toMatch(/^rtc_sim_[0-9a-f]{32}$/);
  });

  it('sends no STUN check to a candidate a browser would not offer, and the call with its real one connects', async () => {
    // UDP services on 127.0.0.1 that a forged offer names as candidates: one on a well-known
    // service port (the first of REFUSED_PORTS free here), one on an ephemeral port named by
    // a host name instead of an address.
    const traps: { socket: Socket; port: number; packets: number }[] = [];
    const listen = async (ports: readonly number[]) => {
      for (const port of ports) {
        const socket = createSocket('udp4');
        const bound = await new Promise<boolean>((resolve) => {
          socket.once('error', () => resolve(false));
          socket.bind(port, '127.0.0.1', () => resolve(true));
        });
        if (!bound) {
          socket.close();
          continue;
        }
        const trap = { socket, port: socket.address().port, packets: 0 };
        socket.on('message', () => trap.packets++);
        traps.push(trap);
        return trap;
      }
      throw new Error(`none of the ports ${ports.join(', ')} is free on 127.0.0.1`);
    };
    const service = await listen(REFUSED_PORTS);
    const named = await listen([0]);
    const provider = new SimulatedSantaProvider({ pacing: FAST });
    const peer = await createBrowserPeer();
    open.push(async () => {
      await peer.close();
      await provider.close();
      for (const trap of traps) trap.socket.close();
    });
    // Listed first and with the highest priority, where the agent checks first.
    const forged = peer.offerSdp.replace(
      /^(a=candidate:)/m,
      `a=candidate:8 1 udp 2130706431 127.0.0.1 ${service.port} typ host\r\n` +
        `a=candidate:9 1 udp 2130706430 localhost ${named.port} typ host\r\n$1`,
    );
    expect(forged).toContain(` 127.0.0.1 ${service.port} typ host`);
    const started = await provider.startCall(forged, session('en', 'Liam'));
    started.control.send({ type: 'response.create' });
    await peer.setAnswer(started.answerSdp);
    await peer.waitFor(() => peer.channelState() === 'open', 15_000, 'the data channel to open');
    await peer.waitFor(() => peer.audioPackets() > 5, 15_000, "Santa's audio");
    // Checks are retransmitted for seconds; one more second shows none was sent.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(traps.map((t) => t.packets)).toEqual([0, 0]);
  });

  it('stops the current response on control.send({type: "response.cancel"})', async () => {
    const h = await connect('en', 'Noah', [], { ...FAST, wordMs: 150 }, false);
    await h.peer.waitForEvent('session.created', 15_000);
    h.control.send({ type: 'response.create' });
    const firstDelta = (await waitForControl(
      h,
      (e) => e.type === 'response.output_audio_transcript.delta',
      'first delta',
    )) as OutputAudioTranscriptDeltaEvent;
    h.control.send({ type: 'response.cancel' });
    const done = (await waitForControl(
      h,
      (e) => e.type === 'response.done' && (e as ResponseDoneEvent).response.id === firstDelta.response_id,
      'cancelled response.done',
    )) as ResponseDoneEvent;
    expect(done.response.status).toBe('cancelled');

    // A later response completes; nothing of the cancelled one arrived after its done.
    h.control.send({ type: 'response.create' });
    await waitForControl(
      h,
      (e) => e.type === 'response.done' && (e as ResponseDoneEvent).response.status === 'completed',
      'next response',
    );
    const doneIndex = h.controlEvents.indexOf(done);
    const lateDeltas = h.controlEvents
      .slice(doneIndex)
      .filter(
        (e) =>
          e.type === 'response.output_audio_transcript.delta' &&
          (e as OutputAudioTranscriptDeltaEvent).response_id === firstDelta.response_id,
      );
    expect(lateDeltas).toEqual([]);
    const cancelledDone = transcriptDone(h.controlEvents, firstDelta.response_id)[0]!;
    expect(cancelledDone.transcript.length).toBeLessThan(SANTA_LINES.en.greeting('Noah').length);

    // Cancelling with nothing active is an error event, as with OpenAI.
    h.control.send({ type: 'response.cancel' });
    await waitForControl(h, (e) => e.type === 'error', 'cancel error');
  });

  it('treats a user text item as the child speaking: transcript event, then a fitting reply', async () => {
    const h = await connect('en', 'Ava', [], FAST, false);
    await h.peer.waitForEvent('session.created', 15_000);
    h.peer.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Are you a robot?' }] },
    });
    const heard = await waitForControl(
      h,
      (e) => e.type === 'conversation.item.input_audio_transcription.completed',
      'child transcript',
    );
    expect((heard as { transcript: string }).transcript).toBe('Are you a robot?');
    const reply = await h.peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
      'response.output_audio_transcript.done',
      15_000,
    );
    expect(reply.transcript).toBe(SANTA_LINES.en.areYouReal);
  });

  it('speaks the wrap-up line when the server steers with the wrap-up instruction over control', async () => {
    const h = await connect('en', 'Oscar', [], FAST, false);
    await h.peer.waitForEvent('session.created', 15_000);
    h.control.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'system', content: [{ type: 'input_text', text: wrapUpInstruction('en') }] },
    });
    h.control.send({ type: 'response.create' });
    const line = await h.peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
      'response.output_audio_transcript.done',
      15_000,
    );
    expect(line.transcript).toBe(SANTA_LINES.en.wrapUp);
  });

  it.each([
    ['da', 'Freja', 'en ny cykel'],
    ['sv', 'Elsa', 'en hundvalp'],
  ] as const)(
    'greets in %s with the name and acknowledges a wish without promising it',
    async (language, name, wish) => {
      const h = await connect(language, name, [wish]);
      const greeting = await h.peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
        'response.output_audio_transcript.done',
        15_000,
      );
      expect(greeting.transcript).toBe(SANTA_LINES[language].greeting(name));
      expect(deltasOf(h.peer.events, greeting.response_id).length).toBeGreaterThan(3);
      await waitForControl(h, (e) => e.type === 'response.output_audio_transcript.done', 'greeting on control');
      expect(deltasOf(h.controlEvents, greeting.response_id).join('').trim()).toContain(name);

      h.control.send({ type: 'response.create' });
      const wishLine = await h.peer.waitForEvent<OutputAudioTranscriptDoneEvent>(
        'response.output_audio_transcript.done',
        15_000,
        (e) => e.response_id !== greeting.response_id,
      );
      expect(wishLine.transcript).toBe(SANTA_LINES[language].wish(wish));
      await h.peer.waitFor(() => h.peer.audioPackets() > 20, 15_000, 'audio');
    },
  );

  it('hangs up idempotently: control and data channel close, the call is gone', async () => {
    const h = await connect('en', 'Mia');
    await h.peer.waitForEvent('session.created', 15_000);
    const closed: string[] = [];
    h.control.onClose((reason) => closed.push(reason));
    await h.provider.hangup(h.callId);
    expect(closed).toEqual(['closed']);
    expect(h.control.closed).toBe(true);
    expect(h.provider.openCalls).toBe(0);
    await h.peer.waitFor(() => h.peer.channelState() === 'closed', 15_000, 'data channel closed');
    await expect(h.provider.hangup(h.callId)).resolves.toBeUndefined();
    await expect(h.provider.hangup('rtc_sim_unknown')).resolves.toBeUndefined();
  });

  it('close() ends every call and refuses new ones', async () => {
    const h = await connect('sv', 'Alva');
    await h.peer.waitForEvent('session.created', 15_000);
    const closed: string[] = [];
    h.control.onClose((reason) => closed.push(reason));
    await h.provider.close();
    expect(closed).toEqual(['closed']);
    expect(h.provider.openCalls).toBe(0);
    await expect(h.provider.startCall(h.peer.offerSdp, session('sv', 'Alva'))).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
  });

  it('refuses an offer without audio or without a data channel as invalid_sdp', async () => {
    const provider = new SimulatedSantaProvider({ pacing: FAST });
    open.push(() => provider.close());
    const noDataChannel =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n';
    const error = await provider.startCall(noDataChannel, session('en', 'Leo')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RealtimeProviderError);
    expect((error as RealtimeProviderError).code).toBe('invalid_sdp');
    await expect(provider.startCall('not an sdp', session('en', 'Leo'))).rejects.toMatchObject({ code: 'invalid_sdp' });
    expect(provider.openCalls).toBe(0);
  });
});
