import { randomUUID } from 'node:crypto';
import type { RealtimeProvider, SantaSessionConfig, StartedCall } from '../../server/realtime/provider.js';
import { RealtimeProviderError } from '../../server/realtime/provider.js';
import { ControlChannel } from '../../server/realtime/control-channel.js';
import { systemClock, type Clock } from '../../server/core/clock.js';
import { REALTIME_SERVICE, SantaConversation } from '../../server/realtime/simulated/santa-conversation.js';
import { SantaScript } from '../../server/realtime/simulated/santa-script.js';

/**
 * The shape of a browser's offer for a call: one audio track and the oai-events data channel,
 * with ICE and DTLS (what the server's offer check accepts).
 */
export const BROWSER_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:bench',
  'a=ice-pwd:benchbenchbenchbenchbench',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtpmap:111 opus/48000/2',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:bench',
  'a=ice-pwd:benchbenchbenchbenchbench',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass',
  'a=mid:1',
  'a=sctp-port:5000',
  '',
].join('\r\n');

const ANSWER_SDP = BROWSER_OFFER.replace(/a=setup:actpass/g, 'a=setup:active');

export interface FakeRealtimeProviderOptions {
  /**
   * Answer the control channel as the Realtime service does over time (default): a
   * response.create is generated, done, then played out (`output_audio_buffer.stopped`),
   * session.update, truncate and delete are answered. `false`: a silent channel that takes
   * what the server sends and never answers, for benchmarks of the broker alone.
   */
  conversation?: boolean;
  /** Timers of the conversation. */
  clock?: Clock;
}

/**
 * A realtime provider that answers every offer after a fixed delay, without WebRTC: tests get
 * calls with a control channel that behaves like the service's sideband (the browser's data
 * channel and audio are not there), and benchmarks measure the server's own work around the
 * provider (broker overhead, metering) with a silent one.
 */
export class FakeRealtimeProvider implements RealtimeProvider {
  readonly kind = 'simulated' as const;
  private readonly calls = new Map<string, ControlChannel>();
  started = 0;

  constructor(
    private readonly latencyMs = 0,
    private readonly options: FakeRealtimeProviderOptions = {},
  ) {}

  get live(): number {
    return this.calls.size;
  }

  async startCall(_offerSdp: string, session: SantaSessionConfig, signal?: AbortSignal): Promise<StartedCall> {
    if (this.latencyMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.latencyMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new RealtimeProviderError('aborted', 'aborted'));
        });
      });
    }
    const providerCallId = `fake_${randomUUID()}`;
    let conversation: SantaConversation | null = null;
    const control = new ControlChannel(
      (event) => conversation?.handle(event),
      () => conversation?.close(),
    );
    if (this.options.conversation ?? true) {
      const script = new SantaScript({
        language: session.language,
        childName: session.childName,
        wishList: session.wishList,
      });
      const config = {
        type: 'realtime',
        instructions: session.instructions,
        output_modalities: ['audio'],
        audio: { output: { voice: session.voice } },
      };
      conversation = new SantaConversation(
        script,
        this.options.clock ?? systemClock,
        { wordMs: 20, greetingDelayMs: 0, turnGapMs: null, replyDelayMs: 20 },
        { emit: (e) => control.emit(e), voice: () => undefined },
        config,
        REALTIME_SERVICE,
      );
      // The sideband is open from the start; session.created comes on it at once.
      queueMicrotask(() => conversation?.open());
    }
    this.calls.set(providerCallId, control);
    control.onClose(() => {
      conversation?.close();
      this.calls.delete(providerCallId);
    });
    this.started++;
    return {
      providerCallId,
      answerSdp: ANSWER_SDP,
      control,
      session: { instructions: session.instructions, voice: session.voice, outputModalities: ['audio'] },
    };
  }

  async hangup(providerCallId: string): Promise<void> {
    this.calls.get(providerCallId)?.close();
  }

  async close(): Promise<void> {
    for (const c of [...this.calls.values()]) c.close();
  }
}
