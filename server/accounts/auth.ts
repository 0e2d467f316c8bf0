import type { Request, RequestHandler, Response } from 'express';
import { AppError, unauthorized } from '../core/errors.js';
import type { AccountsService, Authenticated, ClientInfo } from './service.js';

/** `Bearer <token>`: the scheme is case-insensitive (RFC 9110 §11.1); surrounding whitespace is ignored. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^\s*bearer[ \t]+([A-Za-z0-9._~+/=-]{1,200})\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** RFC 6750 §3: the challenge names the scheme, and says invalid_token when a token was sent but is no good. */
function signInRequired(tokenSent: boolean): AppError {
  const err = unauthorized(tokenSent ? 'Your session has ended; sign in again' : 'Sign in to continue');
  return new AppError(err.code, err.status, err.message, undefined, {
    'WWW-Authenticate': tokenSent ? 'Bearer error="invalid_token"' : 'Bearer',
  });
}

/** Requires a valid session; the account and session are then available through authOf(res). */
export function requireAuth(accounts: AccountsService): RequestHandler {
  return async (req, res, next) => {
    try {
      const token = bearerToken(req.headers.authorization);
      const auth = token ? await accounts.authenticate(token) : null;
      if (!auth)
        return next(signInRequired(token !== null || /^\s*bearer[ \t]+\S/i.test(req.headers.authorization ?? '')));
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
