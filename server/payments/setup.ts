import type { Config } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import type { PaymentsProvider } from './provider.js';
import { StripeProvider, stripeClient } from './stripe-provider.js';
import { DevProvider, devWebhookSecret } from './dev-provider.js';

/**
 * Picks the payment provider from the configuration and says at start, plainly, which one runs.
 * STRIPE_WEBHOOK_SECRET, when set, is the secret the webhook verifies in either mode (operators
 * replay real events with the Stripe CLI); dev mode without it uses a random per-process secret.
 */
export function paymentsProvider(
  config: Pick<Config, 'stripe' | 'production'>,
  logger: Logger,
): { provider: PaymentsProvider; webhookSecret: string } {
  const { secretKey, webhookSecret, apiUrl } = config.stripe;
  if (secretKey) {
    if (!webhookSecret) {
      logger.error(
        'STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused and no payment will be credited',
      );
    }
    logger.info(
      { payments: 'stripe', apiUrl: apiUrl ?? 'https://api.stripe.com' },
      'Payments go through Stripe Checkout',
    );
    return {
      provider: new StripeProvider(stripeClient(secretKey, apiUrl)),
      webhookSecret: webhookSecret ?? devWebhookSecret(),
    };
  }
  (config.production ? logger.error.bind(logger) : logger.warn.bind(logger))(
    { payments: 'dev' },
    config.production
      ? 'Payments are SIMULATED (SIMULATED_PAYMENTS=true in production): checkout opens a local "Test payment — no money moves" page and no money moves'
      : 'Payments are SIMULATED: no STRIPE_SECRET_KEY, so checkout opens a local "Test payment — no money moves" page and no money moves',
  );
  return { provider: new DevProvider(), webhookSecret: webhookSecret ?? devWebhookSecret() };
}
