import type { Locale } from '../../shared/locales.js';
import type { Pack } from '../../shared/schemas/credits.js';

/** What a checkout needs to know; nothing about the parent beyond the account id. */
export interface CheckoutRequest {
  /** Our payment record's id: the idempotency key's root and a metadata key to trace the payment back. */
  paymentId: string;
  accountId: string;
  /**
   * A secret of the sign-in session that opens the checkout (the stored hash of its token). Never
   * sent anywhere: the dev provider keys its test page with it, so the page is bound to that session.
   */
  openerSecret: string;
  pack: Pack;
  locale: Locale;
  /** Public base URL of this server (PUBLIC_URL or the request's own origin), no trailing slash. */
  baseUrl: string;
}

export interface CheckoutSession {
  sessionId: string;
  url: string;
}

/** The metadata every checkout carries, on the session and on its PaymentIntent (so on refunds and disputes). */
export interface PaymentMetadata {
  accountId: string;
  packId: string;
  paymentId: string;
}

/**
 * Where a parent pays. Stripe Checkout in production; without STRIPE_SECRET_KEY the dev
 * provider, whose local page delivers a signed event through the same webhook handler.
 */
export interface PaymentsProvider {
  readonly kind: 'stripe' | 'dev';
  /** True when no money moves: the UI and the logs say so. */
  readonly simulated: boolean;
  createCheckout(req: CheckoutRequest): Promise<CheckoutSession>;
  /**
   * The metadata of a PaymentIntent, for a dispute (or a refund without metadata) that arrives
   * before the checkout it belongs to is known here. null when the provider has no such intent.
   */
  paymentIntentMetadata(paymentIntentId: string): Promise<Record<string, string> | null>;
}

export function checkoutMetadata(req: CheckoutRequest): PaymentMetadata {
  return { accountId: req.accountId, packId: req.pack.id, paymentId: req.paymentId };
}

export function checkoutUrls(baseUrl: string, locale: Locale): { successUrl: string; cancelUrl: string } {
  return {
    successUrl: `${baseUrl}/checkout/done?lang=${locale}&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: `${baseUrl}/checkout/cancelled?lang=${locale}`,
  };
}
