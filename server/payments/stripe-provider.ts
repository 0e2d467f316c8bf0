import Stripe from 'stripe';
import type { CheckoutRequest, CheckoutSession, PaymentsProvider } from './provider.js';
import { checkoutMetadata, checkoutUrls } from './provider.js';

/**
 * The official SDK. STRIPE_API_URL points it elsewhere through its host/port/protocol
 * settings, which is how the tests run it against a local fake of the API.
 */
export function stripeClient(secretKey: string, apiUrl?: string): Stripe {
  const config: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20_000, telemetry: false };
  if (apiUrl) {
    const url = new URL(apiUrl);
    config.protocol = url.protocol === 'http:' ? 'http' : 'https';
    config.host = url.hostname;
    config.port = url.port || (config.protocol === 'http' ? 80 : 443);
  }
  return new Stripe(secretKey, config);
}

/** Stripe Checkout: card details are entered on Stripe's page and never reach this server (P15). */
export class StripeProvider implements PaymentsProvider {
  readonly kind = 'stripe';
  readonly simulated = false;

  constructor(private readonly stripe: Stripe) {}

  async createCheckout(req: CheckoutRequest): Promise<CheckoutSession> {
    const metadata = { ...checkoutMetadata(req) };
    const { successUrl, cancelUrl } = checkoutUrls(req.baseUrl, req.locale);
    const minutes = Math.trunc(req.pack.seconds / 60);
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: req.pack.price.currency,
              unit_amount: req.pack.price.amount,
              product_data: { name: `Call Santa: ${minutes} minutes of call time` },
            },
          },
        ],
        // On the session for checkout.session.* events, and on the PaymentIntent so the charge,
        // its refunds and its disputes can be traced back to the account and the pack.
        metadata,
        payment_intent_data: { metadata },
        // Stripe's own field for tying a session to your user: the account id, as in the metadata.
        client_reference_id: req.accountId,
        locale: req.locale,
        success_url: successUrl,
        cancel_url: cancelUrl,
      },
      // One key per payment record: the SDK's own network retries can never open a second session.
      { idempotencyKey: `checkout-${req.paymentId}` },
    );
    if (!session.url) throw new Error('Stripe answered a checkout session without a URL');
    return { sessionId: session.id, url: session.url };
  }

  async paymentIntentMetadata(paymentIntentId: string): Promise<Record<string, string> | null> {
    try {
      const intent = await this.stripe.paymentIntents.retrieve(paymentIntentId);
      return { ...intent.metadata };
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError && err.statusCode === 404) return null;
      throw err;
    }
  }
}
