import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { toIso } from '../../shared/units.js';
import type { LedgerEntryView, Pack } from '../../shared/schemas/credits.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import type { LedgerKind } from '../../shared/schemas/credits.js';
import type { LedgerRow, Store } from '../store/types.js';
import { StoreConflictError } from '../store/errors.js';
import { invalid } from '../core/errors.js';
import type { AuditService } from '../audit/service.js';
import type { Notifier } from '../sockets/hub.js';
import { creditState, type CreditState } from './ledger-math.js';
import type { SweepOptions } from '../store/sweep.js';
import { compactCall, findCompactableCalls, resolvePendingMerges } from './usage-compaction.js';
import { newestFirst, oldestFirst } from '../core/order.js';

/** Kinds a parent sees in their history; holds and releases are the bookkeeping of live calls. */
const VISIBLE: ReadonlySet<LedgerKind> = new Set(['purchase', 'grant', 'capture', 'refund', 'reversal', 'reinstate']);

export interface Settlement {
  capturedSeconds: number;
  releasedSeconds: number;
}

export interface CreditsDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  notifier: Pick<Notifier, 'toAccount'> | null;
  packs: readonly Pack[];
}

/**
 * The append-only credit ledger, in integer seconds. Every entry carries a unique reference,
 * so a replayed webhook or a second settlement of the same call changes nothing.
 */
export class CreditsService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly notifier: Pick<Notifier, 'toAccount'> | null;
  readonly packs: readonly Pack[];

  constructor(deps: CreditsDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.notifier = deps.notifier;
    this.packs = deps.packs;
  }

  async state(accountId: string): Promise<CreditState> {
    return creditState(await this.store.ledger.findBy('accountId', accountId));
  }

  pack(packId: string): Pack | undefined {
    return this.packs.find((p) => p.id === packId);
  }

  /** Newest first, balance-moving entries only; the cursor is the last entry's id. */
  async history(
    accountId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ entries: LedgerEntryView[]; nextCursor: string | null }> {
    const rows = (await this.store.ledger.findBy('accountId', accountId))
      .filter((e) => VISIBLE.has(e.kind))
      .sort(newestFirst('at'));
    let start = 0;
    if (cursor !== undefined) {
      // A cursor this account's history does not hold (made up, or another parent's entry) is an
      // error, not page one: restarting silently would loop a client that pages to the end.
      const at = rows.findIndex((r) => r.id === cursor);
      if (at < 0) throw invalid('Unknown history cursor', { cursor: 'Unknown cursor' });
      start = at + 1;
    }
    const page = rows.slice(start, start + limit);
    const last = page[page.length - 1];
    return {
      entries: page.map((e) => ({ id: e.id, kind: e.kind, seconds: e.seconds, ref: publicRef(e), at: toIso(e.at) })),
      nextCursor: start + limit < rows.length && last ? last.id : null,
    };
  }

  /** Credit bought: idempotent by the payment's reference. Returns false when already applied. */
  async purchase(accountId: string, seconds: number, paymentRef: string): Promise<boolean> {
    return this.append(accountId, 'purchase', seconds, `purchase:${paymentRef}`, null, null);
  }

  /** Admin grant with a reason; audited. */
  async grant(accountId: string, seconds: number, reason: string, actor: string): Promise<void> {
    const ref = `grant:${newId()}`;
    await this.append(accountId, 'grant', seconds, ref, null, reason);
    await this.audit.record(actor, 'credits.grant', accountId, { seconds, ref });
  }

  /**
   * Take back credit for a refund or dispute, idempotent by reference. Takes at most what
   * the entry says; if it was already spent, the account owes it (owesSeconds) rather than
   * holding a negative balance that would start calls.
   */
  async takeBack(accountId: string, seconds: number, kind: 'refund' | 'reversal', ref: string): Promise<boolean> {
    if (seconds <= 0) return false;
    return this.append(accountId, kind, seconds, `${kind}:${ref}`, null, null);
  }

  /**
   * Take back credit bought by one payment, up to a running total, decided atomically with the
   * write. `targetSeconds` is how much of that purchase should stand reversed by now (a refund's
   * share of the running `amount_refunded`, or all of it for a dispute); only the difference
   * from what is already reversed for this payment is written, and never more than the purchase
   * itself. So a replayed, duplicated or reordered refund, or a refund after a dispute, never
   * takes back twice. Spent credit becomes owesSeconds, not a negative balance. `detail` makes
   * the entry's reference unique (`refund:<paymentRef>:<detail>`). Returns the seconds taken now.
   */
  async reverseUpTo(
    accountId: string,
    paymentRef: string,
    targetSeconds: number,
    kind: 'refund' | 'reversal',
    detail: string,
  ): Promise<number> {
    return Math.max(0, await this.reverseTo(accountId, paymentRef, targetSeconds, kind, detail, false));
  }

  /**
   * Bring what stands reversed of one payment to exactly `targetSeconds` (never more than the
   * purchase), decided atomically with the write: a larger target takes the difference back
   * (`kind`), a smaller one (a refund that failed, a dispute won) gives it back as `reinstate`.
   * `detail` names the payment's state the target comes from, so each state is applied once
   * (`<kind>:<paymentRef>:<detail>`); replays and concurrent duplicates change nothing. Returns
   * the seconds taken (positive) or given back (negative) now.
   */
  async reverseTo(
    accountId: string,
    paymentRef: string,
    targetSeconds: number,
    kind: 'refund' | 'reversal',
    detail: string,
    giveBack = true,
  ): Promise<number> {
    if (!Number.isInteger(targetSeconds) || targetSeconds < 0)
      throw new Error(`target seconds must be a non-negative integer, got ${targetSeconds}`);
    if (paymentRef.includes(':')) throw new Error('payment references must not contain ":"');
    const purchaseRef = `purchase:${paymentRef}`;
    const mine = [`refund:${paymentRef}:`, `reversal:${paymentRef}:`, `reinstate:${paymentRef}:`];
    const row: LedgerRow = {
      id: newId(),
      accountId,
      kind,
      seconds: 0,
      ref: '',
      callId: null,
      at: this.clock.now(),
      note: null,
    };
    let change = 0;
    let inserted: LedgerRow | null;
    try {
      inserted = await this.store.ledger.insertIf(row, { field: 'accountId', value: accountId }, (entries) => {
        let purchased = 0;
        let reversed = 0;
        for (const e of entries) {
          if (e.ref === purchaseRef) purchased = e.seconds;
          else if (mine.some((p) => e.ref.startsWith(p))) reversed += e.kind === 'reinstate' ? -e.seconds : e.seconds;
        }
        change = Math.min(targetSeconds, purchased) - reversed;
        if (change === 0 || (change < 0 && !giveBack)) return false;
        row.kind = change > 0 ? kind : 'reinstate';
        row.seconds = Math.abs(change);
        row.ref = `${row.kind}:${paymentRef}:${detail}`;
        return true;
      });
    } catch (err) {
      if (err instanceof StoreConflictError) return 0; // this very reference is already applied
      throw err;
    }
    if (!inserted) return 0;
    this.notify(accountId);
    return change;
  }

  /**
   * Hold credit for a call: between `min` and `max` seconds, as much as is available, decided
   * atomically with the write so two calls started at the same instant can never both take
   * the same seconds. Returns the seconds held, or null when less than `min` is available.
   * Idempotent by call id.
   */
  async hold(accountId: string, callId: string, range: { min: number; max: number }): Promise<number | null> {
    if (Number.isNaN(range.min) || Number.isNaN(range.max)) throw new Error('hold range must be numbers');
    // Whole seconds only, and at least one: a zero-second hold would start a call on no credit.
    const min = Math.max(1, Math.ceil(range.min));
    const max = Math.floor(range.max);
    if (max < min) return null;
    const existing = await this.store.ledger.findOne('ref', `hold:${callId}`);
    // A call id is the hold's reference; another account's hold is never this account's to reuse.
    if (existing) return existing.accountId === accountId ? existing.seconds : null;
    let held = 0;
    const row: LedgerRow = {
      id: newId(),
      accountId,
      kind: 'hold',
      seconds: 0,
      ref: `hold:${callId}`,
      callId,
      at: this.clock.now(),
      note: null,
    };
    let inserted: LedgerRow | null;
    try {
      inserted = await this.store.ledger.insertIf(row, { field: 'accountId', value: accountId }, (entries) => {
        const { availableSeconds, owesSeconds } = creditState(entries);
        if (owesSeconds > 0 || availableSeconds < min) return false;
        held = Math.min(availableSeconds, max);
        row.seconds = held;
        return true;
      });
    } catch (err) {
      // Two holds for the same call raced past the lookup: the unique ref let one in; answer as a replay.
      if (!(err instanceof StoreConflictError)) throw err;
      const winner = await this.store.ledger.findOne('ref', `hold:${callId}`);
      return winner && winner.accountId === accountId ? winner.seconds : null;
    }
    if (!inserted) return null;
    this.notify(accountId);
    return held;
  }

  /**
   * Settle a call exactly once: capture the metered seconds (never more than the hold) and
   * release the rest. A second call with the same id is a no-op returning the first result.
   */
  async settle(callId: string, meteredSeconds: number): Promise<Settlement | null> {
    const hold = await this.store.ledger.findOne('ref', `hold:${callId}`);
    if (!hold || !hold.accountId) return null;
    if (!Number.isFinite(meteredSeconds))
      throw new Error(`metered seconds must be a finite number, got ${meteredSeconds}`);
    const accountId = hold.accountId;
    const captured = Math.max(0, Math.min(Math.trunc(meteredSeconds), hold.seconds));
    await this.append(accountId, 'capture', captured, `capture:${callId}`, callId, null);
    // The release is what the RECORDED capture left of the hold, not this call's argument: a
    // second settle (crash recovery from an older checkpoint, or two enders racing) may meter
    // differently, and hold - capture - release must come to exactly zero or seconds stay held.
    const capture = await this.store.ledger.findOne('ref', `capture:${callId}`);
    const capturedSeconds = capture?.seconds ?? captured;
    await this.append(accountId, 'release', hold.seconds - capturedSeconds, `release:${callId}`, callId, null);
    const release = await this.store.ledger.findOne('ref', `release:${callId}`);
    this.notify(accountId);
    return { capturedSeconds, releasedSeconds: release?.seconds ?? 0 };
  }

  /** Every second ever bought (purchases only: grants and refunds aside). */
  async soldSeconds(): Promise<number> {
    let sold = 0;
    for (const e of await this.store.ledger.findBy('kind', 'purchase')) sold += e.seconds;
    return sold;
  }

  /** The account's part of the data export (P11): every ledger entry, oldest first. */
  async exportFor(accountId: string): Promise<ExportDocument['ledger']> {
    return (await this.store.ledger.findBy('accountId', accountId)).sort(oldestFirst('at')).map((e) => ({
      id: e.id,
      kind: e.kind,
      seconds: e.seconds,
      ref: e.ref,
      callId: e.callId,
      at: toIso(e.at),
      note: e.note,
    }));
  }

  /**
   * The purge of a closed account (P10): the books stay, the person goes. Each entry loses its
   * account reference, and a grant's note too (an admin's free text about the person).
   * Returns how many entries were changed.
   */
  async anonymiseAccount(accountId: string): Promise<number> {
    let n = 0;
    for (const e of await this.store.ledger.findBy('accountId', accountId)) {
      if (await this.store.ledger.update(e.id, { accountId: null, note: null })) n++;
    }
    return n;
  }

  async isSettled(callId: string): Promise<boolean> {
    return (await this.store.ledger.findOne('ref', `release:${callId}`)) !== undefined;
  }

  private async append(
    accountId: string,
    kind: LedgerKind,
    seconds: number,
    ref: string,
    callId: string | null,
    note: string | null,
  ): Promise<boolean> {
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new Error(`ledger seconds must be a non-negative integer, got ${seconds}`);
    try {
      await this.store.ledger.insert({
        id: newId(),
        accountId,
        kind,
        seconds,
        ref,
        callId,
        at: this.clock.now(),
        note,
      });
    } catch (err) {
      if (err instanceof StoreConflictError) return false;
      throw err;
    }
    if (kind !== 'capture' && kind !== 'release') this.notify(accountId);
    return true;
  }

  private notify(accountId: string): void {
    if (!this.notifier) return;
    // Fire and forget, but never an unhandled rejection (e.g. the store closing under a shutdown).
    this.state(accountId).then(
      (s) =>
        this.notifier?.toAccount(accountId, 'credits:updated', {
          balanceSeconds: s.balanceSeconds,
          availableSeconds: s.availableSeconds,
        }),
      () => undefined,
    );
  }
  /**
   * Retention (P13): each settled call's hold, capture and release older than the cutoff are
   * folded into the account's one usage total (usage-compaction.ts); the balance is unchanged.
   * Returns how many entries were removed. Resumable: a crash anywhere is finished next time.
   */
  async compactUsageUpTo(cutoff: number, opts: SweepOptions): Promise<number> {
    let removed = 0;
    const count = (n: number) => {
      for (let i = 0; i < n; i++) {
        removed++;
        opts.onDeleted?.();
      }
    };
    count(await resolvePendingMerges(this.store));
    const looked = new Set<string>();
    for (;;) {
      const calls = await findCompactableCalls(this.store, cutoff, opts.batchSize, looked, opts.batchSize);
      for (const call of calls) {
        opts.signal?.throwIfAborted();
        count(await compactCall(this.store, call, cutoff));
      }
      if (calls.length < opts.batchSize) return removed;
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}

/**
 * References shown to parents: the call, or the payment (checkout session) a purchase, refund
 * or reversal belongs to; internal prefixes and suffixes (`refund:<payment>:<charge>:<amount>`) stay inside.
 */
function publicRef(e: LedgerRow): string {
  return e.callId ?? e.ref.split(':')[1] ?? e.ref;
}
