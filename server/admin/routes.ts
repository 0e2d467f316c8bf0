import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { adminAccountQuerySchema, adminAuditQuerySchema, adminGrantBodySchema } from '../../shared/schemas/admin.js';
import { adminOutboxQuerySchema, adminSupportQuerySchema } from '../../shared/schemas/privacy.js';
import { publishPolicyBodySchema } from '../../shared/schemas/policy.js';
import { toIso } from '../../shared/units.js';
import { AppError, notFound } from '../core/errors.js';
import { handler, requireJson } from '../core/http.js';
import { parse } from '../core/validate.js';
import type { Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { ConsentService } from '../consent/service.js';
import type { CreditsService } from '../credits/service.js';
import type { MailService } from '../mail/service.js';
import type { NoticesService } from '../notices/service.js';
import type { LiveCalls } from '../privacy/live-calls.js';
import type { RetentionScheduler } from '../retention/scheduler.js';
import type { SupportService } from '../support/service.js';
import { supportView } from '../support/service.js';
import type { AdminService } from './service.js';
import type { Metrics } from './metrics.js';

export interface AdminDeps {
  store: Store;
  admin: AdminService;
  audit: AuditService;
  consent: ConsentService;
  credits: Pick<CreditsService, 'grant' | 'state'>;
  liveCalls: LiveCalls;
  notices: NoticesService;
  retention: RetentionScheduler;
  mail: MailService;
  support: SupportService;
  metrics: Metrics;
}

const idParams = z.strictObject({ id: z.string().min(1).max(64) });
const ACTOR = 'admin';

/**
 * Everything under /admin. app.ts mounts this only when ADMIN_TOKEN is set (without it the
 * paths do not exist: 404), behind adminAuth. Reads of personal data (account lookup,
 * outbox, support requests) are audited; stats are counts only.
 */
export function adminRoutes(deps: AdminDeps, auth: RequestHandler): Router {
  const r = Router();
  r.use(auth);
  r.use(requireJson);
  r.use(express.json({ limit: '256kb', strict: true }));

  r.get(
    '/stats',
    handler(async (_req, res) => {
      res.json(await deps.admin.stats());
    }),
  );

  r.get(
    '/accounts',
    handler(async (req, res) => {
      const { email } = parse(adminAccountQuerySchema, req.query);
      const account = await deps.admin.lookup(email);
      if (!account) throw notFound('No account with this email');
      res.json({ account });
    }),
  );

  r.post(
    '/accounts/:id/credits',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      const body = parse(adminGrantBodySchema, req.body);
      const account = await deps.store.accounts.get(id);
      if (!account || account.status !== 'active') throw notFound('No such open account');
      await deps.credits.grant(id, body.seconds, body.reason, ACTOR);
      const state = await deps.credits.state(id);
      res.status(201).json({ accountId: id, grantedSeconds: body.seconds, balanceSeconds: state.balanceSeconds, availableSeconds: state.availableSeconds });
    }),
  );

  r.post(
    '/calls/:id/end',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      const ended = await deps.liveCalls.endCall(id, 'admin');
      if (!ended) throw new AppError('call_not_found', 404, 'No live call with this id');
      await deps.audit.record(ACTOR, 'admin.call_end', id, {});
      res.json({ ok: true, callId: id });
    }),
  );

  r.get(
    '/audit',
    handler(async (req, res) => {
      const q = parse(adminAuditQuerySchema, req.query);
      const before = q.cursor !== undefined ? Number(q.cursor) : undefined;
      if (before !== undefined && !Number.isInteger(before)) throw new AppError('invalid_request', 400, 'Invalid cursor', { cursor: 'Not a cursor' });
      const page = await deps.audit.page(q.limit, before);
      res.json({
        entries: page.entries.map((e) => ({ seq: e.seq, id: e.id, at: toIso(e.at), actor: e.actor, action: e.action, subject: e.subject, details: e.details, prevHash: e.prevHash, hash: e.hash })),
        nextCursor: page.nextCursor,
      });
    }),
  );

  r.get(
    '/audit/verify',
    handler(async (_req, res) => {
      res.json(await deps.audit.verifyChain());
    }),
  );

  r.post(
    '/policy',
    handler(async (req, res) => {
      const body = parse(publishPolicyBodySchema, req.body);
      const { notified } = await deps.notices.publishPolicy(body);
      res.status(201).json({ policy: await deps.consent.policyView(), notified });
    }),
  );

  r.post(
    '/retention/run',
    handler(async (_req, res) => {
      const result = await deps.retention.runNow();
      res.json({ startedAt: toIso(result.startedAt), finishedAt: toIso(result.finishedAt), counts: result.counts });
    }),
  );

  r.get(
    '/outbox',
    handler(async (req, res) => {
      const q = parse(adminOutboxQuerySchema, req.query);
      const page = await deps.mail.page(q);
      await deps.audit.record(ACTOR, 'admin.outbox_read', null, { entries: page.entries.length, status: q.status });
      res.json({ sending: deps.mail.sending, ...page });
    }),
  );

  r.get(
    '/support',
    handler(async (req, res) => {
      const q = parse(adminSupportQuerySchema, req.query);
      const page = await deps.support.page(q);
      await deps.audit.record(ACTOR, 'admin.support_read', null, { entries: page.rows.length, status: q.status });
      res.json({ requests: page.rows.map((row) => ({ ...supportView(row), accountId: row.accountId })), nextCursor: page.nextCursor });
    }),
  );

  r.post(
    '/support/:id/close',
    handler(async (req, res) => {
      const { id } = parse(idParams, req.params);
      const row = await deps.support.close(id, ACTOR);
      res.json({ ...supportView(row), accountId: row.accountId });
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
