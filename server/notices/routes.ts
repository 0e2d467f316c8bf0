import { Router } from 'express';
import { z } from 'zod';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import type { NoticesService } from './service.js';

const noticeParams = z.strictObject({ id: z.string().min(1).max(64) });

/** GET /api/me/notices and POST /api/me/notices/:id/read (mounted behind requireAuth). */
export function noticeRoutes(notices: NoticesService): Router {
  const r = Router();
  r.get(
    '/me/notices',
    handler(async (_req, res) => {
      res.json({ notices: await notices.forAccount(authOf(res).account.id) });
    }),
  );
  r.post(
    '/me/notices/:id/read',
    handler(async (req, res) => {
      const { id } = parse(noticeParams, req.params);
      res.json(await notices.markRead(authOf(res).account.id, id));
    }),
  );
  return r;
}
