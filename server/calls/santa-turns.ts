import type { Clock, TimerHandle } from '../core/clock.js';
import type { RealtimeControl } from '../realtime/provider.js';

/** Longest a steering instruction waits for Santa's turn to end when the provider never says it ended. */
const STUCK_TURN_MS = 60_000;

export interface SantaTurnsDeps {
  clock: Clock;
  /** How long to wait for a cancelled or requested response before Santa is told what to say next. */
  responseSettleMs?: number;
  /**
   * How long Santa's audio may still play after its generation ended, at most, when the
   * provider never says `output_audio_buffer.stopped`. Default 30 s (a long answer).
   */
  playbackSettleMs?: number;
}

/**
 * Santa's turn-taking on one call's control channel. Only one response may run at a time, and
 * over WebRTC a response has two ends: `response.done` ends its generation, and its audio
 * plays on until `output_audio_buffer.stopped` (or `.cleared`). Santa "stopped talking" when
 * the audio stopped: instructions queue behind the response being generated, played or
 * requested, and a response can be stopped. Timers stand in for a provider that never reports
 * an end.
 */
export class SantaTurns {
  /** The response being generated now, if any. */
  private activeResponseId: string | null = null;
  /** The response whose audio may still be playing (generation over or not). */
  private playingResponseId: string | null = null;
  private playbackTimer: TimerHandle | null = null;
  /** Santa was asked to speak first; at most once per call. */
  private greeted = false;
  /** A response.create went out and no response.created has answered it yet. */
  private responseRequested = false;
  private requestTimer: TimerHandle | null = null;
  private settleTimer: TimerHandle | null = null;
  /** A provider that never reports the end of Santa's turn must not hold his next instruction for ever. */
  private stuckTimer: TimerHandle | null = null;
  /** An interrupting instruction came before the requested response began: stop it when it does. */
  private cancelNextResponse = false;
  /** Responses that were stopped: their remaining words are not relayed. */
  private readonly stopped = new Set<string>();
  /** Items the model must no longer read (a stopped response's), deleted once each. */
  private readonly deletedItems = new Set<string>();
  /** Instructions for Santa's next turn, sent once Santa is silent. */
  private pendingInstructions: string[] = [];
  private closed = false;

  constructor(
    private readonly deps: SantaTurnsDeps,
    private readonly control: RealtimeControl,
    /** Ids for the server's own conversation items, so foreign ones can be told apart. */
    private readonly itemId: () => string = () => `sys_${Math.random().toString(36).slice(2, 14)}`,
  ) {}

  /**
   * Ask Santa to speak first. The Realtime model only answers the child's audio unless a
   * response.create tells it to respond, so without this the child would sit in silence until
   * they spoke. The session's instructions say how to greet; Simulated Santa follows the same
   * protocol. Sent once per call: a resumed call window or a second call sends nothing more.
   */
  greet(): void {
    if (this.greeted || this.closed) return;
    this.greeted = true;
    this.requestResponse();
  }

  get hasGreeted(): boolean {
    return this.greeted;
  }

  isStopped(responseId: string): boolean {
    return this.stopped.has(responseId);
  }

  /** response.created: the requested response began; its audio will play. */
  responseCreated(responseId: string): void {
    this.activeResponseId = responseId;
    this.playingResponseId = responseId;
    this.playbackTimer?.cancel();
    this.playbackTimer = null;
    this.responseRequested = false;
    this.requestTimer?.cancel();
    this.requestTimer = null;
    if (this.cancelNextResponse) {
      this.cancelNextResponse = false;
      this.stop(responseId, []);
    }
  }

  /**
   * response.done: generation is over; its audio may play for a while yet. `outputItemIds`
   * are the response's items: a stopped response's are removed from the conversation.
   */
  responseDone(responseId: string, outputItemIds: string[], playbackHintMs: number): void {
    if (this.stopped.has(responseId)) this.deleteItems(outputItemIds);
    if (this.activeResponseId === responseId || this.activeResponseId === null) this.activeResponseId = null;
    if (this.playingResponseId === responseId) {
      this.playbackTimer?.cancel();
      // Without a word from the provider, the audio is over by then at the latest.
      this.playbackTimer = this.deps.clock.setTimeout(
        () => {
          this.playbackTimer = null;
          if (this.playingResponseId === responseId) this.playingResponseId = null;
          this.maybeFlush();
        },
        Math.min(playbackHintMs, this.deps.playbackSettleMs ?? 30_000),
      );
    }
    this.maybeFlush();
  }

  /** output_audio_buffer.stopped or .cleared: Santa is silent. */
  audioStopped(responseId: string | null): void {
    if (responseId !== null && this.playingResponseId !== responseId) return;
    this.playingResponseId = null;
    this.playbackTimer?.cancel();
    this.playbackTimer = null;
    this.maybeFlush();
  }

  /**
   * Stop a response that must not go on (the guardrail tripped on it), whether it is still
   * generated or only still playing; what Santa is told next waits until it is silent.
   */
  stopTripped(responseId: string, itemIds: string[]): void {
    this.stop(responseId, itemIds);
  }

  /**
   * Tell Santa what to do next. While a response is generated, playing or requested (the
   * greeting, say) the instruction waits for it to end (or stops it when `interrupt`), with a
   * timer in case the provider never reports the end.
   */
  say(instruction: string, interrupt: boolean): void {
    this.pendingInstructions.push(instruction);
    if (this.idle()) {
      this.flushInstructions();
      return;
    }
    if (interrupt) {
      const speaking = this.activeResponseId ?? this.playingResponseId;
      if (speaking !== null) this.stop(speaking, []);
      else this.cancelNextResponse = true;
      this.settleTimer ??= this.deps.clock.setTimeout(() => {
        this.settleTimer = null;
        this.silenced();
      }, this.settleMs());
    }
    this.stuckTimer ??= this.deps.clock.setTimeout(() => {
      this.stuckTimer = null;
      this.silenced();
    }, STUCK_TURN_MS);
  }

  /** The call is ending: nothing more is sent, no timer stays. */
  close(): void {
    this.closed = true;
    for (const t of [this.settleTimer, this.requestTimer, this.playbackTimer, this.stuckTimer]) t?.cancel();
    this.settleTimer = this.requestTimer = this.playbackTimer = this.stuckTimer = null;
  }

  private idle(): boolean {
    return this.activeResponseId === null && this.playingResponseId === null && !this.responseRequested;
  }

  /**
   * Stop a response in the order the API documents: cancel its generation (answered
   * response_cancel_not_active when it is already generated: expected), remove its words from
   * the conversation the model reads, so Santa cannot build on what he never finished, then
   * clear the audio WebRTC would still play.
   */
  private stop(responseId: string, itemIds: string[]): void {
    if (this.stopped.has(responseId)) {
      this.deleteItems(itemIds);
      return;
    }
    this.stopped.add(responseId);
    this.control.send({ type: 'response.cancel', response_id: responseId });
    this.deleteItems(itemIds);
    this.control.send({ type: 'output_audio_buffer.clear' });
  }

  private deleteItems(itemIds: string[]): void {
    for (const id of itemIds) {
      if (this.deletedItems.has(id) || this.closed) continue;
      this.deletedItems.add(id);
      this.control.send({ type: 'conversation.item.delete', item_id: id });
    }
  }

  private settleMs(): number {
    return this.deps.responseSettleMs ?? 3000;
  }

  /** The provider never reported the end of what was stopped: treat Santa as silent. */
  private silenced(): void {
    this.settleTimer?.cancel();
    this.settleTimer = null;
    this.stuckTimer?.cancel();
    this.stuckTimer = null;
    this.activeResponseId = null;
    this.playingResponseId = null;
    this.playbackTimer?.cancel();
    this.playbackTimer = null;
    this.flushInstructions();
  }

  private maybeFlush(): void {
    if (this.activeResponseId !== null || this.playingResponseId !== null) return;
    this.settleTimer?.cancel();
    this.settleTimer = null;
    this.stuckTimer?.cancel();
    this.stuckTimer = null;
    this.flushInstructions();
  }

  /** One response.create; until its response.created comes back, instructions wait behind it. */
  private requestResponse(): void {
    this.responseRequested = true;
    this.control.send({ type: 'response.create' });
    this.requestTimer?.cancel();
    // A request the provider refused or lost must not hold Santa's next instructions forever.
    this.requestTimer = this.deps.clock.setTimeout(() => {
      this.requestTimer = null;
      this.responseRequested = false;
      this.cancelNextResponse = false;
      if (this.activeResponseId === null && this.playingResponseId === null) this.flushInstructions();
    }, this.settleMs());
  }

  private flushInstructions(): void {
    if (this.pendingInstructions.length === 0 || this.closed || this.responseRequested) return;
    this.stuckTimer?.cancel();
    this.stuckTimer = null;
    const instructions = this.pendingInstructions;
    this.pendingInstructions = [];
    for (const text of instructions) {
      this.control.send({
        type: 'conversation.item.create',
        item: { id: this.itemId(), type: 'message', role: 'system', content: [{ type: 'input_text', text }] },
      });
    }
    this.requestResponse();
  }
}
