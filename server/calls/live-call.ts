import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import type { CallEndReason } from '../../shared/schemas/calls.js';
import type { Store } from '../store/types.js';
import type { Notifier } from '../sockets/hub.js';
import type { ExpectedSession, RealtimeControl } from '../realtime/provider.js';
import type { CallCloser, CallClosed } from './call-closer.js';
import { CallMeter } from './call-meter.js';
import { CallConversation, type CallGuard } from './call-conversation.js';

export type { CallGuard } from './call-conversation.js';

/** What ends a call when its held seconds run out: whichever limit decided how many were held. */
export type CallLimitReason = Extract<
  CallEndReason,
  'credit_exhausted' | 'max_duration' | 'daily_limit' | 'quiet_hours'
>;

export interface LiveCallDeps {
  clock: Clock;
  logger: Logger;
  store: Store;
  notifier: Pick<Notifier, 'toAccount'>;
  /** The one closing path: every end of this call goes through it. */
  closer: Pick<CallCloser, 'close'>;
  /** How often the metered seconds are written to the call record. */
  checkpointSeconds: number;
  /** How long before the end Santa is asked to wrap up (shortened for short calls). */
  wrapUpSeconds: number;
  /** How long to wait for a cancelled response to finish before Santa is told what to say next. */
  responseSettleMs?: number;
  /**
   * Santa greets when the call window says its connection is up (call:connected), so the
   * greeting is heard; if it never says so, this long after metering began. Default 8 s.
   */
  greetFallbackMs?: number;
}

export interface LiveCallInit {
  callId: string;
  accountId: string;
  profileId: string;
  language: Locale;
  heldSeconds: number;
  limitReason: CallLimitReason;
  providerCallId: string;
  control: RealtimeControl;
  guard: CallGuard;
  /** The call window's socket: call:end from it is the child's hang-up; losing it starts the grace timer. */
  windowSocketId: string;
  /** The provider's session as set up for this call: kept so, or the call ends. */
  session?: ExpectedSession;
}

export type CallEndResult = CallClosed;

/**
 * One call live in this process: its meter (ticks, wrap-up, checkpoints, the end at zero),
 * its conversation with Santa (relay, guardrail, turns), the call window's socket and its
 * grace period. It ends once, whatever ends it, through the closing path.
 */
export class LiveCall {
  readonly id: string;
  readonly accountId: string;
  readonly profileId: string;
  readonly heldSeconds: number;
  readonly providerCallId: string;
  private readonly meter: CallMeter;
  private readonly conversation: CallConversation;
  private readonly offClose: () => void;
  private windowSocketId: string;
  private graceTimer: TimerHandle | null = null;
  private greetTimer: TimerHandle | null = null;
  private ending: Promise<CallEndResult> | null = null;
  private readonly endListeners: ((call: LiveCall, result: CallEndResult) => void)[] = [];

  constructor(
    private readonly deps: LiveCallDeps,
    private readonly init: LiveCallInit,
  ) {
    this.id = init.callId;
    this.accountId = init.accountId;
    this.profileId = init.profileId;
    this.heldSeconds = init.heldSeconds;
    this.providerCallId = init.providerCallId;
    this.windowSocketId = init.windowSocketId;
    this.conversation = new CallConversation(deps, {
      callId: init.callId,
      accountId: init.accountId,
      language: init.language,
      control: init.control,
      guard: init.guard,
      ...(init.session ? { session: init.session } : {}),
      onTampered: () => void this.end('session_tampered'),
    });
    this.meter = new CallMeter(deps, {
      callId: init.callId,
      accountId: init.accountId,
      profileId: init.profileId,
      heldSeconds: init.heldSeconds,
      onWrapUp: () => this.conversation.wrapUp(),
      onUsedUp: () => void this.end(init.limitReason),
    });
    this.offClose = init.control.onClose((why) => {
      if (this.ending) return;
      this.deps.logger.warn({ callId: this.id, why }, 'realtime control channel closed during the call');
      void this.end('provider_error');
    });
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

  onEnded(listener: (call: LiveCall, result: CallEndResult) => void): void {
    this.endListeners.push(listener);
  }

  /**
   * Metering begins now (the ack). Santa greets once the call window says it is connected
   * (`greet`); should it never say so, after `greetFallbackMs`.
   */
  start(): void {
    if (this.ending) return;
    this.meter.start();
    this.greetTimer ??= this.deps.clock.setTimeout(() => {
      this.greetTimer = null;
      this.greet();
    }, this.deps.greetFallbackMs ?? 8000);
  }

  /**
   * Santa speaks first, once per call (call:resume never greets again). Asked when the call
   * window's peer is connected: the service speaks as soon as asked, and words spoken before
   * the browser is there are lost, so the paid call would open in silence.
   */
  greet(): void {
    this.greetTimer?.cancel();
    this.greetTimer = null;
    if (!this.ending) this.conversation.greet();
  }

  elapsedSeconds(at?: number): number {
    return this.meter.elapsedSeconds(at);
  }

  remainingSeconds(): number {
    return this.meter.remainingSeconds();
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

  // ---- the end ---------------------------------------------------------------------

  /** End the call, whatever the reason, exactly once; a second call returns the first end's result. */
  end(reason: CallEndReason): Promise<CallEndResult> {
    this.ending ??= this.finish(reason);
    return this.ending;
  }

  private async finish(reason: CallEndReason): Promise<CallEndResult> {
    const endedAt = this.deps.clock.now();
    const seconds = this.meter.elapsedSeconds(endedAt);
    // Everything of this process stops first: no tick, turn or grace timer outlives the call.
    this.meter.stop();
    this.graceTimer?.cancel();
    this.graceTimer = null;
    this.greetTimer?.cancel();
    this.greetTimer = null;
    this.offClose();
    this.conversation.close();
    this.init.control.close();

    const closed = await this.deps.closer.close({
      callId: this.id,
      accountId: this.accountId,
      reason,
      meteredSeconds: seconds,
      endedAt,
      announce: true,
      providerCallId: this.providerCallId,
    });
    // Null: the record was closed elsewhere first, and whoever closed it told the account.
    const result = closed ?? { reason, seconds };
    for (const l of this.endListeners) l(this, result);
    return result;
  }
}
