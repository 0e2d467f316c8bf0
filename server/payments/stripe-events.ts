import { z } from 'zod';

/**
 * The parts of Stripe's webhook payloads this server reads, validated at the edge. Everything
 * else (billing details, card brand and last digits, addresses) is dropped by the parse and
 * never reaches the store or a log line (P15).
 */
const idOf = z
  .union([z.string(), z.object({ id: z.string() })])
  .nullish()
  .transform((v) => (typeof v === 'string' ? v : (v?.id ?? null)));

const metadata = z
  .record(z.string(), z.string())
  .nullish()
  .transform((m) => m ?? {});

export const checkoutSessionSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('checkout.session'),
  mode: z.string().nullish(),
  payment_status: z.string(),
  amount_total: z.number().int().nonnegative().nullish(),
  currency: z.string().nullish(),
  client_reference_id: z.string().nullish(),
  payment_intent: idOf,
  metadata,
});
export type StripeCheckoutSession = z.infer<typeof checkoutSessionSchema>;

export const chargeSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('charge'),
  amount: z.number().int().nonnegative(),
  amount_refunded: z.number().int().nonnegative(),
  currency: z.string(),
  payment_intent: idOf,
  metadata,
});
export type StripeCharge = z.infer<typeof chargeSchema>;

export const disputeSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('dispute'),
  amount: z.number().int().nonnegative(),
  charge: idOf,
  payment_intent: idOf,
  /** warning_* is an inquiry (no funds withdrawn); needs_response, under_review; won, lost, prevented. */
  status: z.string().max(64).nullish(),
});
export type StripeDispute = z.infer<typeof disputeSchema>;

export const refundSchema = z.object({
  id: z.string().min(1).max(255),
  object: z.literal('refund'),
  amount: z.number().int().nonnegative(),
  /** pending, requires_action, succeeded, failed, canceled. */
  status: z.string().max(64).nullish(),
  charge: idOf,
  payment_intent: idOf,
  metadata,
});
export type StripeRefund = z.infer<typeof refundSchema>;

/** Dispute events: the dispute's status (and for the funds events, the event itself) says where the money is. */
export const DISPUTE_EVENTS = [
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
  'charge.dispute.closed',
] as const;
export type DisputeEventType = (typeof DISPUTE_EVENTS)[number];
/** Refund events: a refund whose status is failed or canceled gives back what it took. */
export const REFUND_EVENTS = ['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated'] as const;
export type RefundEventType = (typeof REFUND_EVENTS)[number];

/** Only id and type are needed to acknowledge an event; `data` is read for the types acted on. */
export const eventEnvelopeSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  data: z.object({ object: z.unknown() }).nullish(),
});

/** The events this server acts on; every other type is acknowledged and ignored. */
export type PaymentEvent =
  | {
      id: string;
      type:
        | 'checkout.session.completed'
        | 'checkout.session.async_payment_succeeded'
        | 'checkout.session.async_payment_failed';
      session: StripeCheckoutSession;
    }
  | { id: string; type: 'charge.refunded'; charge: StripeCharge }
  | { id: string; type: DisputeEventType; dispute: StripeDispute }
  | { id: string; type: RefundEventType; refund: StripeRefund }
  | { id: string; type: 'other'; stripeType: string };

/** Reads a verified event; a handled type whose object does not parse throws (a ZodError). */
export function readEvent(event: unknown): PaymentEvent {
  const envelope = eventEnvelopeSchema.parse(event);
  const { id, type } = envelope;
  const object = envelope.data?.object;
  switch (type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
      return { id, type, session: checkoutSessionSchema.parse(object) };
    case 'charge.refunded':
      return { id, type, charge: chargeSchema.parse(object) };
    case 'charge.dispute.created':
    case 'charge.dispute.updated':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.funds_reinstated':
    case 'charge.dispute.closed':
      return { id, type, dispute: disputeSchema.parse(object) };
    case 'refund.created':
    case 'refund.failed':
    case 'refund.updated':
    case 'charge.refund.updated':
      return { id, type, refund: refundSchema.parse(object) };
    default:
      return { id, type: 'other', stripeType: type };
  }
}

/** Who a payment is for, which pack, and our payment record's id when known. */
export type OurReference = { accountId: string; packId: string; paymentId: string | null };

/** Our own metadata keys, when an object carries them. */
export function ourMetadata(m: Record<string, string>): OurReference | null {
  const accountId = m.accountId;
  const packId = m.packId;
  if (!accountId || !packId) return null;
  return { accountId, packId, paymentId: m.paymentId || null };
}

/**
 * The account a checkout session belongs to: `metadata.accountId` (ours) or, without it,
 * `client_reference_id`, Stripe's own field for tying a session to your user (our checkouts
 * set both); the pack always from `metadata.packId`. Two different accounts are a conflict,
 * never a choice. Sessions opened before client_reference_id carried the account id carried
 * our payment id there instead, which is no conflict.
 */
export function sessionReference(
  session: Pick<StripeCheckoutSession, 'client_reference_id' | 'metadata'>,
): OurReference | 'conflict' | null {
  const reference = session.client_reference_id || null;
  const { accountId, paymentId } = session.metadata;
  if (accountId && reference && accountId !== reference && reference !== paymentId) return 'conflict';
  return ourMetadata({ ...session.metadata, accountId: accountId || reference || '' });
}
