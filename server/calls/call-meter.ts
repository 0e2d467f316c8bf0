import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CallTick, CallWarning } from '../../shared/schemas/calls.js';
import type { Store } from '../store/types.js';
import type { Notifier } from '../sockets/hub.js';

export interface CallMeterDeps {
  clock: Clock;
  logger: Logger;
  store: Store;
  notifier: Pick<Notifier, 'toAccount'>;
  /** How often the metered seconds are written to the call record. */
  checkpointSeconds: number;
  /** How long before the end Santa is asked to wrap up (shortened for short calls). */
  wrapUpSeconds: number;
}

export interface CallMeterInit {
  callId: string;
  accountId: string;
  profileId: string;
  heldSeconds: number;
  /** Near the end, once: Santa is asked to say goodbye. */
  onWrapUp: () => void;
  /** The held seconds are used up: the call must end. */
  onUsedUp: () => void;
}

/**
 * The meter of one call on the server clock: a tick every second to the account, the wrap-up
 * near the end, a checkpoint of the metered seconds every few seconds, and the end at zero.
 * It never charges: what it metered is what the closing path settles.
 */
export class CallMeter {
  private startedAt: number | null = null;
  private interval: TimerHandle | null = null;
  private wrapUpSent = false;
  private lastCheckpoint = 0;
  private stopped = false;

  constructor(
    private readonly deps: CallMeterDeps,
    private readonly init: CallMeterInit,
  ) {}

  get heldSeconds(): number {
    return this.init.heldSeconds;
  }

  /** Metering begins now (the ack). */
  start(): void {
    if (this.startedAt !== null || this.stopped) return;
    this.startedAt = this.deps.clock.now();
    this.interval = this.deps.clock.setInterval(() => this.tick(), 1000);
  }

  /** No more ticks, wrap-ups or checkpoints: the call is ending. */
  stop(): void {
    this.stopped = true;
    this.interval?.cancel();
    this.interval = null;
  }

  /** Whole seconds metered by `at`, never more than were held. */
  elapsedSeconds(at = this.deps.clock.now()): number {
    if (this.startedAt === null) return 0;
    return Math.max(0, Math.min(this.init.heldSeconds, Math.floor((at - this.startedAt) / 1000)));
  }

  remainingSeconds(): number {
    return this.init.heldSeconds - this.elapsedSeconds();
  }

  /** Seconds before the end at which Santa wraps up: a minute, or a third of a short call. */
  private wrapUpLead(): number {
    return Math.max(1, Math.min(this.deps.wrapUpSeconds, Math.floor(this.init.heldSeconds / 3)));
  }

  private tick(): void {
    if (this.stopped) return;
    const { callId, accountId, profileId } = this.init;
    const elapsed = this.elapsedSeconds();
    const remaining = this.init.heldSeconds - elapsed;
    if (remaining <= 0) {
      this.stop();
      this.init.onUsedUp();
      return;
    }
    const tick: CallTick = { callId, remainingSeconds: remaining, elapsedSeconds: elapsed, profileId };
    this.deps.notifier.toAccount(accountId, 'call:tick', tick);
    if (!this.wrapUpSent && remaining <= this.wrapUpLead()) {
      this.wrapUpSent = true;
      this.init.onWrapUp();
      const warning: CallWarning = { callId, kind: 'time_low', remainingSeconds: remaining };
      this.deps.notifier.toAccount(accountId, 'call:warning', warning);
    }
    if (elapsed - this.lastCheckpoint >= this.deps.checkpointSeconds) this.checkpoint(elapsed);
  }

  /**
   * The metered seconds reach the store every few seconds: what a crash would settle from.
   * One conditional write on the open record, so a call closed meanwhile (by anyone) is never
   * reopened or re-metered.
   */
  private checkpoint(elapsed: number): void {
    this.lastCheckpoint = elapsed;
    const at = this.deps.clock.now();
    this.deps.store.calls
      .update(this.init.callId, { meteredSeconds: elapsed, checkpointAt: at }, { if: (c) => c.endedAt === null })
      .catch((err: unknown) =>
        this.deps.logger.error({ callId: this.init.callId, err: (err as Error).message }, 'call checkpoint failed'),
      );
  }
}
