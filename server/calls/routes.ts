import { Router } from 'express';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import {
  callReadinessQuerySchema,
  type CallList,
  type CallReadiness,
  type CallRecord,
} from '../../shared/schemas/calls.js';
import type { CallsService } from './service.js';

/** GET /api/calls (usage history), /api/calls/readiness and /api/calls/:id. Mounted behind requireAuth. */
export function callRoutes(calls: Pick<CallsService, 'history' | 'readiness' | 'record'>): Router {
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
  r.get(
    '/calls/:id',
    handler(async (req, res) => {
      const body: CallRecord = await calls.record(authOf(res).account.id, String(req.params.id).slice(0, 64));
      res.json(body);
    }),
  );
  return r;
}
