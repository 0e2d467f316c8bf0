import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { ControlChannel } from './control-channel.js';
import { RealtimeProviderError, type RealtimeProvider, type SantaSessionConfig, type StartedCall } from './provider.js';
import { DEFAULT_PACING, type ConversationPacing } from './simulated/santa-conversation.js';
import { SimulatedCall } from './simulated/simulated-call.js';

export interface SimulatedSantaOptions {
  /** Timers for audio pacing and Santa's turns (a test may pass its own). */
  clock?: Clock;
  /** Word, greeting, turn and reply timing; tests shorten these. */
  pacing?: Partial<ConversationPacing>;
  /** Only 127.0.0.1 candidates, bound to loopback (default). Turn off when the browser is on another machine. */
  loopbackOnly?: boolean;
  iceAdditionalHostAddresses?: string[];
  /** The browser must open `oai-events` within this time after the answer (default 30 s). */
  connectTimeoutMs?: number;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/**
 * "Simulated Santa", the embedded provider: a WebRTC peer on this machine that answers the
 * browser's offer with an audible generated voice and scripted, localized Santa lines over
 * the same oai-events protocol as OpenAI. The control channel is in-process: it receives
 * every server event the data channel gets, and what the server sends is handled exactly
 * like a client event from the browser. See SantaConversation for what it simulates.
 */
export class SimulatedSantaProvider implements RealtimeProvider {
  readonly kind = 'simulated' as const;
  private readonly calls = new Map<string, SimulatedCall>();
  private readonly clock: Clock;
  private readonly pacing: ConversationPacing;
  private closed = false;

  constructor(private readonly options: SimulatedSantaOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.pacing = { ...DEFAULT_PACING, ...options.pacing };
  }

  async startCall(offerSdp: string, session: SantaSessionConfig, signal?: AbortSignal): Promise<StartedCall> {
    if (this.closed) throw new RealtimeProviderError('provider_unavailable', 'Simulated Santa is shut down');
    if (signal?.aborted) throw new RealtimeProviderError('aborted', 'The call start was aborted');
    const id = `rtc_sim_${randomBytes(16).toString('hex')}`;
    const call = await SimulatedCall.answer({
      id,
      offerSdp,
      language: session.language,
      childName: session.childName,
      wishList: session.wishList,
      session: {
        model: 'simulated-santa',
        output_modalities: ['audio'],
        max_output_tokens: session.maxOutputTokens,
        audio: { output: { voice: session.voice }, input: { transcription: { model: 'simulated' } } },
      },
      pacing: this.pacing,
      clock: this.clock,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 30_000,
      loopbackOnly: this.options.loopbackOnly ?? true,
      iceAdditionalHostAddresses: this.options.iceAdditionalHostAddresses ?? [],
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
    if (signal?.aborted || this.closed) {
      void call.close('closed');
      throw new RealtimeProviderError(this.closed ? 'provider_unavailable' : 'aborted', 'The call start was aborted');
    }
    this.calls.set(id, call);
    call.onEnded(() => this.calls.delete(id));

    const control = new ControlChannel(
      (event) => call.handleClientEvent(event),
      () => unsubscribe(),
      (error) => this.options.logger?.warn({ callId: id, err: (error as Error).name }, 'a control listener threw'),
    );
    const unsubscribe = call.onServerEvent((event) => control.emit(event));
    call.onEnded((reason) => control.markClosed(reason));
    this.options.logger?.info({ providerCallId: id }, 'simulated santa answered');
    // What its session.created reports, and so what must stay (it reports no instructions).
    return {
      providerCallId: id,
      answerSdp: call.answerSdp,
      control,
      session: { voice: session.voice, outputModalities: ['audio'], transcriptionModel: 'simulated' },
    };
  }

  async hangup(providerCallId: string): Promise<void> {
    const call = this.calls.get(providerCallId);
    this.calls.delete(providerCallId);
    await call?.close('closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    const calls = [...this.calls.values()];
    this.calls.clear();
    await Promise.all(calls.map((call) => call.close('closed')));
  }

  /** Calls still open (for tests and health checks). */
  get openCalls(): number {
    return this.calls.size;
  }

  /** Audio counters of one call, for tests. */
  audioStats(providerCallId: string): { sent: number; received: number } | null {
    const call = this.calls.get(providerCallId);
    return call ? { sent: call.audioPacketsSent, received: call.audioPacketsReceived } : null;
  }
}
