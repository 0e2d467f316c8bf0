import { Router } from 'express';
import { z } from 'zod';
import { supportBodySchema } from '../../shared/schemas/privacy.js';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import { supportView, type SupportService } from './service.js';

const idParams = z.strictObject({ id: z.string().min(1).max(64) });

/** POST/GET /api/support and GET /api/support/:id (mounted behind requireAuth). */
export function supportRoutes(support: SupportService): Router {
  const r = Router();
  r.post(
    '/support',
    handler(async (req, res) => {
      const body = parse(supportBodySchema, req.body);
      const row = await support.create(authOf(res).account.id, body);
      res.status(201).json(supportView(row));
    }),
  );
  r.get(
    '/support',
    handler(async (_req, res) => {
      res.json({ requests: (await support.forAccount(authOf(res).account.id)).map(supportView) });
    }),
  );
  r.get(
    '/support/:id',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      res.json(supportView(await support.getOwn(authOf(res).account.id, id)));
    }),
  );
  return r;
}
