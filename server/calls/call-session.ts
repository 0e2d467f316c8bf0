import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import type { CallEndReason, CallEnded, CallTick, CallTranscript, CallWarning, SafetyCategory } from '../../shared/schemas/calls.js';
import type { Store } from '../store/types.js';
import type { Notifier } from '../sockets/hub.js';
import type { RealtimeControl, RealtimeProvider, RealtimeServerEvent } from '../realtime/provider.js';
import { isServerEvent } from '../realtime/events.js';
import { changeSubjectInstruction, distressResponseInstruction, wrapUpInstruction } from '../santa/persona.js';

/**
 * The live guardrail of one call, as the session needs it (the adapter over the Santa
 * safety module is in guard.ts). Local rules answer at once; a slower check (the
 * moderation endpoint) may report a trip later through `onLateTrip`.
 */
export interface CallGuard {
  /** One streamed piece of Santa's words; a category the first time this response trips. */
  santaDelta(responseId: string, delta: string): SafetyCategory | null;
  /** The response's words are complete; checks what the stream held back. */
  santaDone(responseId: string, transcript: string): SafetyCategory | null;
  /** A finished child utterance: 'child_distress' when it signals distress. */
  child(text: string): SafetyCategory | null;
  onLateTrip(listener: (responseId: string, category: SafetyCategory) => void): void;
  close(): void;
}

export interface CallSessionDeps {
  clock: Clock;
  logger: Logger;
  store: Store;
  credits: { settle(callId: string, meteredSeconds: number): Promise<{ capturedSeconds: number } | null> };
  notifier: Pick<Notifier, 'toAccount'>;
  provider: Pick<RealtimeProvider, 'hangup'>;
  /** How often the metered seconds are written to the call record. */
  checkpointSeconds: number;
  /** How long before the end Santa is asked to wrap up (shortened for short calls). */
  wrapUpSeconds: number;
  /** How long to wait for a cancelled response to finish before Santa is told what to say next. */
  responseSettleMs?: number;
}

export interface CallSessionInit {
  callId: string;
  accountId: string;
  profileId: string;
  language: Locale;
  heldSeconds: number;
  /** What ends the call when the held seconds run out. */
  limitReason: Extract<CallEndReason, 'credit_exhausted' | 'max_duration'>;
  providerCallId: string;
  control: RealtimeControl;
  guard: CallGuard;
  /** The call window's socket: call:end from it is the child's hang-up; losing it starts the grace timer. */
  windowSocketId: string;
}

export interface CallEndResult {
  reason: CallEndReason;
  seconds: number;
}

/**
 * One live call: its provider control channel, its meter on the server clock and its
 * guardrail. Nothing it sees of the conversation is stored or logged: transcripts are relayed
 * to the account's sockets and forgotten, alerts carry a category only (P1, P3).
 */
export class CallSession {
  readonly id: string;
  readonly accountId: string;
  readonly profileId: string;
  readonly heldSeconds: number;
  readonly providerCallId: string;
  private windowSocketId: string;
  private startedAt: number | null = null;
  private readonly timers = new Set<TimerHandle>();
  private graceTimer: TimerHandle | null = null;
  private settleTimer: TimerHandle | null = null;
  private wrapUpSent = false;
  private lastCheckpoint = 0;
  private ending: Promise<CallEndResult> | null = null;
  private readonly unsubscribe: (() => void)[] = [];
  /** The response Santa is speaking now, if any. */
  private activeResponseId: string | null = null;
  /** Santa was asked to speak first; at most once per call. */
  private greeted = false;
  /** A response.create went out and no response.created has answered it yet. */
  private responseRequested = false;
  private requestTimer: TimerHandle | null = null;
  /** An interrupting instruction came before the requested response began: stop it when it does. */
  private cancelNextResponse = false;
  /** Responses the guardrail stopped: their remaining words are not relayed. */
  private readonly stopped = new Set<string>();
  /** Instructions for Santa's next turn, sent once no response is active. */
  private pendingInstructions: string[] = [];
  private readonly endListeners: ((session: CallSession, result: CallEndResult) => void)[] = [];

  constructor(
    private readonly deps: CallSessionDeps,
    private readonly init: CallSessionInit,
  ) {
    this.id = init.callId;
    this.accountId = init.accountId;
    this.profileId = init.profileId;
    this.heldSeconds = init.heldSeconds;
    this.providerCallId = init.providerCallId;
    this.windowSocketId = init.windowSocketId;
    // Listen from the first moment: the provider may speak before metering begins.
    this.unsubscribe.push(init.control.onEvent((event) => this.onProviderEvent(event)));
    this.unsubscribe.push(
      init.control.onClose((why) => {
        if (this.ending) return;
        this.deps.logger.warn({ callId: this.id, why }, 'realtime control channel closed during the call');
        void this.end('provider_error');
      }),
    );
    init.guard.onLateTrip((responseId, category) => this.santaTripped(responseId, category));
  }

  get ended(): boolean {
    return this.ending !== null;
  }

  get windowSocket(): string {
    return this.windowSocketId;
  }

  /** False while the call window's socket is gone and the grace period runs. */
  get windowConnected(): boolean {
    return this.graceTimer === null;
  }

  onEnded(listener: (session: CallSession, result: CallEndResult) => void): void {
    this.endListeners.push(listener);
  }

  /** Metering begins now (the ack): every second a tick, a wrap-up near the end, hang-up at zero. */
  start(): void {
    if (this.startedAt !== null || this.ending) return;
    this.startedAt = this.deps.clock.now();
    this.timers.add(this.deps.clock.setInterval(() => this.tick(), 1000));
  }

  /**
   * Ask Santa to speak first. The Realtime model only answers the child's audio unless a
   * response.create tells it to respond, so without this the child would sit in silence until
   * they spoke. The session's instructions say how to greet; Simulated Santa follows the same
   * protocol. Sent once per call: a resumed call window (call:resume) or a second call of this
   * method sends nothing more.
   */
  greet(): void {
    if (this.greeted || this.ending) return;
    this.greeted = true;
    this.requestResponse();
  }

  elapsedSeconds(at = this.deps.clock.now()): number {
    if (this.startedAt === null) return 0;
    return Math.max(0, Math.min(this.heldSeconds, Math.floor((at - this.startedAt) / 1000)));
  }

  remainingSeconds(): number {
    return this.heldSeconds - this.elapsedSeconds();
  }

  /** Seconds before the end at which Santa wraps up: a minute, or a third of a short call. */
  private wrapUpLead(): number {
    return Math.max(1, Math.min(this.deps.wrapUpSeconds, Math.floor(this.heldSeconds / 3)));
  }

  private tick(): void {
    if (this.ending) return;
    const elapsed = this.elapsedSeconds();
    const remaining = this.heldSeconds - elapsed;
    if (remaining <= 0) {
      void this.end(this.init.limitReason);
      return;
    }
    const tick: CallTick = { callId: this.id, remainingSeconds: remaining, elapsedSeconds: elapsed, profileId: this.profileId };
    this.deps.notifier.toAccount(this.accountId, 'call:tick', tick);
    if (!this.wrapUpSent && remaining <= this.wrapUpLead()) {
      this.wrapUpSent = true;
      this.say(wrapUpInstruction(this.init.language), false);
      const warning: CallWarning = { callId: this.id, kind: 'time_low', remainingSeconds: remaining };
      this.deps.notifier.toAccount(this.accountId, 'call:warning', warning);
    }
    if (elapsed - this.lastCheckpoint >= this.deps.checkpointSeconds) this.checkpoint(elapsed);
  }

  /** The metered seconds reach the store every few seconds: what a crash would settle from. */
  private checkpoint(elapsed: number): void {
    this.lastCheckpoint = elapsed;
    const at = this.deps.clock.now();
    this.deps.store.calls
      .update(this.id, { meteredSeconds: elapsed, checkpointAt: at }, { if: (c) => c.endedAt === null })
      .catch((err: unknown) => this.deps.logger.error({ callId: this.id, err: (err as Error).message }, 'call checkpoint failed'));
  }

  // ---- sockets ---------------------------------------------------------------------

  /** Which reason a call:end from this socket carries: the window hangs up, anyone else is the parent. */
  endReasonFor(socketId: string): CallEndReason {
    return socketId === this.windowSocketId ? 'hangup' : 'parent';
  }

  /** The call window's socket is gone: the call ends unless it comes back within the grace period. */
  socketGone(socketId: string, graceSeconds: number): void {
    if (socketId !== this.windowSocketId || this.ending || this.graceTimer) return;
    this.graceTimer = this.deps.clock.setTimeout(() => {
      this.graceTimer = null;
      void this.end('disconnected');
    }, graceSeconds * 1000);
  }

  /** The call window reconnected with a new socket (call:resume). */
  attachWindow(socketId: string): void {
    this.windowSocketId = socketId;
    this.graceTimer?.cancel();
    this.graceTimer = null;
  }

  // ---- provider events -------------------------------------------------------------

  private relay(speaker: CallTranscript['speaker'], text: string, final: boolean): void {
    if (!text) return;
    const payload: CallTranscript = { callId: this.id, speaker, text, final };
    this.deps.notifier.toAccount(this.accountId, 'call:transcript', payload);
  }

  private onProviderEvent(event: RealtimeServerEvent): void {
    if (this.ending) return;
    if (isServerEvent(event, 'response.created')) {
      this.activeResponseId = event.response.id;
      this.responseRequested = false;
      this.requestTimer?.cancel();
      this.requestTimer = null;
      if (this.cancelNextResponse) {
        this.cancelNextResponse = false;
        this.stopResponse(event.response.id);
      }
    } else if (isServerEvent(event, 'response.done')) {
      if (this.activeResponseId === event.response.id || this.activeResponseId === null) this.responseFinished();
    } else if (isServerEvent(event, 'response.output_audio_transcript.delta')) {
      if (this.stopped.has(event.response_id)) return;
      this.relay('santa', event.delta, false);
      const category = this.init.guard.santaDelta(event.response_id, event.delta);
      if (category) this.santaTripped(event.response_id, category);
    } else if (isServerEvent(event, 'response.output_audio_transcript.done')) {
      if (this.stopped.has(event.response_id)) return;
      this.relay('santa', event.transcript, true);
      const category = this.init.guard.santaDone(event.response_id, event.transcript);
      if (category) this.santaTripped(event.response_id, category);
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.delta')) {
      this.relay('child', event.delta, false);
    } else if (isServerEvent(event, 'conversation.item.input_audio_transcription.completed')) {
      this.relay('child', event.transcript, true);
      if (this.init.guard.child(event.transcript) === 'child_distress') this.childDistress();
    } else if (isServerEvent(event, 'error')) {
      // The provider's error code only: its message may quote what was said.
      this.deps.logger.warn({ callId: this.id, type: event.error.type, code: event.error.code ?? null }, 'realtime provider reported an error');
    }
  }

  /** Santa said something the guardrail forbids: stop it, steer away, tell the parent which kind. */
  private santaTripped(responseId: string, category: SafetyCategory): void {
    if (this.ending || this.stopped.has(responseId)) return;
    this.deps.logger.info({ callId: this.id, category }, 'guardrail stopped a Santa response');
    this.stopResponse(responseId);
    if (this.activeResponseId === null) this.activeResponseId = responseId;
    this.say(changeSubjectInstruction(this.init.language), true);
    this.alert(category);
  }

  /** The child's words signal distress: Santa's gentle scripted line, and the parent is alerted. */
  private childDistress(): void {
    this.deps.logger.info({ callId: this.id, category: 'child_distress' }, 'child distress detected');
    this.say(distressResponseInstruction(this.init.language), true);
    this.alert('child_distress');
  }

  private alert(category: SafetyCategory): void {
    const warning: CallWarning = { callId: this.id, kind: 'safety', category };
    this.deps.notifier.toAccount(this.accountId, 'call:warning', warning);
  }

  /** Stop a response: cancel it and clear what WebRTC would still play of it. */
  private stopResponse(responseId: string): void {
    if (this.stopped.has(responseId)) return;
    this.stopped.add(responseId);
    this.init.control.send({ type: 'response.cancel', response_id: responseId });
    // Over WebRTC audio already generated keeps playing unless the buffer is cleared.
    this.init.control.send({ type: 'output_audio_buffer.clear' });
  }

  /**
   * Tell Santa what to do next. Only one response may run at a time, so while one is active or
   * requested (the greeting, say) the instruction waits for it to finish (or stops it when
   * `interrupt`), with a timer in case the provider never reports the end.
   */
  private say(instruction: string, interrupt: boolean): void {
    this.pendingInstructions.push(instruction);
    if (this.activeResponseId === null && !this.responseRequested) {
      this.flushInstructions();
      return;
    }
    if (interrupt) {
      if (this.activeResponseId !== null) this.stopResponse(this.activeResponseId);
      else this.cancelNextResponse = true;
    }
    this.settleTimer ??= this.deps.clock.setTimeout(() => {
      this.settleTimer = null;
      this.responseFinished();
    }, this.settleMs());
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
    this.init.control.send({ type: 'response.create' });
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
    if (this.pendingInstructions.length === 0 || this.ending || this.responseRequested) return;
    const instructions = this.pendingInstructions;
    this.pendingInstructions = [];
    for (const text of instructions) {
      this.init.control.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'system', content: [{ type: 'input_text', text }] },
      });
    }
    this.requestResponse();
  }

  // ---- the end ---------------------------------------------------------------------

  /**
   * End the call, whatever the reason, exactly once: hang up at the provider, settle the
   * ledger with the metered seconds, write the record, tell the account. A second call
   * returns the first end's result.
   */
  end(reason: CallEndReason): Promise<CallEndResult> {
    this.ending ??= this.finish(reason);
    return this.ending;
  }

  private async finish(reason: CallEndReason): Promise<CallEndResult> {
    const endedAt = this.deps.clock.now();
    const seconds = this.elapsedSeconds(endedAt);
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.graceTimer?.cancel();
    this.settleTimer?.cancel();
    this.requestTimer?.cancel();
    for (const off of this.unsubscribe) off();
    this.init.guard.close();
    this.init.control.close();

    const hangup = this.deps.provider.hangup(this.providerCallId).catch((err: unknown) => {
      this.deps.logger.warn({ callId: this.id, err: (err as Error).message }, 'provider hang-up failed');
    });
    let settledAt: number | null = null;
    let captured = seconds;
    try {
      const settlement = await this.deps.credits.settle(this.id, seconds);
      captured = settlement?.capturedSeconds ?? seconds;
      settledAt = this.deps.clock.now();
    } catch (err) {
      // The record stays unsettled, so the next start-up's recovery settles it.
      this.deps.logger.error({ callId: this.id, err: (err as Error).message }, 'call settlement failed');
    }
    try {
      await this.deps.store.calls.update(
        this.id,
        { endedAt, reason, meteredSeconds: captured, checkpointAt: endedAt, settledAt },
        { if: (c) => c.endedAt === null },
      );
      await this.deps.store.flush();
    } catch (err) {
      this.deps.logger.error({ callId: this.id, err: (err as Error).message }, 'writing the call record failed');
    }
    await hangup;
    const ended: CallEnded = { callId: this.id, reason, seconds: captured };
    this.deps.notifier.toAccount(this.accountId, 'call:ended', ended);
    this.deps.logger.info({ callId: this.id, reason, seconds: captured }, 'call ended');
    const result = { reason, seconds: captured };
    for (const l of this.endListeners) l(this, result);
    return result;
  }
}
