import { Router, type RequestHandler } from 'express';
import { consentBodySchema } from '../../shared/schemas/policy.js';
import { toIso } from '../../shared/units.js';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import type { ConsentService } from './service.js';

export function policyRoutes(consent: ConsentService): Router {
  const r = Router();
  r.get(
    '/policy',
    handler(async (_req, res) => {
      res.json(await consent.policyView());
    }),
  );
  return r;
}

export function consentRoutes(consent: ConsentService, requireAuth: RequestHandler): Router {
  const r = Router();
  r.post(
    '/consent',
    requireAuth,
    handler(async (req, res) => {
      const body = parse(consentBodySchema, req.body);
      const row = await consent.give(authOf(res).account.id, body.policyVersion);
      const state = await consent.state(row.accountId);
      res.status(201).json({
        version: row.policyVersion,
        at: toIso(row.at),
        method: row.method,
        verified: state?.verified ?? false,
      });
    }),
  );
  return r;
}
