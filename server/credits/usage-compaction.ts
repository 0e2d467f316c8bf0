import type { LedgerRow, Store } from '../store/types.js';

type Ledger = Pick<Store, 'ledger'>;

/**
 * Usage data in the ledger (P13): each call leaves a hold, a capture and a release. After two
 * years those entries are folded away so no per-call record of when and how long a child
 * talked remains, while the balance stays exactly what it was.
 *
 * For an account, each settled call's capture is added into one running entry per account
 * (`usage-total:<accountId>`, a capture with no call), then the call's three entries are
 * removed. Every step is one single-row write and each intermediate state is recognisable,
 * so a crash anywhere is finished by the next sweep without counting anything twice:
 *  1. remove the hold      (capture + release alone leave the balance and availability as they were)
 *  2. add the capture's seconds to the total, marking the total `merged:<captureId>` in the same write,
 *     then remove the capture (a rerun that finds the mark on the total only removes it)
 *  3. remove the release.
 * A purged account's entries (account id null) have no balance to keep and are just removed.
 *
 * The credits module owns the ledger: retention asks CreditsService.compactUsageUpTo.
 */
export const usageTotalRef = (accountId: string) => `usage-total:${accountId}`;
const mergedMark = (entryId: string) => `merged:${entryId}`;

export interface CallEntries {
  callId: string;
  accountId: string | null;
  hold?: LedgerRow;
  capture?: LedgerRow;
  release?: LedgerRow;
  latestAt: number;
}

/**
 * A crash between adding a capture to its total and removing it leaves the total marked
 * `merged:<captureId>` with that capture still present. Remove such captures first (they are
 * already counted), before any other merge moves the mark on. Returns how many were removed.
 */
export async function resolvePendingMerges(store: Ledger): Promise<number> {
  const pending: string[] = [];
  // Usage totals have no call: the entries without one (purchases, grants, totals) are few per account.
  for (const e of await store.ledger.findBy('callId', null))
    if (e.ref.startsWith('usage-total:') && e.note?.startsWith('merged:')) pending.push(e.note.slice('merged:'.length));
  let removed = 0;
  for (const id of pending) if (await store.ledger.remove(id)) removed++;
  return removed;
}

/** One call's entries, grouped. */
async function callEntries(store: Ledger, callId: string): Promise<CallEntries> {
  const group: CallEntries = { callId, accountId: null, latestAt: 0 };
  for (const e of await store.ledger.findBy('callId', callId)) {
    if (e.kind !== 'hold' && e.kind !== 'capture' && e.kind !== 'release') continue;
    group[e.kind] = e;
    group.accountId = e.accountId;
    group.latestAt = Math.max(group.latestAt, e.at);
  }
  return group;
}

/**
 * The settled calls whose entries are all older than the cutoff, found from the entries at or
 * before it (a range query on the ledger's time, not a scan), `limit` calls at most; `skip`
 * holds the calls already looked at by this sweep.
 */
export async function findCompactableCalls(
  store: Ledger,
  cutoff: number,
  batchSize: number,
  skip: Set<string> = new Set(),
  limit = Number.POSITIVE_INFINITY,
): Promise<CallEntries[]> {
  const found: CallEntries[] = [];
  let after: LedgerRow | undefined;
  for (;;) {
    const batch = await store.ledger.findUpTo('at', cutoff, after ? { limit: batchSize, after } : { limit: batchSize });
    for (const e of batch) {
      if (e.callId === null || skip.has(e.callId)) continue;
      skip.add(e.callId);
      const group = await callEntries(store, e.callId);
      // Settled (a release exists: every intermediate state of a compaction keeps it to the end) and wholly older than the cutoff.
      if (group.release !== undefined && group.latestAt <= cutoff) found.push(group);
      if (found.length >= limit) return found;
    }
    if (batch.length < batchSize) return found;
    after = batch[batch.length - 1];
  }
}

/** Compact one settled call's entries; returns how many ledger rows were removed. */
export async function compactCall(store: Ledger, call: CallEntries, cutoff: number): Promise<number> {
  let removed = 0;
  if (call.hold && (await store.ledger.remove(call.hold.id))) removed++;
  if (call.capture) {
    if (call.accountId !== null) await mergeIntoTotal(store, call.accountId, call.capture, cutoff);
    if (await store.ledger.remove(call.capture.id)) removed++;
  }
  if (call.release && (await store.ledger.remove(call.release.id))) removed++;
  return removed;
}

async function mergeIntoTotal(store: Ledger, accountId: string, capture: LedgerRow, cutoff: number): Promise<void> {
  const ref = usageTotalRef(accountId);
  let total = await store.ledger.findOne('ref', ref);
  if (total?.note === mergedMark(capture.id)) return; // added before a crash; only the removal was missing
  if (!total) {
    total = {
      id: `usage-${capture.id}`,
      accountId,
      kind: 'capture',
      seconds: 0,
      ref,
      callId: null,
      at: cutoff,
      note: null,
    };
    try {
      await store.ledger.insert(total);
    } catch {
      total = await store.ledger.findOne('ref', ref);
      if (!total) throw new Error('usage total entry could not be created');
    }
  }
  const mark = mergedMark(capture.id);
  const updated = await store.ledger.update(
    total.id,
    { seconds: total.seconds + capture.seconds, note: mark, at: Math.max(total.at, cutoff) },
    { if: (cur) => cur.note !== mark && cur.seconds === total.seconds },
  );
  if (!updated) {
    // Someone else changed the total in between (a second process); re-read and retry once the mark is checked.
    const again = await store.ledger.findOne('ref', ref);
    if (again?.note === mark) return;
    throw new Error('usage total changed concurrently; the next sweep retries');
  }
}
