import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import type { CallEndReason } from '../../shared/schemas/calls.js';
import type { Store } from '../store/types.js';
import type { CallLimitReason } from '../store/rows.js';
import type { Notifier } from '../sockets/hub.js';
import type { ExpectedSession, RealtimeControl } from '../realtime/provider.js';
import type { CallCloser, CallClosed } from './call-closer.js';
import type { CallRow } from '../store/rows.js';
import { CallMeter, type MeterOrigin } from './call-meter.js';
import { CallConversation, type CallGuard } from './call-conversation.js';

export type { CallGuard } from './call-conversation.js';

/** What ends a call when its held seconds run out: whichever limit decided how many were held. */
export type { CallLimitReason } from '../store/rows.js';

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
  /** This process's id: the owner the call's record names while this process runs it. */
  processId: string;
  /** How long each checkpoint extends this process's lease on the call. */
  leaseMs: number;
  /** How long the call window may be away before the call ends (a window on a process that is gone, too). */
  graceSeconds: number;
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
  /**
   * The call window's socket: call:end from it is the child's hang-up; losing it starts the
   * grace timer. null on a call taken over while its window was on the process that died:
   * the grace period runs until the window resumes somewhere.
   */
  windowSocketId: string | null;
  /**
   * Sockets the window is known to have left (at a takeover: its socket on the process that is
   * gone). A record that still names one was read before the window moved on, and is ignored.
   */
  formerWindowSocketIds?: readonly string[];
  /** The provider's session as set up for this call: kept so, or the call ends. */
  session?: ExpectedSession;
  /**
   * A call taken over from another process: metering goes on from its last checkpoint, and
   * Santa, who greeted long ago, does not greet again.
   */
  takenOver?: MeterOrigin;
}

/** Why a live call stopped in this process without ending: it runs on, elsewhere. */
export type CallRelease = 'lease_lost' | 'handed_over' | 'halted';

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
  private windowSocketId: string | null;
  /**
   * Sockets the call window has left for a newer one. A record naming one of them was read
   * before the move reached the store (a checkpoint in flight while the window resumed here,
   * the old process's late word that its socket is gone): old news, which would take the window
   * away from its new socket (the child's hang-up counted as the parent's) or run the grace
   * period for a window that is connected.
   */
  private readonly formerWindows: Set<string>;
  private graceTimer: TimerHandle | null = null;
  private greetTimer: TimerHandle | null = null;
  private ending: Promise<CallEndResult> | null = null;
  /** Set when the call stopped here without ending (lease lost, handed over): nothing more happens here. */
  private released: CallRelease | null = null;
  private readonly endListeners: ((call: LiveCall, result: CallEndResult) => void)[] = [];
  private readonly releaseListeners: ((call: LiveCall, why: CallRelease) => void)[] = [];

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
    this.formerWindows = new Set(init.formerWindowSocketIds);
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
      onLeaseLost: () => this.release('lease_lost'),
      onRecord: (row) => this.applyRecord(row),
    });
    this.offClose = init.control.onClose((why) => {
      if (this.ending || this.released) return;
      this.deps.logger.warn({ callId: this.id, why }, 'realtime control channel closed during the call');
      void this.end('provider_error');
    });
  }

  /** Ended, or no longer this process's: either way nothing more happens to it here. */
  get ended(): boolean {
    return this.ending !== null || this.released !== null;
  }

  get windowSocket(): string | null {
    return this.windowSocketId;
  }

  /** False while the call window's socket is gone and the grace period runs. */
  get windowConnected(): boolean {
    return this.graceTimer === null;
  }

  onEnded(listener: (call: LiveCall, result: CallEndResult) => void): void {
    this.endListeners.push(listener);
  }

  /** The call stopped here without ending: it is another process's now (or will be at once). */
  onReleased(listener: (call: LiveCall, why: CallRelease) => void): void {
    this.releaseListeners.push(listener);
  }

  /**
   * Metering begins now (the ack). Santa greets once the call window says it is connected
   * (`greet`); should it never say so, after `greetFallbackMs`.
   */
  start(): void {
    if (this.ended) return;
    if (this.init.takenOver) {
      this.meter.start(this.init.takenOver);
      // The window was on the process that is gone: it has the grace period to resume here or anywhere.
      if (this.windowSocketId === null) this.startGrace(this.deps.graceSeconds);
      return;
    }
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
    if (!this.ended && !this.init.takenOver) this.conversation.greet();
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
    if (socketId !== this.windowSocketId || this.ended || this.graceTimer) return;
    this.startGrace(graceSeconds);
    this.recordWindow({ processId: this.deps.processId, socketId, connected: false });
  }

  /** The call window reconnected with a new socket (call:resume) on this process. */
  attachWindow(socketId: string): void {
    this.windowAttached(socketId);
    this.recordWindow({ processId: this.deps.processId, socketId, connected: true });
  }

  private windowAttached(socketId: string): void {
    this.moveWindow(socketId);
    this.graceTimer?.cancel();
    this.graceTimer = null;
  }

  private moveWindow(socketId: string): void {
    if (this.windowSocketId !== null && this.windowSocketId !== socketId) this.formerWindows.add(this.windowSocketId);
    this.windowSocketId = socketId;
  }

  private startGrace(graceSeconds: number): void {
    if (this.graceTimer) return;
    this.graceTimer = this.deps.clock.setTimeout(() => {
      this.graceTimer = null;
      void this.end('disconnected');
    }, graceSeconds * 1000);
  }

  /**
   * Where the window is, in the record: a process taking the call over needs to know. That
   * its socket here is gone is written only while the record still has it here (or nowhere):
   * the window may already have resumed on another process, which wrote so first.
   */
  private recordWindow(window: NonNullable<CallRow['window']>): void {
    const stillHere = (c: CallRow) =>
      window.connected ||
      c.window === null ||
      (c.window.processId === window.processId && c.window.socketId === window.socketId);
    this.deps.store.calls
      .update(this.id, { window }, { if: (c) => c.endedAt === null && stillHere(c) })
      .catch((err: unknown) =>
        this.deps.logger.warn({ callId: this.id, err: (err as Error).message }, 'recording the call window failed'),
      );
  }

  /**
   * The record as a checkpoint (or a poke from another process) read it: what other processes
   * asked of this call. An end requested elsewhere ends it here, charged up to when it was
   * asked; a window on another process is followed (connected: no grace; gone: the grace runs).
   */
  applyRecord(row: CallRow): void {
    if (this.ended || row.ownerId !== this.deps.processId) return;
    if (row.endRequest) {
      void this.end(row.endRequest.reason, row.endRequest.at);
      return;
    }
    const w = row.window;
    if (!w || w.processId === this.deps.processId || this.formerWindows.has(w.socketId)) return;
    this.moveWindow(w.socketId);
    if (w.connected) this.windowAttached(w.socketId);
    else this.startGrace(this.deps.graceSeconds);
  }

  // ---- the end ---------------------------------------------------------------------

  /**
   * End the call, whatever the reason, exactly once; a second call returns the first end's
   * result. `at`: when the end was asked for on another process (charged up to then, not later).
   */
  end(reason: CallEndReason, at?: number): Promise<CallEndResult> {
    if (this.released && !this.ending) return Promise.resolve({ reason, seconds: this.meter.elapsedSeconds() });
    this.ending ??= this.finish(reason, at);
    return this.ending;
  }

  /** Everything of this process stops: no tick, turn, grace timer or listener outlives the call here. */
  private stopHere(): void {
    this.meter.stop();
    this.graceTimer?.cancel();
    this.graceTimer = null;
    this.greetTimer?.cancel();
    this.greetTimer = null;
    this.offClose();
    this.conversation.close();
    // Only this process's side of the control channel: the provider's call goes on (hang-up is the closer's).
    this.init.control.close();
  }

  /**
   * The call is no longer this process's (its lease was lost: another process took it over,
   * or it was closed elsewhere): stop metering, guarding and relaying at once, without closing
   * anything. Whoever owns it now settles it.
   */
  release(why: CallRelease): void {
    if (this.ended) return;
    this.released = why;
    this.stopHere();
    this.deps.logger.warn({ callId: this.id, why }, "the call is no longer this process's; stopped here");
    for (const l of this.releaseListeners) l(this, why);
  }

  /**
   * Draining: give the call to another process now. Metering stops with a last checkpoint
   * whose lease ends now, so the next process to look takes it over from exactly here; the
   * child's media (between the browser and the provider) is not touched. False when it was
   * not this process's any more (it is released all the same).
   */
  async handOver(): Promise<boolean> {
    if (this.ended) return false;
    let handed = false;
    try {
      handed = await this.meter.handOver();
    } catch (err) {
      this.deps.logger.error({ callId: this.id, err: (err as Error).message }, 'handing the call over failed');
    }
    this.release('handed_over');
    return handed;
  }

  private async finish(reason: CallEndReason, at?: number): Promise<CallEndResult> {
    const endedAt = Math.min(at ?? Infinity, this.deps.clock.now());
    const seconds = this.meter.elapsedSeconds(endedAt);
    this.stopHere();

    const closed = await this.deps.closer.close({
      callId: this.id,
      accountId: this.accountId,
      reason,
      meteredSeconds: seconds,
      endedAt,
      announce: true,
      providerCallId: this.providerCallId,
      ownerId: this.deps.processId,
    });
    // Null: the record was closed elsewhere first, and whoever closed it told the account.
    const result = closed ?? { reason, seconds };
    for (const l of this.endListeners) l(this, result);
    return result;
  }
}
