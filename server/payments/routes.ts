import express, { Router, type Request, type Response } from 'express';
import Stripe from 'stripe';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { handler, publicBaseUrl } from '../core/http.js';
import type { Logger } from '../core/logger.js';
import type { PaymentsService } from './service.js';
import { deliverSigned, devCompletedEvent } from './dev-provider.js';
import { devCheckoutBody, pageLocale, paragraph, sendPage, simulatedBanner, textFor, type PageText } from './pages.js';
import type { Locale } from '../../shared/locales.js';

export const WEBHOOK_PATH = '/api/stripe/webhook';

/**
 * POST /api/stripe/webhook. Mounted on the app BEFORE the /api JSON parser: the signature is
 * over the exact bytes Stripe sent, so the body is taken raw and verified with the SDK.
 */
export function stripeWebhookRoutes(payments: PaymentsService, webhookSecret: string): Router {
  const r = Router();
  r.post(
    WEBHOOK_PATH,
    express.raw({ type: 'application/json', limit: '512kb' }),
    handler(async (req, res) => {
      if (!Buffer.isBuffer(req.body))
        throw new AppError('unsupported_media_type', 415, 'Send the Stripe event as application/json');
      const signature = req.headers['stripe-signature'];
      let verified: unknown;
      try {
        verified = Stripe.webhooks.constructEvent(
          req.body,
          typeof signature === 'string' ? signature : '',
          webhookSecret,
        );
      } catch {
        throw new AppError('invalid_signature', 400, 'The Stripe-Signature header does not verify this body');
      }
      const outcome = await payments.handleEvent(payments.parseEvent(verified));
      res.status(200).json({ received: true, outcome });
    }),
  );
  return r;
}

/**
 * The pages a Stripe checkout returns to (success and cancel URLs). They only say what
 * happened; the credit arrives through the webhook, never through these links.
 */
export function checkoutReturnRoutes(): Router {
  const r = Router();
  r.get('/checkout/done', (req, res) => {
    const locale = pageLocale(req);
    const t = textFor(locale);
    sendPage(res, 200, locale, t.returnedTitle, paragraph(t.returnedExplain));
  });
  r.get('/checkout/cancelled', (req, res) => {
    const locale = pageLocale(req);
    const t = textFor(locale);
    sendPage(res, 200, locale, t.cancelledTitle, paragraph(t.cancelledExplain));
  });
  return r;
}

export interface DevCheckoutDeps {
  payments: PaymentsService;
  clock: Clock;
  logger: Logger;
  webhookSecret: string;
  /** This server's own webhook URL on loopback, known once it listens. */
  webhookUrl: () => string;
  /** PUBLIC_URL when set: the only origin the Pay form may be posted from. */
  publicUrl: string | undefined;
}

/** The key the checkout URL carries (query on the page, a hidden field of the Pay form). */
function keyOf(value: unknown): string {
  return typeof value === 'string' && value.length <= 128 ? value : '';
}

/**
 * Was the Pay form posted by this server's own page? The page's Referrer-Policy (same-origin)
 * makes browsers send Origin on its form POST; a cross-site form, a foreign page's fetch or a
 * sandboxed frame (Origin: null) is refused. Without Origin, only Sec-Fetch-Site: same-origin counts.
 */
function sameOrigin(req: Request, publicUrl: string | undefined): boolean {
  const own = new URL(publicBaseUrl(req, publicUrl)).origin;
  const origin = req.get('origin');
  if (origin !== undefined) return origin === own;
  return req.get('sec-fetch-site') === 'same-origin';
}

/**
 * The dev provider's checkout: GET shows the test page (or "done" once paid), the Pay button
 * POSTs here, and the server delivers a signed checkout.session.completed to its own webhook
 * over real HTTP, then redirects back to the page (POST-redirect-GET, so a reload never pays twice).
 * Both need the checkout's key, which binds it to the live sign-in session that opened it: a
 * bare URL, a guessed one, or one whose parent signed out since is "not valid". Pay refuses
 * any origin but this server's own. Every page says payments are simulated.
 */
export function devCheckoutRoutes(deps: DevCheckoutDeps): Router {
  const r = Router();
  const notValid = (res: Response, locale: Locale, t: PageText) =>
    sendPage(res, 404, locale, t.notFoundTitle, simulatedBanner(t) + paragraph(t.notFoundExplain));
  r.get(
    '/dev/checkout/:sessionId',
    handler(async (req, res) => {
      const locale = pageLocale(req);
      const t = textFor(locale);
      const key = keyOf(req.query.key);
      const row = await deps.payments.devSession(String(req.params.sessionId), key);
      if (!row) return notValid(res, locale, t);
      if (row.paidAt !== null)
        return sendPage(res, 200, locale, t.doneTitle, simulatedBanner(t) + paragraph(t.doneExplain));
      sendPage(
        res,
        200,
        locale,
        t.testTitle,
        devCheckoutBody(t, locale, row.checkoutSessionId, key, {
          seconds: row.seconds,
          price: { amount: row.amount, currency: row.currency },
        }),
      );
    }),
  );
  r.post(
    '/dev/checkout/:sessionId/pay',
    express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 4 }),
    handler(async (req, res) => {
      const locale = pageLocale(req);
      const t = textFor(locale);
      const sessionId = String(req.params.sessionId);
      const body: unknown = req.body;
      const key = keyOf(typeof body === 'object' && body !== null ? (body as Record<string, unknown>).key : undefined);
      const row = await deps.payments.devSession(sessionId, key);
      if (!row) return notValid(res, locale, t);
      if (!sameOrigin(req, deps.publicUrl)) {
        deps.logger.warn({ paymentId: row.id }, 'dev payment posted from another origin: refused');
        return sendPage(res, 403, locale, t.crossSiteTitle, simulatedBanner(t) + paragraph(t.crossSiteExplain));
      }
      if (row.paidAt === null) {
        const event = devCompletedEvent(row, deps.clock.now());
        let status = 0;
        try {
          status = await deliverSigned(deps.webhookUrl(), event.payload, deps.webhookSecret);
        } catch (err) {
          deps.logger.error(
            { paymentId: row.id, err: err instanceof Error ? err.message : String(err) },
            'dev payment could not reach the webhook',
          );
        }
        if (status !== 200) {
          deps.logger.error({ paymentId: row.id, status }, 'dev payment event was not accepted');
          return sendPage(res, 502, locale, t.failedTitle, simulatedBanner(t) + paragraph(t.failedExplain));
        }
      }
      res.redirect(303, `/dev/checkout/${encodeURIComponent(sessionId)}?lang=${locale}&key=${encodeURIComponent(key)}`);
    }),
  );
  return r;
}
