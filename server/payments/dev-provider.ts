import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import Stripe from 'stripe';
import { newSecret } from '../core/ids.js';
import type { PaymentRow } from '../store/types.js';
import type { CheckoutRequest, CheckoutSession, PaymentsProvider } from './provider.js';

/**
 * Payments without Stripe: the checkout URL opens a local "Test payment — no money moves" page
 * on this server, whose Pay button makes the server send itself a correctly signed
 * `checkout.session.completed` through the very same webhook handler Stripe would call.
 */
export class DevProvider implements PaymentsProvider {
  readonly kind = 'dev';
  readonly simulated = true;
  async createCheckout(req: CheckoutRequest): Promise<CheckoutSession> {
    // 256 random bits name the session; the key binds it to the sign-in session that opened it.
    const sessionId = `cs_dev_${newSecret()}`;
    return {
      sessionId,
      url: `${req.baseUrl}/dev/checkout/${sessionId}?lang=${req.locale}&key=${devCheckoutKey(sessionId, req.openerSecret)}`,
    };
  }

  async paymentIntentMetadata(): Promise<null> {
    return null; // dev payments are never refunded or disputed from outside
  }
}

/**
 * The test page's key: an HMAC of the checkout session keyed by a secret of the sign-in session
 * that opened it (the stored hash of its bearer token, never shown anywhere). Only this server
 * can make it, it survives restarts, and it dies with that sign-in session.
 */
export function devCheckoutKey(checkoutSessionId: string, openerSecret: string): string {
  return createHmac('sha256', openerSecret).update(`dev-checkout\0${checkoutSessionId}`).digest('base64url');
}

/** Was the key made for one of these sign-in sessions' secrets? Constant time per candidate. */
export function devCheckoutKeyMatches(
  checkoutSessionId: string,
  key: string,
  openerSecrets: readonly string[],
): boolean {
  const given = Buffer.from(key);
  let match = false;
  for (const secret of openerSecrets) {
    const expected = Buffer.from(devCheckoutKey(checkoutSessionId, secret));
    if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
  }
  return match;
}

/** A per-process webhook secret for dev payments when STRIPE_WEBHOOK_SECRET is not set. */
export function devWebhookSecret(): string {
  return `whsec_dev_${newSecret()}`;
}

/** The event Stripe would send once the parent paid this session, shaped like Stripe's. */
export function devCompletedEvent(row: PaymentRow, nowMs: number): { id: string; payload: string } {
  const created = Math.trunc(nowMs / 1000);
  const metadata = { accountId: row.accountId ?? '', packId: row.packId, paymentId: row.id };
  const event = {
    id: `evt_dev_${newSecret()}`,
    object: 'event',
    api_version: Stripe.API_VERSION,
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'checkout.session.completed',
    data: {
      object: {
        id: row.checkoutSessionId,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        payment_status: 'paid',
        amount_total: row.amount,
        currency: row.currency,
        client_reference_id: row.accountId,
        payment_intent: `pi_dev_${newSecret()}`,
        metadata,
        livemode: false,
        created,
      },
    },
  };
  return { id: event.id, payload: JSON.stringify(event) };
}

/**
 * Signs a payload as Stripe does and POSTs it to our own webhook over real HTTP(S).
 * Resolves with the HTTP status the webhook answered.
 */
export async function deliverSigned(webhookUrl: string, payload: string, secret: string): Promise<number> {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
  const headers = { 'content-type': 'application/json', 'stripe-signature': signature };
  const url = new URL(webhookUrl);
  if (url.protocol === 'http:') {
    const res = await fetch(url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    return res.status;
  }
  // Our own TLS listener on loopback: its certificate names the public host, not 127.0.0.1.
  // The body is HMAC-signed, so the connection's identity adds nothing here.
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', headers, rejectUnauthorized: false, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('webhook delivery timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
