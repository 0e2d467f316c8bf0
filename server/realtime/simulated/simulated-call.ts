import { MediaStreamTrack, RtpHeader, RtpPacket, RTCPeerConnection, type RTCDataChannel } from 'werift';
import type { Locale } from '../../../shared/locales.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { parseClientEvent, type RealtimeClientEvent, type RealtimeServerEvent } from '../events.js';
import { RealtimeProviderError } from '../provider.js';
import { keepLoopbackCandidates, peerNetworkConfig, type PeerNetworkOptions } from './loopback.js';
import { answerDirection, describeOffer } from './offer.js';
import { keepLegitimateCandidates, localIPv4Addresses } from './candidates.js';
import {
  FRAME_MS,
  FRAME_SAMPLES,
  OPUS_SILENCE_FRAME,
  OpusFrameEncoder,
  SantaVoiceSynth,
  type VoiceMode,
} from './santa-audio.js';
import {
  SantaConversation,
  SIMULATED_SANTA,
  type ContextItem,
  type ConversationBehaviour,
  type ConversationPacing,
} from './santa-conversation.js';
import { SantaScript } from './santa-script.js';

export interface SimulatedCallInit extends PeerNetworkOptions {
  id: string;
  offerSdp: string;
  language: Locale;
  childName: string;
  wishList: readonly string[];
  /** What session.created reports (voice, model, ...). */
  session: Record<string, unknown>;
  /** Simulated Santa's departures from the real service (default), or none (the test fake of OpenAI). */
  behaviour?: ConversationBehaviour;
  pacing: ConversationPacing;
  clock: Clock;
  /** The browser must open the data channel within this time, or the call ends. */
  connectTimeoutMs: number;
  logger?: Pick<Logger, 'debug' | 'warn'>;
}

export type CallEndReason = 'closed' | 'error';

const OPUS_PAYLOAD_TYPE = 111;
// Events for a channel that is not open yet wait here; a runaway client cannot grow it.
const MAX_QUEUED_EVENTS = 500;
// Catch up after a late timer, but never flood the link with a backlog.
const MAX_FRAMES_PER_TICK = 5;
// How long a closing data channel may take to tell the browser before the peer goes.
const CHANNEL_CLOSE_GRACE_MS = 500;

/**
 * One Simulated Santa call: a werift peer that answers the browser's offer, plays Santa's
 * generated Opus voice on the audio track, and speaks oai-events on the `oai-events` data
 * channel. The same server events go to every listener (the server's control channel, or
 * a fake OpenAI sideband), and client events from any of them are handled alike.
 */
export class SimulatedCall {
  readonly id: string;
  answerSdp = '';
  /** RTP packets of Santa's voice handed to the transport, and of the child's audio received. */
  audioPacketsSent = 0;
  audioPacketsReceived = 0;

  private readonly pc: RTCPeerConnection;
  private readonly track = new MediaStreamTrack({ kind: 'audio' });
  private readonly synth = new SantaVoiceSynth();
  private readonly encoder = new OpusFrameEncoder();
  private readonly conversation: SantaConversation;
  private readonly listeners = new Set<(event: RealtimeServerEvent) => void>();
  private readonly endListeners = new Set<(reason: CallEndReason) => void>();
  private channel: RTCDataChannel | null = null;
  private queued: string[] = [];
  private audioTimer: TimerHandle | null = null;
  private jingleTimer: TimerHandle | null = null;
  private connectTimer: TimerHandle | null;
  private audioStartedAt = 0;
  private framesSent = 0;
  private sequence = 0;
  private markNext = true;
  private ended: CallEndReason | null = null;

  private constructor(private readonly init: SimulatedCallInit) {
    this.id = init.id;
    this.pc = new RTCPeerConnection({ ...peerNetworkConfig(init), bundlePolicy: 'max-bundle' });
    const script = new SantaScript({ language: init.language, childName: init.childName, wishList: init.wishList });
    this.conversation = new SantaConversation(
      script,
      init.clock,
      init.pacing,
      {
        emit: (event) => this.broadcast(event),
        voice: (mode) => this.setVoice(mode),
      },
      init.session,
      init.behaviour ?? SIMULATED_SANTA,
    );
    this.connectTimer = init.clock.setTimeout(() => {
      this.connectTimer = null;
      if (this.channel?.readyState !== 'open') this.close('error');
    }, init.connectTimeoutMs);
  }

  /** Answer the browser's offer. Rejects with RealtimeProviderError('invalid_sdp') for an offer Santa cannot take. */
  static async answer(init: SimulatedCallInit): Promise<SimulatedCall> {
    const shape = describeOffer(init.offerSdp);
    if (!shape.audioDirection || !shape.hasDataChannel) {
      throw new RealtimeProviderError('invalid_sdp', 'The offer needs an audio m-line and a data channel');
    }
    const call = new SimulatedCall(init);
    try {
      await call.negotiate(shape.audioDirection);
      return call;
    } catch (error) {
      call.close('error');
      if (error instanceof RealtimeProviderError) throw error;
      throw new RealtimeProviderError('invalid_sdp', 'The offer could not be answered', { cause: error });
    }
  }

  private async negotiate(offered: NonNullable<ReturnType<typeof describeOffer>['audioDirection']>): Promise<void> {
    const pc = this.pc;
    pc.onDataChannel.subscribe((channel) => this.attachChannel(channel));
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.startAudio();
      else if (state === 'failed') this.close('error');
      else if (state === 'closed') this.close('closed');
    });
    // The child's microphone: werift announces the remote track while the offer is applied.
    pc.onTrack.subscribe((track) => {
      if (track.kind !== 'audio') return;
      track.onReceiveRtp.subscribe(() => {
        this.audioPacketsReceived++;
      });
    });
    // werift never sees a candidate a browser would not offer this peer (candidates.ts).
    const offer = keepLegitimateCandidates(this.init.offerSdp, {
      loopbackOnly: this.init.loopbackOnly ?? true,
      localAddresses: localIPv4Addresses(),
    });
    if (offer.dropped > 0)
      this.init.logger?.debug({ callId: this.id, dropped: offer.dropped }, 'offer candidates cut by the network rule');
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    const transceiver = pc.getTransceivers().find((t) => t.kind === 'audio');
    if (!transceiver) throw new RealtimeProviderError('invalid_sdp', 'The offer has no usable audio m-line');
    const direction = answerDirection(offered);
    transceiver.setDirection(direction);
    if (direction === 'sendrecv' || direction === 'sendonly') await transceiver.sender.replaceTrack(this.track);
    // werift resolves setLocalDescription only after ICE gathering, so the answer is complete.
    await pc.setLocalDescription(await pc.createAnswer());
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new RealtimeProviderError('provider_unavailable', 'No local description after answering');
    this.answerSdp = (this.init.loopbackOnly ?? true) ? keepLoopbackCandidates(sdp) : sdp;
  }

  // ---- data channel ------------------------------------------------------------------

  private attachChannel(channel: RTCDataChannel): void {
    if (channel.label !== 'oai-events' || this.channel || this.ended) return;
    this.channel = channel;
    channel.onMessage.subscribe((data) => {
      const event = parseClientEvent(typeof data === 'string' ? data : data.toString('utf8'));
      if (event) this.handleClientEvent(event);
      else this.init.logger?.debug({ callId: this.id }, 'ignored a data channel message that is not a client event');
    });
    channel.stateChanged.subscribe((state) => {
      if (state === 'open') this.channelOpen();
      else if (state === 'closed') this.close('closed');
    });
    if (channel.readyState === 'open') this.channelOpen();
  }

  private channelOpen(): void {
    this.connectTimer?.cancel();
    this.connectTimer = null;
    const queued = this.queued;
    this.queued = [];
    for (const message of queued) this.channel?.send(message);
    this.conversation.open();
  }

  /** A client event from the browser, the server's control channel or a sideband. */
  handleClientEvent(event: RealtimeClientEvent): void {
    if (this.ended) return;
    this.conversation.handle(event);
  }

  /**
   * The child says something into the microphone. Speech needs audio: an utterance on a call
   * whose microphone track never delivered a packet cannot happen, and throws.
   */
  childSpoke(text: string, options: { transcription?: 'ok' | 'failed' } = {}): void {
    if (this.ended) throw new Error('the call is over');
    if (this.audioPacketsReceived === 0) throw new Error('no audio from the browser: nobody can have spoken');
    this.conversation.childSpoke(text, options);
  }

  /** The conversation the model reads (for tests). */
  context(): ContextItem[] {
    return this.conversation.context();
  }

  /** The session as the provider holds it now (for tests). */
  session(): Record<string, unknown> {
    return this.conversation.currentSession();
  }

  onServerEvent(listener: (event: RealtimeServerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onEnded(listener: (reason: CallEndReason) => void): () => void {
    if (this.ended) {
      const reason = this.ended;
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private broadcast(event: RealtimeServerEvent): void {
    if (this.ended) return;
    const message = JSON.stringify(event);
    if (this.channel?.readyState === 'open') this.channel.send(message);
    // Simulated Santa keeps early events for the channel; the service's are lost for a browser not connected yet.
    else if ((this.init.behaviour ?? SIMULATED_SANTA).holdUntilOpen && this.queued.length < MAX_QUEUED_EVENTS)
      this.queued.push(message);
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.init.logger?.warn({ callId: this.id, err: (error as Error).name }, 'a simulated call listener threw');
      }
    }
  }

  // ---- audio -------------------------------------------------------------------------

  private setVoice(mode: VoiceMode): void {
    if (mode !== 'silent' && this.synth.currentMode === 'silent') this.markNext = true;
    this.synth.setMode(mode);
  }

  private startAudio(): void {
    if (this.audioTimer || this.ended) return;
    this.audioStartedAt = this.init.clock.now();
    this.framesSent = 0;
    // A short sleigh-bell jingle says "connected" before Santa speaks (Simulated Santa's own
    // touch: the service sends nothing until the model speaks).
    if (this.synth.currentMode === 'silent' && (this.init.behaviour ?? SIMULATED_SANTA).holdUntilOpen) {
      this.setVoice('bells');
      this.jingleTimer = this.init.clock.setTimeout(() => {
        this.jingleTimer = null;
        if (this.synth.currentMode === 'bells') this.setVoice('silent');
      }, 1000);
    }
    this.audioTimer = this.init.clock.setInterval(() => this.pumpAudio(), FRAME_MS);
  }

  /** Send every frame that is due by the clock, so timer jitter does not slow the stream. */
  private pumpAudio(): void {
    const due = Math.floor((this.init.clock.now() - this.audioStartedAt) / FRAME_MS) + 1;
    let budget = MAX_FRAMES_PER_TICK;
    while (this.framesSent < due && budget-- > 0) this.sendFrame();
    if (this.framesSent < due) this.framesSent = due; // drop what cannot be caught up
  }

  private sendFrame(): void {
    // Silence needs no encoder (santa-audio.ts OPUS_SILENCE_FRAME); the stream keeps its pace either way.
    const payload =
      this.synth.currentMode === 'silent'
        ? Buffer.from(OPUS_SILENCE_FRAME)
        : this.encoder.encode(this.synth.nextFrame());
    const header = new RtpHeader({
      payloadType: OPUS_PAYLOAD_TYPE,
      sequenceNumber: this.sequence,
      timestamp: (this.framesSent * FRAME_SAMPLES) >>> 0,
      marker: this.markNext,
    });
    this.markNext = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.framesSent++;
    this.track.writeRtp(new RtpPacket(header, payload));
    this.audioPacketsSent++;
  }

  // ---- the end -----------------------------------------------------------------------

  get isEnded(): boolean {
    return this.ended !== null;
  }

  /**
   * Stop everything: timers, conversation, encoder, data channel and peer. Idempotent; the
   * promise settles when the peer is closed. The data channel is closed first and given a
   * moment to tell the browser (werift tears down DTLS before SCTP on a peer close, which
   * would swallow the channel's goodbye).
   */
  close(reason: CallEndReason = 'closed'): Promise<void> {
    if (this.ended) return this.peerClosed;
    this.ended = reason;
    this.connectTimer?.cancel();
    this.audioTimer?.cancel();
    this.jingleTimer?.cancel();
    this.conversation.close();
    this.encoder.close();
    this.track.stop();
    this.queued = [];
    const listeners = [...this.endListeners];
    this.endListeners.clear();
    this.listeners.clear();
    for (const listener of listeners) listener(reason);
    this.peerClosed = this.closePeer();
    return this.peerClosed;
  }

  private peerClosed: Promise<void> = Promise.resolve();

  private async closePeer(): Promise<void> {
    const channel = this.channel;
    if (channel && channel.readyState === 'open') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CHANNEL_CLOSE_GRACE_MS);
        timer.unref?.();
        channel.stateChanged.subscribe((state) => {
          if (state === 'closed') {
            clearTimeout(timer);
            resolve();
          }
        });
        try {
          channel.close();
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    await this.pc
      .close()
      .catch((error: unknown) =>
        this.init.logger?.debug({ callId: this.id, err: (error as Error).name }, 'peer close failed'),
      );
  }
}
