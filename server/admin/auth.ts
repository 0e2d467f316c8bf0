import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Clock } from '../core/clock.js';
import { tooMany, unauthorized } from '../core/errors.js';
import { MINUTE_MS } from '../../shared/units.js';
import { memoryRateLimits, type RateLimits } from '../core/rate-limit.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `Authorization: Bearer $ADMIN_TOKEN` (any case of `Bearer`). Both sides are hashed to fixed-length SHA-256
 * digests and compared with timingSafeEqual, so neither the token's length nor the position
 * of the first wrong character shows in the response time. Repeated wrong credentials from
 * one address are slowed down with 429s: 100 in 15 minutes, counted only when a credential
 * was presented (a request without one guesses nothing). A random 24+ character token is out
 * of reach of any guessing rate; the limit is for short development tokens, and it must not
 * lock an operator or a test suite out after it checked that every route refuses bad tokens.
 */
export function adminAuth(
  adminToken: string,
  clock: Clock,
  options: { maxFailures?: number; windowMs?: number; limits?: RateLimits } = {},
): RequestHandler {
  const expected = digest(adminToken);
  const failures = (options.limits ?? memoryRateLimits(clock)).attempts(
    'admin-auth-failures',
    options.maxFailures ?? 100,
    options.windowMs ?? 15 * MINUTE_MS,
  );
  // Express 5 passes a rejected promise on to the error handler, so the check may await its counter.
  return async (req, res, next) => {
    const key = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const wait = await failures.retryAfter(key);
    if (wait > 0) return next(tooMany(wait));
    // The scheme is case-insensitive (RFC 9110 §11.1); the token is whatever follows it, trimmed.
    const presented = /^\s*bearer[ \t]+(.*?)\s*$/is.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const ok = timingSafeEqual(digest(presented), expected) && presented.length > 0;
    if (!ok) {
      if ((req.headers.authorization ?? '').trim() !== '') await failures.record(key);
      res.setHeader('WWW-Authenticate', 'Bearer realm="admin"');
      return next(unauthorized('Admin token required'));
    }
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
}
