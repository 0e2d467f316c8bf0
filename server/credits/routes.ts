import { Router } from 'express';
import { checkoutBodySchema, creditsQuerySchema, type Credits } from '../../shared/schemas/credits.js';
import { handler, publicBaseUrl } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import type { PaymentsService } from '../payments/service.js';
import type { CreditsService } from './service.js';

export interface CreditsRoutesDeps {
  credits: CreditsService;
  payments: Pick<PaymentsService, 'checkout' | 'simulated'>;
  /** PUBLIC_URL when set; otherwise the request's own origin. */
  publicUrl: string | undefined;
}

/** GET /api/credits and POST /api/credits/checkout; mount behind requireAuth and the JSON parser. */
export function creditsRoutes(deps: CreditsRoutesDeps): Router {
  const r = Router();
  r.get(
    '/credits',
    handler(async (req, res) => {
      const query = parse(creditsQuerySchema, req.query);
      const accountId = authOf(res).account.id;
      const [state, page] = await Promise.all([
        deps.credits.state(accountId),
        deps.credits.history(accountId, query.limit, query.cursor),
      ]);
      const body: Credits = {
        balanceSeconds: state.balanceSeconds,
        availableSeconds: state.availableSeconds,
        owesSeconds: state.owesSeconds,
        packs: deps.credits.packs.map((p) => ({ id: p.id, seconds: p.seconds, price: { ...p.price } })),
        history: page.entries,
        nextCursor: page.nextCursor,
        simulatedPayments: deps.payments.simulated,
      };
      res.json(body);
    }),
  );
  r.post(
    '/credits/checkout',
    handler(async (req, res) => {
      const body = parse(checkoutBodySchema, req.body);
      const auth = authOf(res);
      const { url } = await deps.payments.checkout(auth.account, body.packId, {
        baseUrl: publicBaseUrl(req, deps.publicUrl),
        signInSession: auth.session,
      });
      res.json({ url });
    }),
  );
  return r;
}
