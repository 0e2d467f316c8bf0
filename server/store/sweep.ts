import type { RangeKeys, Table } from './types.js';

/** How an owning service runs a retention sweep over its own table (retention/ asks, the owner deletes). */
export interface SweepOptions {
  /** Rows read per query; the sweep yields to the event loop between batches. */
  batchSize: number;
  /** Called after each row deleted: retention counts it (and a fault test may throw here, as a crash would). */
  onDeleted?: () => void;
  /** Stops the sweep before its next row (the job lock was lost). */
  signal?: AbortSignal | undefined;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * Every row whose `field` is at most `max`, in batches (a range query, not a scan), each handed
 * to `remove`; returns how many it removed. A row `remove` keeps (returns false) is passed over:
 * each batch goes on after the last row of the one before. Safe to stop anywhere: what is left
 * is still due, and the next sweep finds it.
 */
export async function sweepUpTo<T extends { id: string }, K extends RangeKeys<T>>(
  table: Pick<Table<T>, 'findUpTo'>,
  field: K,
  max: number,
  remove: (row: T) => Promise<boolean>,
  opts: SweepOptions,
): Promise<number> {
  let removed = 0;
  let after: T | undefined;
  for (;;) {
    const batch = await table.findUpTo(
      field,
      max,
      after ? { limit: opts.batchSize, after } : { limit: opts.batchSize },
    );
    for (const row of batch) {
      opts.signal?.throwIfAborted();
      if (await remove(row)) {
        removed++;
        opts.onDeleted?.();
      }
    }
    if (batch.length < opts.batchSize) return removed;
    after = batch[batch.length - 1];
    await tick();
  }
}
