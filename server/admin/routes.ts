import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { adminAccountQuerySchema, adminAuditQuerySchema, adminGrantBodySchema } from '../../shared/schemas/admin.js';
import { adminOutboxQuerySchema, adminSupportQuerySchema } from '../../shared/schemas/privacy.js';
import { publishPolicyBodySchema } from '../../shared/schemas/policy.js';
import { notFound } from '../core/errors.js';
import { handler, requireJson } from '../core/http.js';
import { parse } from '../core/validate.js';
import type { AdminService } from './service.js';
import type { Metrics } from './metrics.js';

export interface AdminRoutesDeps {
  admin: AdminService;
  metrics: Metrics;
}

const idParams = z.strictObject({ id: z.string().min(1).max(64) });

/**
 * Everything under /admin. app.ts mounts this only when ADMIN_TOKEN is set (without it the
 * paths do not exist: 404), behind adminAuth. The adapter parses and answers; what each
 * route does, and its audit entry, is AdminService's.
 */
export function adminRoutes(deps: AdminRoutesDeps, auth: RequestHandler): Router {
  const { admin } = deps;
  const r = Router();
  r.use(auth);
  r.use(requireJson);
  r.use(express.json({ limit: '256kb', strict: true }));

  r.get(
    '/stats',
    handler(async (_req, res) => {
      res.json(await admin.stats());
    }),
  );

  r.get(
    '/accounts',
    handler(async (req, res) => {
      const { email } = parse(adminAccountQuerySchema, req.query);
      const account = await admin.lookup(email);
      if (!account) throw notFound('No account with this email');
      res.json({ account });
    }),
  );

  r.post(
    '/accounts/:id/credits',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      res.status(201).json(await admin.grant(id, parse(adminGrantBodySchema, req.body)));
    }),
  );

  r.post(
    '/calls/:id/end',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      res.json(await admin.endCall(id));
    }),
  );

  r.get(
    '/audit',
    handler(async (req, res) => {
      const q = parse(adminAuditQuerySchema, req.query);
      res.json(await admin.auditPage(q.limit, q.cursor));
    }),
  );

  r.get(
    '/audit/verify',
    handler(async (_req, res) => {
      res.json(await admin.verifyAudit());
    }),
  );

  r.post(
    '/policy',
    handler(async (req, res) => {
      res.status(201).json(await admin.publishPolicy(parse(publishPolicyBodySchema, req.body)));
    }),
  );

  r.post(
    '/retention/run',
    handler(async (_req, res) => {
      res.json(await admin.runRetention());
    }),
  );

  r.get(
    '/outbox',
    handler(async (req, res) => {
      res.json(await admin.outbox(parse(adminOutboxQuerySchema, req.query)));
    }),
  );

  r.get(
    '/support',
    handler(async (req, res) => {
      res.json(await admin.supportRequests(parse(adminSupportQuerySchema, req.query)));
    }),
  );

  r.post(
    '/support/:id/close',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      res.json(await admin.closeSupport(id));
    }),
  );

  r.get(
    '/metrics',
    handler(async (_req, res) => {
      const { contentType, body } = await deps.metrics.text();
      res.type(contentType).send(body);
    }),
  );

  return r;
}
