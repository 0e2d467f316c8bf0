import { Router } from 'express';
import { loginBodySchema, patchMeBodySchema, signupBodySchema } from '../../shared/schemas/account.js';
import { handler } from '../core/http.js';
import { parse } from '../core/validate.js';
import type { AccountsService } from './service.js';
import type { AccountView } from './view.js';
import { authOf, clientInfo, requireAuth } from './auth.js';

export function authRoutes(accounts: AccountsService, view: AccountView): Router {
  const r = Router();
  r.post(
    '/signup',
    handler(async (req, res) => {
      const body = parse(signupBodySchema, req.body);
      const { token, account } = await accounts.signup(body, clientInfo(req));
      res.status(201).json({ token, account: await view(account) });
    }),
  );
  r.post(
    '/login',
    handler(async (req, res) => {
      const body = parse(loginBodySchema, req.body);
      const { token, account } = await accounts.login(body, clientInfo(req));
      res.status(200).json({ token, account: await view(account) });
    }),
  );
  r.post(
    '/reopen',
    handler(async (req, res) => {
      const body = parse(loginBodySchema, req.body);
      const { token, account } = await accounts.reopen(body, clientInfo(req));
      res.status(200).json({ token, account: await view(account) });
    }),
  );
  r.post(
    '/logout',
    requireAuth(accounts),
    handler(async (_req, res) => {
      await accounts.logout(authOf(res).session);
      res.status(204).end();
    }),
  );
  return r;
}

/** GET and PATCH /api/me; DELETE, export and restrict live with the privacy module. */
export function meRoutes(accounts: AccountsService, view: AccountView): Router {
  const r = Router();
  r.get(
    '/me',
    handler(async (_req, res) => {
      res.json(await view(authOf(res).account));
    }),
  );
  r.patch(
    '/me',
    handler(async (req, res) => {
      const body = parse(patchMeBodySchema, req.body);
      const updated = await accounts.update(authOf(res), body);
      res.json(await view(updated));
    }),
  );
  return r;
}
