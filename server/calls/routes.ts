import { Router } from 'express';
import { handler } from '../core/http.js';
import { authOf } from '../accounts/auth.js';
import type { CallList } from '../../shared/schemas/calls.js';
import type { CallsService } from './service.js';

/** GET /api/calls: the account's usage history. Mounted behind requireAuth. */
export function callRoutes(calls: Pick<CallsService, 'history'>): Router {
  const r = Router();
  r.get(
    '/calls',
    handler(async (_req, res) => {
      const body: CallList = { calls: await calls.history(authOf(res).account.id) };
      res.json(body);
    }),
  );
  return r;
}
