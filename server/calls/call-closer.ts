import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CallEndReason, CallEnded } from '../../shared/schemas/calls.js';
import type { CallRow, Store } from '../store/types.js';
import type { Notifier } from '../sockets/hub.js';
import type { RealtimeProvider } from '../realtime/provider.js';

export interface CallCloserDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  credits: { settle(callId: string, meteredSeconds: number): Promise<{ capturedSeconds: number } | null> };
  notifier: Pick<Notifier, 'toAccount'>;
  provider: Pick<RealtimeProvider, 'kind' | 'hangup'>;
}

/** One call to close, as whoever ends it knows it. */
export interface CloseRequest {
  callId: string;
  /** Whose call it is (null on a record whose account is gone). */
  accountId: string | null;
  reason: CallEndReason;
  /** The seconds to charge: the live meter's; absent, the record's last checkpoint (no meter runs here). */
  meteredSeconds?: number;
  /** When the call ended as far as anyone can know (now, or its last checkpoint after a crash). */
  endedAt: number;
  /**
   * Whether the account saw the call start (`call:started`): then it hears `call:ended`. A start
   * that failed before that is answered by its own ack instead.
   */
  announce: boolean;
  /** The provider's call to hang up, when it is known; a record alone may carry none. */
  providerCallId?: string | null;
  /**
   * The process whose live call this is: the record closes only while that process still owns
   * it. A process that lost its lease (another took the call over) closes nothing and hangs up
   * nothing: the call goes on under its new owner.
   */
  ownerId?: string;
}

export interface CallClosed {
  reason: CallEndReason;
  /** What the ledger captured. */
  seconds: number;
}

/**
 * The one way a call ends, whatever ended it: close the record, hang up at the provider,
 * settle the ledger, write what was captured, flush, tell the account. Every end goes
 * through `close`: the live call's own (window, parent, credit, length, daily minutes, quiet
 * hours, grace, provider error, admin, account, shutdown), a record no live call of this
 * process holds (admin, account), a start that failed after its hold, and crash recovery.
 *
 * Exactly once per call: the first write closes the record only while it is open, and only
 * the closer whose write closed it goes on; any other (another ender here, another process,
 * recovery) gets null. That conditional write is also where a call's ownership is checked: a
 * live call's end names its process, and closes the record only while that process owns it.
 * A crash after it leaves an ended, unsettled record, which recovery settles (settlement is
 * idempotent by call id).
 */
export class CallCloser {
  /** Closes under way in this process: a second ender awaits the first instead of racing it. */
  private readonly closing = new Map<string, Promise<CallClosed | null>>();

  constructor(private readonly deps: CallCloserDeps) {}

  close(req: CloseRequest): Promise<CallClosed | null> {
    const running = this.closing.get(req.callId);
    if (running) return running.then(() => null);
    const closing = this.run(req).finally(() => this.closing.delete(req.callId));
    this.closing.set(req.callId, closing);
    return closing;
  }

  private async run(req: CloseRequest): Promise<CallClosed | null> {
    const { store, clock, logger } = this.deps;
    const { callId, reason } = req;
    let row: CallRow | undefined;
    try {
      const metered =
        req.meteredSeconds === undefined ? {} : { meteredSeconds: req.meteredSeconds, checkpointAt: req.endedAt };
      const owner = req.ownerId;
      row = await store.calls.update(
        callId,
        { endedAt: req.endedAt, reason, endRequest: null, ...metered },
        { if: (c) => c.endedAt === null && (owner === undefined || c.ownerId === owner) },
      );
    } catch (err) {
      // Not closed, so not settled either: the record stays open for the next start's recovery,
      // which settles it from its last checkpoint (in the parent's favour). The call itself
      // still ends: hung up, and the account told, so no screen stays on a dead call.
      logger.error({ callId, err: (err as Error).message }, 'closing the call record failed');
      await this.hangup(callId, req.providerCallId ?? null, this.deps.provider.kind);
      const seconds = req.meteredSeconds ?? 0;
      if (req.announce && req.accountId) this.announce(req.accountId, { callId, reason, seconds });
      return { reason, seconds };
    }
    if (!row) {
      // Another process owns the call now (this one's lease ran out): it runs on there, untouched.
      const now = await store.calls.get(callId).catch(() => undefined);
      if (now && now.endedAt === null) {
        logger.warn({ callId, reason }, "the call is another process's now; not ended here");
        return null;
      }
      // Closed first by someone else, who settles and tells. A provider call the caller holds
      // is still hung up: only the caller knows it, and it must not run on.
      await this.hangup(callId, req.providerCallId ?? null, this.deps.provider.kind);
      return null;
    }

    const hangup = this.hangup(callId, req.providerCallId ?? row.providerCallId, row.provider);
    let seconds = row.meteredSeconds;
    try {
      const settlement = await this.deps.credits.settle(callId, row.meteredSeconds);
      // A settlement recorded before (a crash after it) wins: the record shows what the ledger holds.
      seconds = settlement?.capturedSeconds ?? seconds;
      await store.calls.update(callId, { meteredSeconds: seconds, settledAt: clock.now() });
    } catch (err) {
      logger.error(
        { callId, err: (err as Error).message },
        'call settlement failed; recovery settles it at the next start',
      );
    }
    await store
      .flush()
      .catch((err: unknown) => logger.error({ callId, err: (err as Error).message }, 'writing the call record failed'));
    await hangup;
    if (req.announce && req.accountId) this.announce(req.accountId, { callId, reason, seconds });
    logger.info({ callId, reason, seconds }, 'call ended');
    return { reason, seconds };
  }

  private announce(accountId: string, ended: CallEnded): void {
    this.deps.notifier.toAccount(accountId, 'call:ended', ended);
  }

  /** Errors are logged, not thrown: the provider may have ended the call already. */
  private async hangup(callId: string, providerCallId: string | null, provider: string): Promise<void> {
    if (!providerCallId) return;
    if (provider !== this.deps.provider.kind) {
      this.deps.logger.warn({ callId, provider }, 'the call was on another provider; it ends there on its own');
      return;
    }
    await this.deps.provider.hangup(providerCallId).catch((err: unknown) => {
      this.deps.logger.warn({ callId, err: (err as Error).message }, 'provider hang-up failed');
    });
  }
}
