import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';
import type { CallCloser } from './call-closer.js';

export interface RecoveryDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  credits: { settle(callId: string, meteredSeconds: number): Promise<{ capturedSeconds: number } | null> };
  closer: Pick<CallCloser, 'close'>;
  /** Calls this process runs or is starting: not left open by anyone, so not recovered. */
  isLiveHere?: (callId: string) => boolean;
}

export interface RecoveryResult {
  /** Calls found open and ended with reason 'server_restart'. */
  ended: number;
  /** Calls that had ended but whose settlement had not been recorded. */
  settled: number;
}

/**
 * Runs at start-up, before the server listens: a crash (or SIGKILL) leaves calls open with
 * credit on hold. Each one goes through the closing path like any other end, with reason
 * 'server_restart' and its last checkpoint's seconds: hung up at the provider (the provider
 * may have ended it already), settled, closed. The seconds since the last checkpoint are not
 * charged: at most a checkpoint interval, in the parent's favour. Settlement is idempotent by
 * call id, so a crash halfway through recovery is recovered by the next start.
 */
export async function recoverOpenCalls(deps: RecoveryDeps): Promise<RecoveryResult> {
  const { store, logger } = deps;
  const open = await store.calls.findBy('endedAt', null);
  let ended = 0;
  for (const row of open) {
    if (deps.isLiveHere?.(row.id)) continue;
    const closed = await deps.closer.close({
      callId: row.id,
      accountId: row.accountId,
      reason: 'server_restart',
      meteredSeconds: row.meteredSeconds,
      // It ran until its last checkpoint as far as anyone can know.
      endedAt: Math.max(row.checkpointAt, row.startedAt),
      // A record with a provider call had been announced as started; one without never was.
      announce: row.providerCallId !== null,
    });
    if (!closed) continue;
    ended++;
    logger.info({ callId: row.id, seconds: closed.seconds }, 'recovery: ended a call left open by a crash');
  }

  // Ended but not settled (the ledger write failed at the end, or a crash came between the
  // record's close and its settlement): settle now.
  let settled = 0;
  for await (const batch of store.calls.scan()) {
    for (const row of batch) {
      if (row.endedAt === null || row.settledAt !== null) continue;
      try {
        const settlement = await deps.credits.settle(row.id, row.meteredSeconds);
        await store.calls.update(row.id, {
          meteredSeconds: settlement?.capturedSeconds ?? row.meteredSeconds,
          settledAt: deps.clock.now(),
        });
        settled++;
      } catch (err) {
        logger.error(
          { callId: row.id, err: (err as Error).message },
          'recovery: settlement failed; retried at the next start',
        );
      }
    }
  }
  await store.flush();
  return { ended, settled };
}
