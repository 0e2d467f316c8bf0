import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';
import type { RealtimeProvider } from '../realtime/provider.js';

export interface RecoveryDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  credits: { settle(callId: string, meteredSeconds: number): Promise<{ capturedSeconds: number } | null> };
  provider: Pick<RealtimeProvider, 'kind' | 'hangup'>;
}

export interface RecoveryResult {
  /** Calls found open and ended with reason 'server_restart'. */
  ended: number;
  /** Calls that had ended but whose settlement had not been recorded. */
  settled: number;
}

/**
 * Runs at start-up, before the server listens: a crash (or SIGKILL) leaves calls open with
 * credit on hold. Each one is hung up at the provider (errors are logged, not thrown: the
 * provider may have ended it already), settled from its last checkpoint, and closed with
 * reason 'server_restart'. The seconds since the last checkpoint are not charged: at most a
 * checkpoint interval, in the parent's favour. Settlement is idempotent by call id, so a
 * crash halfway through recovery is recovered by the next start.
 */
export async function recoverOpenCalls(deps: RecoveryDeps): Promise<RecoveryResult> {
  const { store, logger } = deps;
  const open = await store.calls.findBy('endedAt', null);
  let ended = 0;
  for (const row of open) {
    if (row.providerCallId) {
      if (row.provider === deps.provider.kind) {
        await deps.provider.hangup(row.providerCallId).catch((err: unknown) => {
          logger.warn({ callId: row.id, err: (err as Error).message }, 'recovery: provider hang-up failed');
        });
      } else {
        logger.warn({ callId: row.id, provider: row.provider }, 'recovery: the call was on another provider; it ends there on its own');
      }
    }
    let seconds = row.meteredSeconds;
    let settledAt: number | null = null;
    try {
      const settlement = await deps.credits.settle(row.id, row.meteredSeconds);
      // A settlement recorded before the crash wins: the record shows what the ledger holds.
      if (settlement) seconds = settlement.capturedSeconds;
      settledAt = deps.clock.now();
    } catch (err) {
      logger.error({ callId: row.id, err: (err as Error).message }, 'recovery: settlement failed; retried at the next start');
    }
    await store.calls.update(
      row.id,
      // It ran until its last checkpoint as far as anyone can know.
      { endedAt: Math.max(row.checkpointAt, row.startedAt), reason: 'server_restart', meteredSeconds: seconds, settledAt },
      { if: (c) => c.endedAt === null },
    );
    ended++;
    logger.info({ callId: row.id, seconds }, 'recovery: ended a call left open by a crash');
  }

  // Ended but not settled (the ledger write failed at the end): settle now.
  let settled = 0;
  for await (const batch of store.calls.scan()) {
    for (const row of batch) {
      if (row.endedAt === null || row.settledAt !== null) continue;
      try {
        await deps.credits.settle(row.id, row.meteredSeconds);
        await store.calls.update(row.id, { settledAt: deps.clock.now() });
        settled++;
      } catch (err) {
        logger.error({ callId: row.id, err: (err as Error).message }, 'recovery: settlement failed; retried at the next start');
      }
    }
  }
  await store.flush();
  return { ended, settled };
}
