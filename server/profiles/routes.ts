import { Router } from 'express';
import { createProfileBodySchema, patchProfileBodySchema } from '../../shared/schemas/profile.js';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import { authOf } from '../accounts/auth.js';
import type { ProfilesService } from './service.js';

/** /api/profiles: thin adapter; mount behind requireAuth and the JSON body parser. */
export function profileRoutes(profiles: ProfilesService): Router {
  const r = Router();
  r.get(
    '/profiles',
    handler(async (_req, res) => {
      res.json({ profiles: await profiles.list(authOf(res).account.id) });
    }),
  );
  r.post(
    '/profiles',
    handler(async (req, res) => {
      const body = parse(createProfileBodySchema, req.body);
      const row = await profiles.create(authOf(res).account.id, body);
      res.status(201).json(profiles.toView(row));
    }),
  );
  r.get(
    '/profiles/:id',
    handler(async (req, res) => {
      const row = await profiles.get(authOf(res).account.id, String(req.params.id));
      res.json(profiles.toView(row));
    }),
  );
  r.patch(
    '/profiles/:id',
    handler(async (req, res) => {
      const accountId = authOf(res).account.id;
      // Ownership first: another account's id answers 404 even when the body is also wrong.
      await profiles.get(accountId, String(req.params.id));
      const body = parse(patchProfileBodySchema, req.body);
      const row = await profiles.update(accountId, String(req.params.id), body);
      res.json(profiles.toView(row));
    }),
  );
  r.delete(
    '/profiles/:id',
    handler(async (req, res) => {
      await profiles.delete(authOf(res).account.id, String(req.params.id));
      res.status(204).end();
    }),
  );
  return r;
}
