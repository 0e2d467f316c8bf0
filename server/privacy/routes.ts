import { Router } from 'express';
import { deleteMeBodySchema, restrictBodySchema, type DeleteMeResponse } from '../../shared/schemas/account.js';
import { toIso } from '../../shared/units.js';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import type { AccountView } from '../accounts/view.js';
import type { PrivacyService } from './service.js';

/** GET /api/me/export, DELETE /api/me, POST /api/me/restrict (mounted behind requireAuth). */
export function privacyRoutes(privacy: PrivacyService, view: AccountView): Router {
  const r = Router();
  r.get(
    '/me/export',
    handler(async (_req, res) => {
      const doc = await privacy.export(authOf(res).account.id);
      // Built for this response only: nothing is cached or kept on the server.
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="call-santa-export-${doc.exportedAt.slice(0, 10)}.json"`,
      );
      res.type('application/json').send(JSON.stringify(doc, null, 2));
    }),
  );
  r.delete(
    '/me',
    handler(async (req, res) => {
      // No body is the same as `{}`: the token alone closes the account.
      const body = parse(deleteMeBodySchema, req.body ?? {});
      const { purgeBy, account } = await privacy.closeAccount(authOf(res), body.password);
      // The account GET /api/me would show (its `deletion` set), and the date at the top for simple clients.
      const closed: DeleteMeResponse = {
        ...(await view(account)),
        deletion: { purgeBy: toIso(purgeBy) },
        purgeBy: toIso(purgeBy),
      };
      res.status(202).json(closed);
    }),
  );
  r.post(
    '/me/restrict',
    handler(async (req, res) => {
      const body = parse(restrictBodySchema, req.body);
      const updated = await privacy.restrict(authOf(res).account.id, body.restricted);
      res.json(await view(updated));
    }),
  );
  return r;
}
