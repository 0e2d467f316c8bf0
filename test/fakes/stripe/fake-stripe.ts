import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A local fake of the parts of the Stripe API this server uses, speaking Stripe's protocol:
 * form-encoded bodies with bracketed keys, bearer secret keys, Idempotency-Key replays and
 * Stripe's error shape. The real `stripe` SDK is pointed at it through STRIPE_API_URL.
 *
 * It records every request (headers included) and plays Stripe's side of a payment for the
 * tests: paying a session, refunding and disputing its charge, and building the events Stripe
 * would send, which `deliver` signs with the SDK's `generateTestHeaderString`.
 */

export type FormValue = string | FormValue[] | { [key: string]: FormValue };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The form-encoded body, nested as Stripe reads it (`metadata[accountId]` -> `{ metadata: { accountId } }`). */
  form: { [key: string]: FormValue };
  raw: string;
}

interface FakeSession {
  id: string;
  object: 'checkout.session';
  mode: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid';
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  payment_intent: string | null;
  success_url: string;
  cancel_url: string;
  url: string;
  livemode: false;
  created: number;
}

interface FakePaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  latest_charge: string;
  status: 'succeeded';
}

interface FakeCharge {
  id: string;
  object: 'charge';
  amount: number;
  amount_refunded: number;
  currency: string;
  payment_intent: string;
  metadata: Record<string, string>;
  paid: true;
  refunded: boolean;
  status: 'succeeded';
  /** What Stripe really sends on a charge; the server must drop it (P15). */
  payment_method_details: {
    type: 'card';
    card: { brand: string; last4: string; exp_month: number; exp_year: number; fingerprint: string };
  };
  billing_details: { name: string; email: string };
}

export interface FakeRefund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  failure_reason: string | null;
  metadata: Record<string, string>;
}

export interface FakeDispute {
  id: string;
  object: 'dispute';
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  reason: string;
  status:
    | 'warning_needs_response'
    | 'warning_under_review'
    | 'warning_closed'
    | 'needs_response'
    | 'under_review'
    | 'won'
    | 'lost';
  metadata: Record<string, string>;
}

export interface StripeEventPayload {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  type: string;
  data: { object: object };
}

const rid = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('hex')}`;

/** Parses `a[b][0][c]=v&...` into nested objects; all-numeric keys become arrays. */
export function parseStripeForm(body: string): { [key: string]: FormValue } {
  const root: { [key: string]: FormValue } = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.split(/\[|\]\[|\]/).filter((p, i) => p !== '' || i === 0);
    let node: { [key: string]: FormValue } = root;
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else {
        const next = node[part];
        if (typeof next !== 'object' || Array.isArray(next)) node[part] = {};
        node = node[part] as { [key: string]: FormValue };
      }
    });
  }
  const arrays = (v: FormValue): FormValue => {
    if (typeof v === 'string' || Array.isArray(v)) return v;
    const keys = Object.keys(v);
    const mapped = Object.fromEntries(keys.map((k) => [k, arrays(v[k] as FormValue)]));
    return keys.length > 0 && keys.every((k) => /^\d+$/.test(k))
      ? keys.sort((a, b) => Number(a) - Number(b)).map((k) => mapped[k] as FormValue)
      : mapped;
  };
  return arrays(root) as { [key: string]: FormValue };
}

const str = (v: FormValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: FormValue | undefined): { [key: string]: FormValue } =>
  v && typeof v === 'object' && !Array.isArray(v) ? v : {};
const strings = (v: FormValue | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));

export class FakeStripe {
  readonly requests: RecordedRequest[] = [];
  readonly sessions = new Map<string, FakeSession>();
  readonly paymentIntents = new Map<string, FakePaymentIntent>();
  readonly charges = new Map<string, FakeCharge>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly disputes = new Map<string, FakeDispute>();
  private readonly idempotent = new Map<string, { body: string; status: number; response: string }>();
  private failures: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeStripe> {
    let fake: FakeStripe | null = null;
    const server = createServer((req, res) => {
      void fake?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeStripe(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `count` API requests answer this HTTP status (a Stripe api_error), before any work. */
  failNext(status: number, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  checkoutRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
  }

  // ---- Stripe's side of a payment -------------------------------------------------------

  /** The parent paid: the session completes, with a PaymentIntent and a charge carrying the intent's metadata. */
  pay(sessionId: string): { session: FakeSession; intent: FakePaymentIntent; charge: FakeCharge } {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`fake stripe: no session ${sessionId}`);
    const form = this.sessionForms.get(sessionId) ?? {};
    const intentMetadata = strings(obj(form.payment_intent_data).metadata);
    const intent: FakePaymentIntent = {
      id: rid('pi'),
      object: 'payment_intent',
      amount: session.amount_total,
      currency: session.currency,
      metadata: intentMetadata,
      latest_charge: '',
      status: 'succeeded',
    };
    const charge: FakeCharge = {
      id: rid('ch'),
      object: 'charge',
      amount: session.amount_total,
      amount_refunded: 0,
      currency: session.currency,
      payment_intent: intent.id,
      metadata: { ...intentMetadata },
      paid: true,
      refunded: false,
      status: 'succeeded',
      payment_method_details: {
        type: 'card',
        card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034, fingerprint: 'FAKEfingerprint42' },
      },
      billing_details: { name: 'Card Holder Canary', email: 'cardholder-canary@example.test' },
    };
    intent.latest_charge = charge.id;
    session.status = 'complete';
    session.payment_status = 'paid';
    session.payment_intent = intent.id;
    this.paymentIntents.set(intent.id, intent);
    this.charges.set(charge.id, charge);
    return { session, intent, charge };
  }

  /** A refund: amount_refunded is Stripe's running total over every refund of the charge. */
  refund(chargeId: string, amount: number): FakeCharge {
    const charge = this.charges.get(chargeId);
    if (!charge) throw new Error(`fake stripe: no charge ${chargeId}`);
    charge.amount_refunded = Math.min(charge.amount, charge.amount_refunded + amount);
    charge.refunded = charge.amount_refunded === charge.amount;
    return structuredClone(charge);
  }

  /**
   * A refund as its own object, as Stripe keeps it: the charge's running amount_refunded grows
   * by it at once (a pending refund counts), and the events Stripe sends for it.
   */
  createRefund(
    chargeId: string,
    amount: number,
    status: 'pending' | 'succeeded' = 'succeeded',
  ): { refund: FakeRefund; refunded: StripeEventPayload; created: StripeEventPayload } {
    const charge = this.charges.get(chargeId);
    if (!charge) throw new Error(`fake stripe: no charge ${chargeId}`);
    const refund: FakeRefund = {
      id: rid('re'),
      object: 'refund',
      amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      status,
      failure_reason: null,
      metadata: {},
    };
    this.refunds.set(refund.id, refund);
    const refunded = this.refundedEvent(this.refund(chargeId, amount));
    return { refund: structuredClone(refund), refunded, created: this.event('refund.created', refund) };
  }

  /**
   * The refund could not reach the card (closed account, expired card): Stripe marks it failed,
   * returns the money to the balance and lowers the charge's amount_refunded again. Events:
   * refund.failed and refund.updated (and charge.refund.updated on older API versions).
   */
  failRefund(refundId: string): {
    failed: StripeEventPayload;
    updated: StripeEventPayload;
    chargeUpdated: StripeEventPayload;
  } {
    const refund = this.refunds.get(refundId);
    if (!refund) throw new Error(`fake stripe: no refund ${refundId}`);
    const charge = this.charges.get(refund.charge)!;
    if (refund.status !== 'failed') {
      refund.status = 'failed';
      refund.failure_reason = 'expired_or_canceled_card';
      charge.amount_refunded = Math.max(0, charge.amount_refunded - refund.amount);
      charge.refunded = false;
    }
    return {
      failed: this.event('refund.failed', refund),
      updated: this.event('refund.updated', refund),
      chargeUpdated: this.event('charge.refund.updated', refund),
    };
  }

  /**
   * The cardholder disputes the charge. A chargeback withdraws the funds at once
   * (charge.dispute.created, charge.dispute.funds_withdrawn); an inquiry (`inquiry: true`,
   * status warning_needs_response) withdraws nothing (charge.dispute.created only).
   */
  openDispute(
    chargeId: string,
    options: { inquiry?: boolean } = {},
  ): { dispute: FakeDispute; events: StripeEventPayload[] } {
    const charge = this.charges.get(chargeId);
    if (!charge) throw new Error(`fake stripe: no charge ${chargeId}`);
    const dispute: FakeDispute = {
      id: rid('dp'),
      object: 'dispute',
      amount: charge.amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      reason: options.inquiry ? 'general' : 'fraudulent',
      status: options.inquiry ? 'warning_needs_response' : 'needs_response',
      metadata: {},
    };
    this.disputes.set(dispute.id, dispute);
    const events = [this.event('charge.dispute.created', dispute)];
    if (!options.inquiry) events.push(this.event('charge.dispute.funds_withdrawn', dispute));
    return { dispute: structuredClone(dispute), events };
  }

  /**
   * The dispute is decided: charge.dispute.closed with status won or lost (warning_closed for an
   * inquiry), and for a won chargeback charge.dispute.funds_reinstated.
   */
  closeDispute(disputeId: string, outcome: 'won' | 'lost'): StripeEventPayload[] {
    const dispute = this.disputes.get(disputeId);
    if (!dispute) throw new Error(`fake stripe: no dispute ${disputeId}`);
    const inquiry = dispute.status.startsWith('warning_');
    dispute.status = inquiry ? 'warning_closed' : outcome;
    const events = [this.event('charge.dispute.closed', dispute)];
    if (!inquiry && outcome === 'won') events.push(this.event('charge.dispute.funds_reinstated', dispute));
    return events;
  }

  event(type: string, object: object): StripeEventPayload {
    return {
      id: rid('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: Math.trunc(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      type,
      data: { object: structuredClone(object) },
    };
  }

  completedEvent(sessionId: string): StripeEventPayload {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`fake stripe: no session ${sessionId}`);
    return this.event('checkout.session.completed', session);
  }

  refundedEvent(charge: FakeCharge): StripeEventPayload {
    return this.event('charge.refunded', charge);
  }

  disputeEvent(chargeId: string): StripeEventPayload {
    const charge = this.charges.get(chargeId);
    if (!charge) throw new Error(`fake stripe: no charge ${chargeId}`);
    return this.event('charge.dispute.created', {
      id: rid('dp'),
      object: 'dispute',
      amount: charge.amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      reason: 'fraudulent',
      status: 'needs_response',
      metadata: {},
    });
  }

  // ---- the HTTP API ----------------------------------------------------------------------

  private readonly sessionForms = new Map<string, { [key: string]: FormValue }>();

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const form = req.headers['content-type']?.includes('application/x-www-form-urlencoded') ? parseStripeForm(raw) : {};
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, headers, form, raw });

    const send = (status: number, body: object, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': rid('req'), ...extra });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string, extra: Record<string, string> = {}) =>
      send(status, { error: { type, message } }, extra);

    if (!/^Bearer sk_test_\w+$/.test(headers.authorization ?? '')) {
      return error(401, 'invalid_request_error', 'Invalid API Key provided');
    }
    const failure = this.failures.shift();
    if (failure !== undefined) return error(failure, 'api_error', 'The fake was told to fail this request');

    const key = headers['idempotency-key'];
    if (req.method === 'POST' && key) {
      const seen = this.idempotent.get(key);
      if (seen) {
        if (seen.body !== raw) {
          return error(
            400,
            'idempotency_error',
            'Keys for idempotent requests can only be used with the same parameters they were first used with.',
          );
        }
        res.writeHead(seen.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
        return void res.end(seen.response);
      }
    }

    let status = 200;
    let response: object;
    if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
      const lineItem = obj(Array.isArray(form.line_items) ? form.line_items[0] : undefined);
      const priceData = obj(lineItem.price_data);
      const amount = Number(str(priceData.unit_amount)) * Number(str(lineItem.quantity) ?? '1');
      const currency = str(priceData.currency);
      if (str(form.mode) !== 'payment' || !Number.isInteger(amount) || !currency || !str(form.success_url)) {
        return error(400, 'invalid_request_error', 'mode, line_items[0][price_data] and success_url are required');
      }
      const id = rid('cs');
      const session: FakeSession = {
        id,
        object: 'checkout.session',
        mode: 'payment',
        status: 'open',
        payment_status: 'unpaid',
        amount_total: amount,
        currency,
        client_reference_id: str(form.client_reference_id) ?? null,
        metadata: strings(form.metadata),
        payment_intent: null,
        success_url: str(form.success_url) ?? '',
        cancel_url: str(form.cancel_url) ?? '',
        url: `https://checkout.stripe.test/c/pay/${id}`,
        livemode: false,
        created: Math.trunc(Date.now() / 1000),
      };
      this.sessions.set(id, session);
      this.sessionForms.set(id, form);
      response = session;
    } else if (req.method === 'GET' && url.pathname.startsWith('/v1/payment_intents/')) {
      const intent = this.paymentIntents.get(decodeURIComponent(url.pathname.slice('/v1/payment_intents/'.length)));
      if (!intent) return error(404, 'invalid_request_error', 'No such payment_intent');
      response = intent;
    } else {
      status = 404;
      response = {
        error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${url.pathname})` },
      };
    }
    const text = JSON.stringify(response);
    if (req.method === 'POST' && key) this.idempotent.set(key, { body: raw, status, response: text });
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': rid('req') });
    res.end(text);
  }
}

/** Delivers an event to a webhook as Stripe does: the raw JSON, signed with the endpoint's secret. */
export async function deliver(
  webhookUrl: string,
  event: object,
  secret: string,
  opts: { signature?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify(event);
  const signature = opts.signature ?? Stripe.webhooks.generateTestHeaderString({ payload, secret });
  const res = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}
