import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CallRow } from '../store/types.js';

/**
 * One owner per live call, and what happens when an owner goes.
 *
 * Every server process has an id of its own, new at each start (`newProcessId`). A live
 * call's record names its owner and a lease (`ownerId`, `leaseUntil`); the owner's meter
 * renews the lease with each checkpoint, in the same conditional write that saves the metered
 * seconds, and only while the call is open and still its own. A renewal that is refused means
 * the call is closed or another process has it: the meter stops at once and the call is let go
 * here without being closed (LiveCall.release).
 *
 * Each process runs a `LeaseWatcher`: every CALL_LEASE_WATCH_MS it reads the open calls and
 * claims those whose lease has passed with one conditional write (the owner and lease it read
 * must still be there), so of several processes looking at once exactly one wins. The winner:
 *
 * - an OpenAI call: joins it again on a new sideband by its provider call id (the child's
 *   WebRTC media runs between the browser and OpenAI and is never touched) and goes on
 *   metering, guarding and relaying from the last checkpoint;
 * - a Simulated Santa call: its peer lived in the process that is gone, so the call is over;
 *   it is closed through the one closing path with reason `server_lost` and settled;
 * - a call whose start never reached the provider (no provider call id): closed with nothing
 *   charged, as a failed start.
 *
 * Billing across the gap (last checkpoint -> takeover):
 *
 * - An OpenAI call that is taken over is charged for the gap: the child went on talking to
 *   Santa all along (the media never stopped), so the new owner's meter counts on from the
 *   checkpoint as if it had run since the call began (CallMeter.start with an origin). The gap
 *   is at most the lease plus one watch interval; the meter never counts past the held seconds,
 *   and a call whose hold ran out in the gap ends at its first tick with its limit's reason.
 * - A call that cannot be taken over (Simulated Santa, or the provider call is over) is
 *   charged up to its last checkpoint only, and ends there: what came after it cannot be
 *   known, and it is at most a lease's worth, in the parent's favour.
 * - An end asked for while the owner was gone (call:end on another process, an admin or
 *   account end) is kept in the record (`endRequest`) and honoured by whoever holds the call
 *   next: charged up to when it was asked (a taken-over call) or to the checkpoint.
 *
 * Whatever the path, the seconds come from one meter or one checkpoint, the closing write
 * lands once (CallCloser), and settlement is idempotent by call id: never more than the hold,
 * never a second held or captured second, and no call stays open: an owner that is gone loses
 * its calls to the watcher of any process within the lease and one watch interval.
 */

/** A new process id: the host, the pid and a random part, so two starts never share one. */
export function newProcessId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Whether another process may take the call over now: open, and its lease has passed. */
export function leaseExpired(row: CallRow, now: number): boolean {
  return row.endedAt === null && row.leaseUntil <= now;
}

export interface LeaseWatcherDeps {
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** One pass: look for open calls whose lease has passed and claim them. */
  scan: () => Promise<unknown>;
}

/**
 * The process-wide watcher: runs `scan` every interval on the injected clock, one pass at a
 * time (a slow pass is not overlapped by the next).
 */
export class LeaseWatcher {
  private timer: TimerHandle | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly deps: LeaseWatcherDeps) {}

  start(): void {
    this.timer ??= this.deps.clock.setInterval(() => void this.runOnce(), this.deps.intervalMs);
  }

  /** One pass now (or the pass under way). */
  runOnce(): Promise<unknown> {
    this.running ??= this.deps
      .scan()
      .catch((err: unknown) =>
        this.deps.logger.error({ err: (err as Error).message }, 'looking for calls to take over failed'),
      )
      .finally(() => (this.running = null));
    return this.running;
  }

  /** No more passes; waits for one under way. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }
}
