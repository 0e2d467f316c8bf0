import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CallTick, CallWarning } from '../../shared/schemas/calls.js';
import type { CallRow, Store } from '../store/types.js';
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
  /** This process's id: a checkpoint writes only while the call is still this process's. */
  processId: string;
  /** How long each checkpoint extends this process's lease on the call. */
  leaseMs: number;
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
  /**
   * A checkpoint was refused: the call is closed, or another process owns it now (this one
   * was too late renewing its lease). Metering here must stop at once.
   */
  onLeaseLost: () => void;
  /** A checkpoint landed: the record as it is now (an end request, the call window moved). */
  onRecord?: (row: CallRow) => void;
}

/**
 * Where a meter resumes when its call comes from another process: the seconds metered up to
 * the last checkpoint, and that checkpoint's time. The meter counts on from the checkpoint.
 */
export interface MeterOrigin {
  meteredSeconds: number;
  checkpointAt: number;
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

  /**
   * Metering begins now (the ack); or, for a call taken over from another process, goes on
   * from its last checkpoint as if this meter had run since the call began (see lease.ts on
   * the seconds between that checkpoint and the takeover).
   */
  start(origin?: MeterOrigin): void {
    if (this.startedAt !== null || this.stopped) return;
    if (origin) {
      this.startedAt = origin.checkpointAt - origin.meteredSeconds * 1000;
      this.lastCheckpoint = origin.meteredSeconds;
      // The previous owner asked Santa to wrap up already once the end was this near.
      this.wrapUpSent = this.init.heldSeconds - origin.meteredSeconds <= this.wrapUpLead();
    } else {
      this.startedAt = this.deps.clock.now();
    }
    this.interval = this.deps.clock.setInterval(() => this.tick(), 1000);
  }

  /**
   * A draining process gives the call up: metering stops here, and one last checkpoint writes
   * the seconds so far with a lease that ends now, so another process takes over at once and
   * goes on from exactly here. False when the call was not this process's any more.
   */
  async handOver(): Promise<boolean> {
    if (this.stopped || this.startedAt === null) return false;
    const elapsed = this.elapsedSeconds();
    this.stop();
    return (await this.write(elapsed, 0)) !== undefined;
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
    if (elapsed - this.lastCheckpoint >= this.deps.checkpointSeconds) void this.checkpoint(elapsed);
  }

  /**
   * The metered seconds reach the store every few seconds: what a crash would settle from, and
   * where a process taking the call over goes on from. The same conditional write renews this
   * process's lease, only while the record is open and still this process's: a call closed
   * meanwhile (by anyone) is never reopened or re-metered, and a process that lost its lease
   * (it was too late, another took the call over) learns so here and stops at once.
   * A write that fails (the store is away) keeps metering: the lease may still hold next time.
   */
  private async checkpoint(elapsed: number): Promise<void> {
    if (this.stopped) return;
    this.lastCheckpoint = elapsed;
    let row: CallRow | undefined;
    try {
      row = await this.write(elapsed, this.deps.leaseMs);
    } catch (err) {
      this.deps.logger.error({ callId: this.init.callId, err: (err as Error).message }, 'call checkpoint failed');
      return;
    }
    if (this.stopped) return;
    if (!row) {
      this.stop();
      this.init.onLeaseLost();
    } else {
      this.init.onRecord?.(row);
    }
  }

  /** The one conditional write of a checkpoint: undefined when the call is closed or not this process's. */
  private write(elapsed: number, leaseMs: number): Promise<CallRow | undefined> {
    const at = this.deps.clock.now();
    const me = this.deps.processId;
    return this.deps.store.calls.update(
      this.init.callId,
      { meteredSeconds: elapsed, checkpointAt: at, leaseUntil: at + leaseMs },
      { if: (c) => c.endedAt === null && c.ownerId === me },
    );
  }
}
