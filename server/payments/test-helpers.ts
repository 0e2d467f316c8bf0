import { expect } from 'vitest';
import type { TestServer } from '../../test/support/server.js';
import { deliver, type FakeStripe, type StripeEventPayload } from '../../test/fakes/stripe/fake-stripe.js';
import type { PaymentRow } from '../store/types.js';

/** Shared by the payments tests: a server whose Stripe SDK talks to the local fake. */
export const WEBHOOK_SECRET = 'whsec_test_callsanta_webhook_secret';
export const SECRET_KEY = 'sk_test_callsanta';

export function stripeEnv(fake: FakeStripe, extra: Record<string, string> = {}): Record<string, string> {
  return { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_URL: fake.url, ...extra };
}

export const webhookUrl = (server: TestServer) => `${server.url}/api/stripe/webhook`;

/** Delivers an event as Stripe would, signed with the configured secret. */
export async function send(server: TestServer, event: StripeEventPayload | object, secret = WEBHOOK_SECRET) {
  return deliver(webhookUrl(server), event, secret);
}

/** Opens a checkout through the API and returns the Stripe session and our payment record. */
export async function openCheckout(
  server: TestServer,
  token: string,
  packId = 'pack-10',
): Promise<{ sessionId: string; payment: PaymentRow }> {
  const res = await server.api.post('/api/credits/checkout', { packId }, token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const sessionId = String(res.body.url).split('/').pop() ?? '';
  const payment = await server.app.store.payments.findOne('checkoutSessionId', sessionId);
  if (!payment) throw new Error('no payment record for the checkout');
  return { sessionId, payment };
}

export async function creditsOf(server: TestServer, token: string) {
  const res = await server.api.get('/api/credits', token);
  expect(res.status).toBe(200);
  return res.body as {
    balanceSeconds: number;
    availableSeconds: number;
    owesSeconds: number;
    history: { kind: string; seconds: number; ref: string }[];
  };
}
