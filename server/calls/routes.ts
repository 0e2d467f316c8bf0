import { Router } from 'express';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import { callReadinessQuerySchema, type CallList, type CallReadiness } from '../../shared/schemas/calls.js';
import type { CallsService } from './service.js';

/** GET /api/calls (usage history) and GET /api/calls/readiness. Mounted behind requireAuth. */
export function callRoutes(calls: Pick<CallsService, 'history' | 'readiness'>): Router {
  const r = Router();
  r.get(
    '/calls',
    handler(async (_req, res) => {
      const body: CallList = { calls: await calls.history(authOf(res).account.id) };
      res.json(body);
    }),
  );
  r.get(
    '/calls/readiness',
    handler(async (req, res) => {
      const query = parse(callReadinessQuerySchema, { ...req.query });
      const body: CallReadiness = await calls.readiness(authOf(res).account.id, query.timeZone);
      res.json(body);
    }),
  );
  return r;
}
