import type { z } from 'zod';
import {
  loginBodySchema,
  patchMeBodySchema,
  deleteMeBodySchema,
  restrictBodySchema,
  signupBodySchema,
} from '../../shared/schemas/account.js';
import { createProfileBodySchema, patchProfileBodySchema } from '../../shared/schemas/profile.js';
import { consentBodySchema, publishPolicyBodySchema } from '../../shared/schemas/policy.js';
import {
  adminOutboxQuerySchema,
  adminSupportQuerySchema,
  passwordResetConfirmBodySchema,
  passwordResetRequestBodySchema,
  supportBodySchema,
} from '../../shared/schemas/privacy.js';
import { adminAccountQuerySchema, adminAuditQuerySchema, adminGrantBodySchema } from '../../shared/schemas/admin.js';
import { checkoutBodySchema, creditsQuerySchema } from '../../shared/schemas/credits.js';
import { callReadinessQuerySchema } from '../../shared/schemas/calls.js';

/**
 * How the fuzzer may feed a route so that the input is malformed and therefore must change
 * nothing:
 * - never: a read that writes nothing; any input at all is fair (junk queries, junk bodies).
 * - valid-only: writes only for a valid input; generated bodies/queries are checked against
 *   the route's shared schema and only the ones it refuses are sent.
 * - always: any accepted request writes (sign-out, export audit, retention run), so only
 *   inputs that cannot be accepted are sent: unreadable bodies, bad params, bad tokens.
 */
export type Writes = 'never' | 'valid-only' | 'always';

export interface FuzzSpec {
  family: string;
  auth: 'account' | 'admin' | 'none';
  writes: Writes;
  body?: z.ZodType;
  query?: z.ZodType;
  /** A valid body to mutate from (must pass `body`). */
  valid?: () => unknown;
  /** Which party id fills each :param for the near-miss cases (the fuzzer also sends random ones). */
  image?: boolean;
  /** Routes outside the JSON routers: a body is ignored, not parsed. */
  noParser?: boolean;
  /** A page for a browser: its errors are HTML pages, not the JSON error shape. */
  html?: boolean;
  /** The Stripe webhook: raw JSON under a signature. */
  webhook?: boolean;
}

const profile = () => ({
  name: 'Ada',
  age: 7,
  language: 'en',
  wishList: ['a kite'],
  behaviorNotes: 'kind',
  preferences: 'snow',
});

export const SPECS: Record<string, FuzzSpec> = {
  'GET /healthz': { family: 'public', auth: 'none', writes: 'never', noParser: true },
  'GET /policy': { family: 'public', auth: 'none', writes: 'never', noParser: true, html: true },
  'GET /reset-password': { family: 'public', auth: 'none', writes: 'never', noParser: true, html: true },
  'GET /reset-password.js': { family: 'public', auth: 'none', writes: 'never', noParser: true },
  'GET /api/policy': { family: 'public', auth: 'none', writes: 'never' },
  'GET /dev/outbox': { family: 'public', auth: 'none', writes: 'never', noParser: true, html: true },

  'POST /api/auth/signup': {
    family: 'auth',
    auth: 'none',
    writes: 'valid-only',
    body: signupBodySchema,
    valid: () => ({
      email: 'new.parent@example.test',
      password: 'a long enough password',
      name: 'New Parent',
      locale: 'en',
    }),
  },
  'POST /api/auth/login': {
    family: 'auth',
    auth: 'none',
    writes: 'valid-only',
    body: loginBodySchema,
    valid: () => ({ email: 'someone@example.test', password: 'whatever pw' }),
  },
  'POST /api/auth/reopen': {
    family: 'auth',
    auth: 'none',
    writes: 'valid-only',
    body: loginBodySchema,
    valid: () => ({ email: 'someone@example.test', password: 'whatever pw' }),
  },
  'POST /api/auth/logout': { family: 'auth', auth: 'account', writes: 'always' },
  'POST /api/auth/password-reset/request': {
    family: 'auth',
    auth: 'none',
    writes: 'valid-only',
    body: passwordResetRequestBodySchema,
    valid: () => ({ email: 'someone@example.test' }),
  },
  'POST /api/auth/password-reset/confirm': {
    family: 'auth',
    auth: 'none',
    writes: 'valid-only',
    body: passwordResetConfirmBodySchema,
    valid: () => ({ token: 't'.repeat(43), newPassword: 'a new long password' }),
  },

  'POST /api/consent': {
    family: 'account',
    auth: 'account',
    writes: 'valid-only',
    body: consentBodySchema,
    valid: () => ({ policyVersion: '2026-11-01' }),
  },
  'GET /api/me': { family: 'account', auth: 'account', writes: 'never' },
  'PATCH /api/me': {
    family: 'account',
    auth: 'account',
    writes: 'valid-only',
    body: patchMeBodySchema,
    valid: () => ({ name: 'Renamed', marketingOptIn: true }),
  },
  'DELETE /api/me': {
    family: 'account',
    auth: 'account',
    writes: 'valid-only',
    body: deleteMeBodySchema,
    valid: () => ({ password: 'x' }),
  },
  'GET /api/me/export': { family: 'account', auth: 'account', writes: 'always' },
  'POST /api/me/restrict': {
    family: 'account',
    auth: 'account',
    writes: 'valid-only',
    body: restrictBodySchema,
    valid: () => ({ restricted: true }),
  },
  'GET /api/me/notices': { family: 'account', auth: 'account', writes: 'never' },
  'POST /api/me/notices/:id/read': { family: 'account', auth: 'account', writes: 'always' },

  'GET /api/profiles': { family: 'profiles', auth: 'account', writes: 'never' },
  'POST /api/profiles': {
    family: 'profiles',
    auth: 'account',
    writes: 'valid-only',
    body: createProfileBodySchema,
    valid: profile,
  },
  'GET /api/profiles/:id': { family: 'profiles', auth: 'account', writes: 'never' },
  'PATCH /api/profiles/:id': {
    family: 'profiles',
    auth: 'account',
    writes: 'valid-only',
    body: patchProfileBodySchema,
    valid: () => ({ name: 'Bo', age: 8 }),
  },
  'DELETE /api/profiles/:id': { family: 'profiles', auth: 'account', writes: 'always' },
  'GET /api/profiles/:id/photo': { family: 'profiles', auth: 'account', writes: 'never' },
  'POST /api/photos': { family: 'photos', auth: 'account', writes: 'valid-only', image: true },

  'POST /api/support': {
    family: 'support',
    auth: 'account',
    writes: 'valid-only',
    body: supportBodySchema,
    valid: () => ({ kind: 'support', subject: 'Help', message: 'Santa was lovely' }),
  },
  'GET /api/support': { family: 'support', auth: 'account', writes: 'never' },
  'GET /api/support/:id': { family: 'support', auth: 'account', writes: 'never' },

  'GET /api/credits': { family: 'credits', auth: 'account', writes: 'never', query: creditsQuerySchema },
  'POST /api/credits/checkout': {
    family: 'credits',
    auth: 'account',
    writes: 'valid-only',
    body: checkoutBodySchema,
    valid: () => ({ packId: 'pack-10' }),
  },
  'GET /api/calls': { family: 'calls', auth: 'account', writes: 'never' },
  'GET /api/calls/readiness': { family: 'calls', auth: 'account', writes: 'never', query: callReadinessQuerySchema },
  'GET /api/calls/:id': { family: 'calls', auth: 'account', writes: 'never' },
  'POST /api/stripe/webhook': { family: 'payments', auth: 'none', writes: 'valid-only', webhook: true },
  'GET /checkout/done': { family: 'payments', auth: 'none', writes: 'never', noParser: true, html: true },
  'GET /checkout/cancelled': { family: 'payments', auth: 'none', writes: 'never', noParser: true, html: true },
  'GET /dev/checkout/:sessionId': { family: 'payments', auth: 'none', writes: 'never', noParser: true, html: true },
  'POST /dev/checkout/:sessionId/pay': {
    family: 'payments',
    auth: 'none',
    writes: 'always',
    noParser: true,
    html: true,
  },

  'GET /admin/stats': { family: 'admin', auth: 'admin', writes: 'never' },
  'GET /admin/accounts': { family: 'admin', auth: 'admin', writes: 'valid-only', query: adminAccountQuerySchema },
  'POST /admin/accounts/:id/credits': {
    family: 'admin',
    auth: 'admin',
    writes: 'valid-only',
    body: adminGrantBodySchema,
    valid: () => ({ seconds: 60, reason: 'goodwill' }),
  },
  'POST /admin/calls/:id/end': { family: 'admin', auth: 'admin', writes: 'always' },
  'GET /admin/audit': { family: 'admin', auth: 'admin', writes: 'valid-only', query: adminAuditQuerySchema },
  'GET /admin/audit/verify': { family: 'admin', auth: 'admin', writes: 'never' },
  'POST /admin/policy': {
    family: 'admin',
    auth: 'admin',
    writes: 'valid-only',
    body: publishPolicyBodySchema,
    valid: () => ({
      version: 'v-fuzz',
      material: false,
      effectiveAt: '2027-01-01T00:00:00Z',
      text: { en: 'e', da: 'd', sv: 's' },
    }),
  },
  'POST /admin/retention/run': { family: 'admin', auth: 'admin', writes: 'always' },
  'GET /admin/outbox': { family: 'admin', auth: 'admin', writes: 'valid-only', query: adminOutboxQuerySchema },
  'GET /admin/support': { family: 'admin', auth: 'admin', writes: 'valid-only', query: adminSupportQuerySchema },
  'POST /admin/support/:id/close': { family: 'admin', auth: 'admin', writes: 'always' },
  'GET /admin/metrics': { family: 'admin', auth: 'admin', writes: 'never' },
};
