import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';

export interface RecoveryDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  credits: { settle(callId: string, meteredSeconds: number): Promise<{ capturedSeconds: number } | null> };
}

export interface RecoveryResult {
  /** Calls whose owner was gone that go on here (an OpenAI call joined again by its call id). */
  takenOver: number;
  /** Calls whose owner was gone that were ended and settled ('server_restart'). */
  ended: number;
  /** Calls that had ended but whose settlement had not been recorded. */
  settled: number;
}

/**
 * The settling half of start-up recovery (the calls left open are the lease watcher's, see
 * lease.ts and CallsService.recover): a call whose record was closed but whose settlement was
 * not recorded (the ledger write failed at the end, or a crash came between the record's close
 * and its settlement) is settled now from the seconds its record holds. Settlement is
 * idempotent by call id, so a crash halfway through is recovered by the next start.
 */
export async function settleEndedCalls(deps: RecoveryDeps): Promise<Pick<RecoveryResult, 'settled'>> {
  const { store, logger } = deps;
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
  return { settled };
}
