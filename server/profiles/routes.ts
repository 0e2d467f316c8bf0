import { Router } from 'express';
import { createProfileBodySchema, patchProfileBodySchema } from '../../shared/schemas/profile.js';
import { invalid } from '../core/errors.js';
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
      const profileId = String(req.params.id);
      // Ownership first: another account's id answers 404 even when the body is also wrong.
      await profiles.get(accountId, profileId);
      // A profile read back whole carries its id: fine when it names this profile, and ignored.
      const { id, ...patch } = parse(patchProfileBodySchema, req.body);
      if (id !== undefined && id !== profileId)
        throw invalid('The id in the body is not the profile in the path', {
          id: 'Does not match the profile in the path',
        });
      const row = await profiles.update(accountId, profileId, patch);
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
