import type { Request, RequestHandler, Response } from 'express';
import { unauthorized } from '../core/errors.js';
import type { AccountsService, Authenticated, ClientInfo } from './service.js';

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,200})$/.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Requires a valid session; the account and session are then available through authOf(res). */
export function requireAuth(accounts: AccountsService): RequestHandler {
  return async (req, res, next) => {
    try {
      const token = bearerToken(req.headers.authorization);
      const auth = token ? await accounts.authenticate(token) : null;
      if (!auth) return next(unauthorized(token ? 'Your session has ended; sign in again' : 'Sign in to continue'));
      res.locals.auth = auth;
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function authOf(res: Response): Authenticated {
  const auth = res.locals.auth as Authenticated | undefined;
  if (!auth) throw unauthorized();
  return auth;
}

export function clientInfo(req: Request): ClientInfo {
  return { ip: req.ip ?? req.socket.remoteAddress ?? 'unknown', userAgent: req.headers['user-agent'] };
}
