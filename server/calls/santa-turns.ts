import type { Clock, TimerHandle } from '../core/clock.js';
import type { RealtimeControl } from '../realtime/provider.js';

export interface SantaTurnsDeps {
  clock: Clock;
  /** How long to wait for a cancelled or requested response before Santa is told what to say next. */
  responseSettleMs?: number;
}

/**
 * Santa's turn-taking on one call's control channel: only one response may run at a time, so
 * instructions queue behind the response being spoken (or requested), and a response can be
 * stopped. Timers stand in for a provider that never reports a response's end.
 */
export class SantaTurns {
  /** The response Santa is speaking now, if any. */
  private activeResponseId: string | null = null;
  /** Santa was asked to speak first; at most once per call. */
  private greeted = false;
  /** A response.create went out and no response.created has answered it yet. */
  private responseRequested = false;
  private requestTimer: TimerHandle | null = null;
  private settleTimer: TimerHandle | null = null;
  /** An interrupting instruction came before the requested response began: stop it when it does. */
  private cancelNextResponse = false;
  /** Responses that were stopped: their remaining words are not relayed. */
  private readonly stopped = new Set<string>();
  /** Instructions for Santa's next turn, sent once no response is active. */
  private pendingInstructions: string[] = [];
  private closed = false;

  constructor(
    private readonly deps: SantaTurnsDeps,
    private readonly control: RealtimeControl,
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

  isStopped(responseId: string): boolean {
    return this.stopped.has(responseId);
  }

  /** response.created: the requested response began. */
  responseCreated(responseId: string): void {
    this.activeResponseId = responseId;
    this.responseRequested = false;
    this.requestTimer?.cancel();
    this.requestTimer = null;
    if (this.cancelNextResponse) {
      this.cancelNextResponse = false;
      this.stop(responseId);
    }
  }

  /** response.done: what waited behind it goes out. */
  responseDone(responseId: string): void {
    if (this.activeResponseId === responseId || this.activeResponseId === null) this.responseFinished();
  }

  /**
   * Stop a response that must not go on (the guardrail tripped on it); what Santa is told next
   * waits until it is over, even when the trip came after its end.
   */
  stopTripped(responseId: string): void {
    this.stop(responseId);
    if (this.activeResponseId === null) this.activeResponseId = responseId;
  }

  /**
   * Tell Santa what to do next. While a response is active or requested (the greeting, say)
   * the instruction waits for it to finish (or stops it when `interrupt`), with a timer in
   * case the provider never reports the end.
   */
  say(instruction: string, interrupt: boolean): void {
    this.pendingInstructions.push(instruction);
    if (this.activeResponseId === null && !this.responseRequested) {
      this.flushInstructions();
      return;
    }
    if (interrupt) {
      if (this.activeResponseId !== null) this.stop(this.activeResponseId);
      else this.cancelNextResponse = true;
    }
    this.settleTimer ??= this.deps.clock.setTimeout(() => {
      this.settleTimer = null;
      this.responseFinished();
    }, this.settleMs());
  }

  /** The call is ending: nothing more is sent, no timer stays. */
  close(): void {
    this.closed = true;
    this.settleTimer?.cancel();
    this.settleTimer = null;
    this.requestTimer?.cancel();
    this.requestTimer = null;
  }

  /** Stop a response: cancel it and clear what WebRTC would still play of it. */
  private stop(responseId: string): void {
    if (this.stopped.has(responseId)) return;
    this.stopped.add(responseId);
    this.control.send({ type: 'response.cancel', response_id: responseId });
    // Over WebRTC audio already generated keeps playing unless the buffer is cleared.
    this.control.send({ type: 'output_audio_buffer.clear' });
  }

  private settleMs(): number {
    return this.deps.responseSettleMs ?? 3000;
  }

  private responseFinished(): void {
    this.activeResponseId = null;
    this.settleTimer?.cancel();
    this.settleTimer = null;
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
      if (this.activeResponseId === null) this.flushInstructions();
    }, this.settleMs());
  }

  private flushInstructions(): void {
    if (this.pendingInstructions.length === 0 || this.closed || this.responseRequested) return;
    const instructions = this.pendingInstructions;
    this.pendingInstructions = [];
    for (const text of instructions) {
      this.control.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'system', content: [{ type: 'input_text', text }] },
      });
    }
    this.requestResponse();
  }
}
