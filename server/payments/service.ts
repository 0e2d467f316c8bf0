import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { AppError, forbidden } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Locale } from '../../shared/locales.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import type { Pack } from '../../shared/schemas/credits.js';
import { toIso, toIsoOrNull } from '../../shared/units.js';
import type { AccountRow, PaymentRow, SessionRow, Store } from '../store/types.js';
import { StoreConflictError } from '../store/errors.js';
import type { CreditsService } from '../credits/service.js';
import type { CardPayment, ConsentService } from '../consent/service.js';
import type { AccountsService } from '../accounts/service.js';
import type { PaymentsProvider } from './provider.js';
import { devCheckoutKeyMatches } from './dev-provider.js';
import {
  ourMetadata,
  readEvent,
  sessionReference,
  type DisputeEventType,
  type PaymentEvent,
  type StripeCharge,
  type StripeCheckoutSession,
  type StripeDispute,
  type StripeRefund,
} from './stripe-events.js';
import { oldestFirst } from '../core/order.js';

export type WebhookOutcome = 'processed' | 'duplicate' | 'ignored';

/**
 * The record of a checkout opened for a pack and not paid yet. One shape for both places that
 * write it, so a record rebuilt from a webhook (its first write was lost) is the one opening the
 * checkout would have written: the pack's seconds and price, nothing charged or refunded.
 */
function pendingPayment(
  opened: Pick<PaymentRow, 'id' | 'accountId' | 'provider' | 'checkoutSessionId' | 'createdAt'> & { pack: Pack },
): PaymentRow {
  const { pack } = opened;
  return {
    id: opened.id,
    accountId: opened.accountId,
    provider: opened.provider,
    checkoutSessionId: opened.checkoutSessionId,
    paymentIntentId: null,
    chargeId: null,
    packId: pack.id,
    seconds: pack.seconds,
    amount: pack.price.amount,
    currency: pack.price.currency,
    status: 'pending',
    amountRefunded: 0,
    createdAt: opened.createdAt,
    paidAt: null,
  };
}

export interface PaymentsDeps {
  store: Store;
  clock: Clock;
  credits: Pick<CreditsService, 'pack' | 'purchase' | 'reverseTo'>;
  consent: Pick<ConsentService, 'cardPaymentCompleted'>;
  accounts: Pick<AccountsService, 'get' | 'liveSessions'>;
  provider: PaymentsProvider;
  logger: Logger;
}

/**
 * How much of a purchase a running refund total takes back: the refunded share of the price,
 * in whole seconds, integer arithmetic only, never more than the purchase.
 */
export function refundedSeconds(seconds: number, amountRefunded: number, amount: number): number {
  if (amountRefunded <= 0) return 0;
  if (amount <= 0) return seconds;
  const product = seconds * Math.min(amountRefunded, amount);
  return (product - (product % amount)) / amount;
}

/** The dispute's state; a record from before the field, marked disputed, had its funds withdrawn. */
function disputeOf(row: PaymentRow): PaymentRow['dispute'] {
  return row.dispute ?? (row.status === 'disputed' ? 'withdrawn' : undefined);
}

/** A dispute that holds the money: the purchase stands reversed. */
function fundsWithdrawn(row: PaymentRow): boolean {
  const dispute = disputeOf(row);
  return dispute === 'withdrawn' || dispute === 'lost';
}

/**
 * What stands refunded of a payment. `amountRefunded` is the largest running total a charge
 * event carried; a refund that failed afterwards no longer counts, and the refunds known by id
 * count as they stand. Never more than the truth: where the two disagree (a charge snapshot
 * from after a failure, say) the larger of the two readings that cannot overcount wins.
 */
export function standingRefund(row: Pick<PaymentRow, 'amountRefunded' | 'refunds'>): number {
  const refunds = Object.values(row.refunds ?? {});
  const failed = refunds.filter((r) => !r.active).reduce((sum, r) => sum + r.amount, 0);
  const active = refunds.filter((r) => r.active).reduce((sum, r) => sum + r.amount, 0);
  return Math.max(0, row.amountRefunded - failed, active);
}

/** Every piece of the record a target is computed from; each only moves forward, so each key is reached once. */
function refundStateKey(row: PaymentRow): string {
  const refunds = Object.values(row.refunds ?? {});
  const failed = refunds.filter((r) => !r.active).reduce((sum, r) => sum + r.amount, 0);
  return `${row.chargeId ?? 'charge'}:${row.amountRefunded}:n${refunds.length}:f${failed}:${disputeOf(row) ?? 'none'}`;
}

const DISPUTE_RANK: Record<NonNullable<PaymentRow['dispute']>, number> = { inquiry: 1, withdrawn: 2, won: 3, lost: 3 };

/** What a dispute event says about the money; null when it says nothing new. */
function disputeStateOf(type: DisputeEventType, status: string | null | undefined): PaymentRow['dispute'] | null {
  if (type === 'charge.dispute.funds_withdrawn') return 'withdrawn';
  if (type === 'charge.dispute.funds_reinstated') return 'won';
  if (status === 'won') return 'won';
  if (status === 'lost') return 'lost';
  if (status?.startsWith('warning_')) return 'inquiry';
  if (status === 'needs_response' || status === 'under_review') return 'withdrawn';
  // created without a status: Stripe withdraws the funds for a chargeback.
  return type === 'charge.dispute.created' && !status ? 'withdrawn' : null;
}

/** A payment's status follows from what is known about it, whatever order the events came in. */
function statusOf(row: PaymentRow): PaymentRow['status'] {
  if (fundsWithdrawn(row)) return 'disputed';
  const refunded = standingRefund(row);
  if (row.amount > 0 && refunded >= row.amount) return 'refunded';
  if (refunded > 0) return 'partially_refunded';
  if (row.paidAt !== null) return 'paid';
  return row.status === 'failed' ? 'failed' : 'pending';
}

const sameState = (a: PaymentRow, b: PaymentRow) =>
  a.status === b.status &&
  a.paidAt === b.paidAt &&
  a.amountRefunded === b.amountRefunded &&
  a.chargeId === b.chargeId &&
  a.paymentIntentId === b.paymentIntentId &&
  a.accountId === b.accountId &&
  a.dispute === b.dispute &&
  JSON.stringify(a.refunds ?? {}) === JSON.stringify(b.refunds ?? {});

/**
 * Checkout and the Stripe webhook. Events only ever move a payment record forward (paid,
 * a larger running refund, disputed); the ledger is then brought in line with the record by
 * `reconcile`, whose every effect is idempotent by its own reference. So a replayed event, a
 * duplicate delivered concurrently, or events in any order end in the same ledger.
 */
export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {}

  get simulated(): boolean {
    return this.deps.provider.simulated;
  }

  get providerKind(): PaymentsProvider['kind'] {
    return this.deps.provider.kind;
  }

  /** Opens a checkout for a pack and records the pending payment; returns where the parent pays. */
  async checkout(
    account: AccountRow,
    packId: string,
    opts: { baseUrl: string; signInSession: Pick<SessionRow, 'tokenHash'>; locale?: Locale },
  ): Promise<{ url: string }> {
    const { store, clock, credits, provider, logger } = this.deps;
    if (account.status !== 'active') throw forbidden('account_closed', 'This account is closed');
    if (account.restricted)
      throw forbidden(
        'processing_restricted',
        'Processing is restricted on this account; lift the restriction to buy call time',
      );
    const pack = credits.pack(packId);
    if (!pack) throw new AppError('unknown_pack', 400, `There is no pack ${packId}`, { packId: 'Unknown pack' });

    const paymentId = newId();
    let session;
    try {
      session = await provider.createCheckout({
        paymentId,
        accountId: account.id,
        openerSecret: opts.signInSession.tokenHash,
        pack,
        locale: opts.locale ?? account.locale,
        baseUrl: opts.baseUrl,
      });
    } catch (err) {
      logger.error(
        { paymentId, err: err instanceof Error ? err.message : String(err) },
        'checkout could not be created',
      );
      throw new AppError('provider_unavailable', 502, 'The payment provider could not open a checkout; try again');
    }
    await store.payments.insert(
      pendingPayment({
        id: paymentId,
        accountId: account.id,
        provider: provider.kind,
        checkoutSessionId: session.sessionId,
        pack,
        createdAt: clock.now(),
      }),
    );
    await store.flush();
    logger.info({ paymentId, provider: provider.kind, packId: pack.id }, 'checkout opened');
    return { url: session.url };
  }

  /** The account's first completed payment: what verifies a consent given after it. */
  async firstCompleted(accountId: string): Promise<CardPayment | null> {
    const paid = (await this.deps.store.payments.findBy('accountId', accountId))
      .filter((p) => p.paidAt !== null)
      .sort((a, b) => (a.paidAt ?? 0) - (b.paidAt ?? 0))[0];
    if (!paid || paid.paidAt === null) return null;
    return { paidAt: paid.paidAt, simulated: paid.provider === 'dev' };
  }

  /** The account's part of the data export (P11): every payment record, oldest first. */
  async exportFor(accountId: string): Promise<ExportDocument['payments']> {
    return (await this.deps.store.payments.findBy('accountId', accountId)).sort(oldestFirst('createdAt')).map((p) => ({
      id: p.id,
      provider: p.provider,
      packId: p.packId,
      seconds: p.seconds,
      amount: p.amount,
      currency: p.currency,
      status: p.status,
      amountRefunded: p.amountRefunded,
      checkoutSessionId: p.checkoutSessionId,
      paymentIntentId: p.paymentIntentId,
      createdAt: toIso(p.createdAt),
      paidAt: toIsoOrNull(p.paidAt),
    }));
  }

  /** The purge of a closed account (P10): payment records stay (the law keeps the books) without the account. */
  async anonymiseAccount(accountId: string): Promise<number> {
    let n = 0;
    for (const p of await this.deps.store.payments.findBy('accountId', accountId)) {
      if (await this.deps.store.payments.update(p.id, { accountId: null })) n++;
    }
    return n;
  }

  /** Completed payments: how many, and their sums per currency (sorted by currency). */
  async paidTotals(): Promise<{ payments: number; amounts: { currency: string; amount: number }[] }> {
    let payments = 0;
    const amounts = new Map<string, number>();
    for await (const batch of this.deps.store.payments.scan()) {
      for (const p of batch) {
        if (p.paidAt === null) continue;
        payments++;
        amounts.set(p.currency, (amounts.get(p.currency) ?? 0) + p.amount);
      }
    }
    return {
      payments,
      amounts: [...amounts].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
    };
  }

  /**
   * A dev checkout session's payment record, only for the key its checkout URL carried, and only
   * while the sign-in session that opened it is live (signed out, expired, revoked or the account
   * closed: the link is dead). Without the dev provider there is no such page at all.
   */
  async devSession(sessionId: string, key: string): Promise<PaymentRow | undefined> {
    const { provider, store, accounts } = this.deps;
    if (provider.kind !== 'dev' || !key) return undefined;
    const row = await store.payments.findOne('checkoutSessionId', sessionId);
    if (!row || row.provider !== 'dev' || !row.accountId) return undefined;
    const live = await accounts.liveSessions(row.accountId);
    return devCheckoutKeyMatches(
      row.checkoutSessionId,
      key,
      live.map((s) => s.tokenHash),
    )
      ? row
      : undefined;
  }

  /**
   * Reads a verified event. One of the handled types whose object does not parse is refused
   * with 400 and changes nothing; it is logged, as Stripe (or whoever holds the secret) sent
   * something this server cannot read, and Stripe's redelivery reaches a fixed deployment.
   */
  parseEvent(verified: unknown): PaymentEvent {
    try {
      return readEvent(verified);
    } catch {
      const envelope = verified as { id?: unknown; type?: unknown } | null;
      this.deps.logger.error(
        { eventId: String(envelope?.id ?? ''), type: String(envelope?.type ?? '') },
        'signed Stripe event could not be read: refused',
      );
      throw new AppError(
        'invalid_request',
        400,
        'The event is signed but is not a well-formed Stripe event of its type',
      );
    }
  }

  /**
   * Acts on one verified Stripe event, once: the event id is recorded after its effects, and the
   * store is flushed before this resolves, so an acknowledged event is on disk. A failure throws
   * (the route answers 500 and Stripe delivers again; every effect is idempotent).
   */
  async handleEvent(event: PaymentEvent): Promise<WebhookOutcome> {
    const { store, clock, logger } = this.deps;
    if (await store.webhookEvents.get(event.id)) {
      // Seen before, but perhaps only in memory (an earlier delivery whose flush failed got a
      // 500): acknowledge only once everything recorded is on disk.
      await store.flush();
      return 'duplicate';
    }
    let outcome: WebhookOutcome;
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        outcome = await this.sessionSettled(event.id, event.session, event.session.payment_status === 'paid');
        break;
      case 'checkout.session.async_payment_failed':
        outcome = await this.sessionFailed(event.id, event.session);
        break;
      case 'charge.refunded':
        outcome = await this.chargeRefunded(event.charge);
        break;
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.funds_withdrawn':
      case 'charge.dispute.funds_reinstated':
      case 'charge.dispute.closed':
        outcome = await this.disputeChanged(event.type, event.dispute);
        break;
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed':
      case 'charge.refund.updated':
        outcome = await this.refundChanged(event.refund);
        break;
      default:
        outcome = 'ignored';
    }
    try {
      await store.webhookEvents.insert({
        id: event.id,
        type: event.type === 'other' ? event.stripeType : event.type,
        receivedAt: clock.now(),
      });
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err; // a concurrent duplicate recorded it first
    }
    await store.flush();
    logger.info(
      { eventId: event.id, type: event.type === 'other' ? event.stripeType : event.type, outcome },
      'stripe event',
    );
    return outcome;
  }

  private async sessionSettled(
    eventId: string,
    session: StripeCheckoutSession,
    paid: boolean,
  ): Promise<WebhookOutcome> {
    const row = await this.paymentForSession(eventId, session);
    if (!row) return 'ignored';
    const now = this.deps.clock.now();
    await this.mutate(row.id, (r) => {
      const patch: Partial<PaymentRow> = {};
      if (session.payment_intent && r.paymentIntentId === null) patch.paymentIntentId = session.payment_intent;
      if (paid && r.paidAt === null) patch.paidAt = now;
      return Object.keys(patch).length ? patch : null;
    });
    await this.reconcile(row.id);
    return 'processed';
  }

  private async sessionFailed(eventId: string, session: StripeCheckoutSession): Promise<WebhookOutcome> {
    const row = await this.paymentForSession(eventId, session);
    if (!row) return 'ignored';
    await this.mutate(row.id, (r) => (r.paidAt === null && r.status === 'pending' ? { status: 'failed' } : null));
    return 'processed';
  }

  private async chargeRefunded(charge: StripeCharge): Promise<WebhookOutcome> {
    const row = await this.paymentForCharge(charge.id, charge.payment_intent, charge.metadata);
    if (!row) return 'ignored';
    // amount_refunded is a running total: keep the largest seen, so an older event arriving late changes nothing.
    await this.mutate(row.id, (r) => {
      const patch: Partial<PaymentRow> = {};
      if (r.chargeId === null) patch.chargeId = charge.id;
      if (charge.payment_intent && r.paymentIntentId === null) patch.paymentIntentId = charge.payment_intent;
      if (charge.amount_refunded > r.amountRefunded) patch.amountRefunded = charge.amount_refunded;
      return Object.keys(patch).length ? patch : null;
    });
    await this.reconcile(row.id);
    return 'processed';
  }

  /**
   * A dispute moves forward only (inquiry, funds withdrawn, then won or lost), so a replayed or
   * late earlier event cannot take back credit a won dispute gave back. An inquiry withdraws no
   * funds and takes nothing.
   */
  private async disputeChanged(type: DisputeEventType, dispute: StripeDispute): Promise<WebhookOutcome> {
    const row = await this.paymentForCharge(dispute.charge, dispute.payment_intent, {});
    if (!row) return 'ignored';
    const next = disputeStateOf(type, dispute.status);
    await this.mutate(row.id, (r) => {
      const patch: Partial<PaymentRow> = {};
      if (dispute.charge && r.chargeId === null) patch.chargeId = dispute.charge;
      if (dispute.payment_intent && r.paymentIntentId === null) patch.paymentIntentId = dispute.payment_intent;
      const current = disputeOf(r);
      if (next && (current === undefined || DISPUTE_RANK[next] > DISPUTE_RANK[current])) patch.dispute = next;
      return Object.keys(patch).length ? patch : null;
    });
    await this.reconcile(row.id);
    return 'processed';
  }

  /** A refund known by id: a failed or canceled one stops counting, for good. */
  private async refundChanged(refund: StripeRefund): Promise<WebhookOutcome> {
    const row = await this.paymentForCharge(refund.charge, refund.payment_intent, refund.metadata);
    if (!row) return 'ignored';
    const active = refund.status !== 'failed' && refund.status !== 'canceled';
    await this.mutate(row.id, (r) => {
      const patch: Partial<PaymentRow> = {};
      if (refund.charge && r.chargeId === null) patch.chargeId = refund.charge;
      if (refund.payment_intent && r.paymentIntentId === null) patch.paymentIntentId = refund.payment_intent;
      const known = r.refunds?.[refund.id];
      if (!known || (known.active && !active))
        patch.refunds = {
          ...r.refunds,
          [refund.id]: { amount: refund.amount, active: (known?.active ?? true) && active },
        };
      return Object.keys(patch).length ? patch : null;
    });
    await this.reconcile(row.id);
    return 'processed';
  }

  /**
   * Brings the ledger in line with the payment record. The purchase comes first; the record is
   * read again after it, so a refund or dispute recorded by a concurrent event is never missed:
   * either that event's own reconcile saw the purchase, or this one sees its record.
   */
  private async reconcile(paymentId: string): Promise<void> {
    const { store, credits, consent } = this.deps;
    const row = await store.payments.get(paymentId);
    if (!row || !row.accountId || row.paidAt === null) return;
    const accountId = row.accountId;
    await credits.purchase(accountId, row.seconds, row.checkoutSessionId);
    await consent.cardPaymentCompleted(accountId, { paidAt: row.paidAt, simulated: row.provider === 'dev' });
    const now = await store.payments.get(paymentId);
    if (!now) return;
    // What should stand reversed now: all of it while a dispute holds the money, else the
    // refunded share. Less than before (a refund failed, a dispute won) gives the difference back.
    if (fundsWithdrawn(now)) {
      await credits.reverseTo(
        accountId,
        now.checkoutSessionId,
        now.seconds,
        'reversal',
        disputeOf(now) === 'lost' ? 'dispute:lost' : 'dispute',
      );
    } else {
      const target = refundedSeconds(now.seconds, standingRefund(now), now.amount);
      await credits.reverseTo(accountId, now.checkoutSessionId, target, 'refund', refundStateKey(now));
    }
  }

  /** Compare-and-set on a payment record, retried while a concurrent event moves it. */
  private async mutate(
    id: string,
    change: (row: PaymentRow) => Partial<PaymentRow> | null,
  ): Promise<PaymentRow | undefined> {
    const table = this.deps.store.payments;
    for (let attempt = 0; attempt < 50; attempt++) {
      const row = await table.get(id);
      if (!row) return undefined;
      const patch = change(row);
      if (!patch) return row;
      const status = statusOf({ ...row, ...patch });
      const updated = await table.update(id, { ...patch, status }, { if: (current) => sameState(current, row) });
      if (updated) return updated;
    }
    throw new Error(`payment ${id} kept changing under concurrent events`);
  }

  /**
   * The record a checkout session belongs to, rebuilt from the session if it was never written
   * (the account from metadata.accountId or client_reference_id, the pack from metadata.packId).
   * A session that names two different accounts, or whose amount is not the price (of our record,
   * or of the pack when rebuilding), credits nothing.
   */
  private async paymentForSession(eventId: string, session: StripeCheckoutSession): Promise<PaymentRow | undefined> {
    const { store, credits, accounts, provider, logger, clock } = this.deps;
    const meta = sessionReference(session);
    if (meta === 'conflict') {
      // The event id only: neither account id goes to the logs.
      logger.warn({ eventId }, 'checkout session names two different accounts: acknowledged, nothing changed');
      return undefined;
    }
    const samePrice = (amount: number, currency: string) =>
      session.amount_total === amount && session.currency?.toLowerCase() === currency.toLowerCase();
    const known = await store.payments.findOne('checkoutSessionId', session.id);
    if (known) {
      // No amount (null) is no proof of payment either: only the record's own price credits it.
      if (!samePrice(known.amount, known.currency)) {
        logger.error(
          { eventId, sessionId: session.id },
          "checkout session amount is not its payment record's: not credited",
        );
        return undefined;
      }
      return known;
    }
    if (!meta || !(await accounts.get(meta.accountId))) {
      logger.warn({ sessionId: session.id }, 'checkout session for no account of ours: acknowledged, nothing changed');
      return undefined;
    }
    if (meta.paymentId) {
      const byId = await store.payments.get(meta.paymentId);
      if (byId) {
        if (byId.accountId === meta.accountId && byId.checkoutSessionId === session.id) return byId;
        logger.warn(
          { sessionId: session.id, paymentId: meta.paymentId },
          'checkout session metadata does not match its payment record: ignored',
        );
        return undefined;
      }
    }
    // The checkout opened but its record was never written (a crash between the two): rebuild it.
    const pack = credits.pack(meta.packId);
    if (!pack) {
      logger.error(
        { sessionId: session.id, packId: meta.packId },
        'checkout session for an unknown pack: not credited',
      );
      return undefined;
    }
    if (!samePrice(pack.price.amount, pack.price.currency)) {
      logger.error(
        { eventId, sessionId: session.id, packId: pack.id },
        'checkout session amount is not the pack price: not credited',
      );
      return undefined;
    }
    const row = pendingPayment({
      id: meta.paymentId ?? newId(),
      accountId: meta.accountId,
      provider: provider.kind,
      checkoutSessionId: session.id,
      pack,
      createdAt: clock.now(),
    });
    try {
      return await store.payments.insert(row);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      return store.payments.findOne('checkoutSessionId', session.id);
    }
  }

  /**
   * The record a charge (refund) or dispute belongs to: by charge id, by PaymentIntent id, or,
   * when it arrives before its checkout completed here, by the payment id in the charge's (or
   * the PaymentIntent's) metadata.
   */
  private async paymentForCharge(
    chargeId: string | null,
    paymentIntentId: string | null,
    metadata: Record<string, string>,
  ): Promise<PaymentRow | undefined> {
    const { store, accounts, provider } = this.deps;
    if (chargeId) {
      const row = await store.payments.findOne('chargeId', chargeId);
      if (row) return row;
    }
    if (paymentIntentId) {
      const row = await store.payments.findOne('paymentIntentId', paymentIntentId);
      if (row) return row;
    }
    let meta = ourMetadata(metadata);
    if (!meta?.paymentId && paymentIntentId) {
      const fromIntent = await provider.paymentIntentMetadata(paymentIntentId);
      meta = fromIntent ? ourMetadata(fromIntent) : null;
    }
    if (!meta?.paymentId) return undefined;
    const row = await store.payments.get(meta.paymentId);
    if (!row || row.accountId !== meta.accountId || !(await accounts.get(meta.accountId))) return undefined;
    // Linked by our own id, but never onto a record already tied to a different charge or intent.
    if (
      (row.chargeId && chargeId && row.chargeId !== chargeId) ||
      (row.paymentIntentId && paymentIntentId && row.paymentIntentId !== paymentIntentId)
    )
      return undefined;
    return row;
  }
}
