import Stripe from 'stripe';
import type { BadTokens, Party } from './world.js';
import type { TestServer } from '../support/server.js';

export interface World {
  server: TestServer;
  victim: Party;
  attacker: Party;
  bad: BadTokens;
}

export interface Req {
  path: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * How a route is reached:
 * - account: a parent's bearer token. Every bad token is refused with 401; the attacker's
 *   valid token aimed at the victim's ids gets `attacker` statuses and nothing of the victim's.
 * - admin: ADMIN_TOKEN only. No token, a wrong one and a parent's token are refused.
 * - public: no token. Aimed at the victim (their email, ids), it reveals nothing of theirs.
 * - signed: Stripe's signature is the credential; unsigned or wrongly signed is refused.
 * - operator: a development page for whoever runs the server, on their own computer only
 *   (loopback and a local name in Host). Asked under any other name, as a site that rebinds
 *   its own name to 127.0.0.1 would, it answers 404 and shows nothing.
 */
export type Access = 'account' | 'admin' | 'public' | 'signed' | 'operator';

export interface Entry {
  access: Access;
  /** Requests aimed at the victim's data (ids, email, password). */
  reqs(w: World): Req[];
  /** Statuses the attacker's own valid token may get for those requests (account routes). */
  attacker?: number[];
  /** The attacker's session is used up by the request (sign-out): a fresh one is used. */
  consumesSession?: boolean;
  /**
   * Public routes only: the designed flow writes something about the victim (a failed
   * sign-in is login activity, a reset request queues an email to the owner). Why, in words.
   */
  victimWrites?: string;
  /** Statuses the public/signed request gets. */
  expect?: number[];
  /** A page for a browser: its errors are HTML pages, not the JSON error shape. */
  html?: boolean;
}

const v = (w: World) => w.victim;

/** The webhook secret the matrix's server runs with; the forgeries below never use it. */
export const AUTHZ_WEBHOOK_SECRET = 'whsec_authz_matrix_secret_0123456789';

/** A checkout.session.completed that would credit the victim's open checkout, were it believed. */
function forgedCompletion(w: World): string {
  return JSON.stringify({
    id: 'evt_forged_1',
    object: 'event',
    type: 'checkout.session.completed',
    created: Math.trunc(Date.now() / 1000),
    data: {
      object: {
        id: v(w).checkoutSessionId,
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        amount_total: 4900,
        currency: 'dkk',
        payment_intent: 'pi_forged',
        metadata: { accountId: v(w).accountId, packId: 'pack-60' },
      },
    },
  });
}

function forgedWebhooks(w: World): Req[] {
  const payload = forgedCompletion(w);
  const json = { 'content-type': 'application/json' };
  const sign = (secret: string, body = payload, timestamp?: number) =>
    Stripe.webhooks.generateTestHeaderString({ payload: body, secret, ...(timestamp ? { timestamp } : {}) });
  return [
    { path: '/api/stripe/webhook', raw: payload, headers: json },
    {
      path: '/api/stripe/webhook',
      raw: payload,
      headers: { ...json, 'stripe-signature': sign('whsec_guessed_by_an_attacker') },
    },
    {
      path: '/api/stripe/webhook',
      raw: payload,
      headers: { ...json, 'stripe-signature': sign(AUTHZ_WEBHOOK_SECRET, '{"id":"evt_other"}') },
    },
    // Correctly signed, but an hour old: a replayed capture is refused.
    {
      path: '/api/stripe/webhook',
      raw: payload,
      headers: {
        ...json,
        'stripe-signature': sign(AUTHZ_WEBHOOK_SECRET, payload, Math.trunc(Date.now() / 1000) - 3600),
      },
    },
    { path: '/api/stripe/webhook', raw: payload, headers: { ...json, 'stripe-signature': 't=1,v1=deadbeef' } },
  ];
}

/** Every route the server answers. The test fails when a route is missing here or an entry has no route. */
export const MATRIX: Record<string, Entry> = {
  // --- public ---
  'GET /healthz': { access: 'public', reqs: () => [{ path: '/healthz' }], expect: [200] },
  'GET /api/policy': { access: 'public', reqs: () => [{ path: '/api/policy' }], expect: [200] },
  'GET /policy': {
    access: 'public',
    reqs: () => [{ path: '/policy' }, { path: '/policy?lang=da' }],
    expect: [200],
    html: true,
  },
  'GET /reset-password': { access: 'public', reqs: () => [{ path: '/reset-password' }], expect: [200] },
  'GET /reset-password.js': { access: 'public', reqs: () => [{ path: '/reset-password.js' }], expect: [200] },
  'POST /api/auth/signup': {
    access: 'public',
    // Taking over the victim's email is refused, and says nothing else about the account.
    reqs: (w) => [
      {
        path: '/api/auth/signup',
        body: { email: v(w).email, password: 'another long password', name: 'Impostor', locale: 'en' },
      },
    ],
    expect: [409],
  },
  'POST /api/auth/login': {
    access: 'public',
    reqs: (w) => [{ path: '/api/auth/login', body: { email: v(w).email, password: 'not the password' } }],
    expect: [401],
    victimWrites:
      'a failed sign-in is recorded as login activity of the account (P13), which the owner sees in the export',
  },
  'POST /api/auth/reopen': {
    access: 'public',
    reqs: (w) => [{ path: '/api/auth/reopen', body: { email: v(w).email, password: 'not the password' } }],
    expect: [401],
    victimWrites: 'a failed reopen is a failed sign-in, recorded as login activity of the account (P13)',
  },
  'POST /api/auth/password-reset/request': {
    access: 'public',
    reqs: (w) => [{ path: '/api/auth/password-reset/request', body: { email: v(w).email } }],
    expect: [202],
    victimWrites: "a reset request stores a hashed one-time token and queues the link to the owner's own address",
  },
  'POST /api/auth/password-reset/confirm': {
    access: 'public',
    reqs: () => [
      {
        path: '/api/auth/password-reset/confirm',
        body: { token: 'x'.repeat(43), newPassword: 'attacker chosen password' },
      },
    ],
    expect: [400, 401, 404],
  },
  'POST /api/consent': {
    access: 'account',
    reqs: () => [{ path: '/api/consent', body: { policyVersion: '2026-11-01' } }],
    attacker: [201, 400, 404, 409],
  },

  // --- the account's own data: no id in the path, the token decides whose ---
  'POST /api/auth/logout': {
    access: 'account',
    reqs: () => [{ path: '/api/auth/logout' }],
    attacker: [204],
    consumesSession: true,
  },
  'GET /api/me': { access: 'account', reqs: () => [{ path: '/api/me' }], attacker: [200] },
  'PATCH /api/me': {
    access: 'account',
    // Taking the victim's email as one's own is refused.
    reqs: (w) => [{ path: '/api/me', body: { email: v(w).email, currentPassword: w.attacker.password } }],
    attacker: [409],
  },
  'DELETE /api/me': {
    access: 'account',
    // Knowing the victim's password does not help with one's own token.
    reqs: (w) => [{ path: '/api/me', body: { password: v(w).password } }],
    attacker: [403],
  },
  'GET /api/me/export': { access: 'account', reqs: () => [{ path: '/api/me/export' }], attacker: [200] },
  'POST /api/me/restrict': {
    access: 'account',
    reqs: () => [{ path: '/api/me/restrict', body: { restricted: false } }],
    attacker: [200],
  },
  'GET /api/me/notices': { access: 'account', reqs: () => [{ path: '/api/me/notices' }], attacker: [200] },
  'POST /api/me/notices/:id/read': {
    access: 'account',
    reqs: (w) => [{ path: `/api/me/notices/${encodeURIComponent(v(w).noticeId ?? 'no-notice')}/read` }],
    attacker: [404],
  },
  'GET /api/profiles': { access: 'account', reqs: () => [{ path: '/api/profiles' }], attacker: [200] },
  'POST /api/profiles': {
    access: 'account',
    // A new profile may not take the victim's photo.
    reqs: (w) => [
      { path: '/api/profiles', body: { name: 'Borrowed', age: 6, language: 'en', photoId: v(w).photoId } },
      { path: '/api/profiles', body: { name: 'Borrowed', age: 6, language: 'en', photoId: v(w).tempPhotoId } },
    ],
    attacker: [400, 404, 409],
  },
  'GET /api/profiles/:id': {
    access: 'account',
    reqs: (w) => [{ path: `/api/profiles/${v(w).profileId}` }],
    attacker: [404],
  },
  'PATCH /api/profiles/:id': {
    access: 'account',
    reqs: (w) => [
      { path: `/api/profiles/${v(w).profileId}`, body: { name: 'Hijacked' } },
      // The attacker's own profile may not take the victim's photos either.
      { path: `/api/profiles/${w.attacker.profileId}`, body: { photoId: v(w).photoId } },
      { path: `/api/profiles/${w.attacker.profileId}`, body: { photoId: v(w).tempPhotoId } },
    ],
    attacker: [400, 404, 409],
  },
  'DELETE /api/profiles/:id': {
    access: 'account',
    reqs: (w) => [{ path: `/api/profiles/${v(w).profileId}` }],
    attacker: [404],
  },
  'GET /api/profiles/:id/photo': {
    access: 'account',
    reqs: (w) => [{ path: `/api/profiles/${v(w).profileId}/photo` }],
    attacker: [404],
  },
  'POST /api/photos': {
    access: 'account',
    reqs: () => [{ path: '/api/photos', raw: Buffer.from('not an image'), headers: { 'content-type': 'image/png' } }],
    attacker: [400, 415],
  },
  'POST /api/support': {
    access: 'account',
    reqs: () => [{ path: '/api/support', body: { subject: 'Hello', message: 'A question from the attacker' } }],
    attacker: [201],
  },
  'GET /api/support': { access: 'account', reqs: () => [{ path: '/api/support' }], attacker: [200] },
  'GET /api/support/:id': {
    access: 'account',
    reqs: (w) => [{ path: `/api/support/${v(w).supportId}` }],
    attacker: [404],
  },

  // --- credits and payments ---
  'GET /api/credits': {
    access: 'account',
    reqs: () => [{ path: '/api/credits' }, { path: '/api/credits?limit=100' }],
    attacker: [200],
  },
  'POST /api/credits/checkout': {
    access: 'account',
    reqs: () => [{ path: '/api/credits/checkout', body: { packId: 'pack-10' } }],
    attacker: [200],
  },
  // --- calls (usage history; the calls themselves are on the socket, see test/calls/) ---
  'GET /api/calls': { access: 'account', reqs: () => [{ path: '/api/calls' }], attacker: [200] },
  'GET /api/calls/readiness': { access: 'account', reqs: () => [{ path: '/api/calls/readiness' }], attacker: [200] },
  'GET /api/calls/:id': {
    access: 'account',
    reqs: (w) => [{ path: `/api/calls/${v(w).callId ?? 'no-call'}` }],
    attacker: [404],
  },
  'POST /api/stripe/webhook': { access: 'signed', reqs: forgedWebhooks, expect: [400] },
  'GET /checkout/done': { access: 'public', reqs: () => [{ path: '/checkout/done' }], expect: [200] },
  'GET /checkout/cancelled': { access: 'public', reqs: () => [{ path: '/checkout/cancelled' }], expect: [200] },
  // The dev checkout URL is the capability (256 random bits, like Stripe's): a guessed one opens nothing.
  'GET /dev/checkout/:sessionId': {
    access: 'public',
    reqs: () => [{ path: '/dev/checkout/cs_dev_guessed' }],
    expect: [404],
    html: true,
  },
  'POST /dev/checkout/:sessionId/pay': {
    access: 'public',
    reqs: () => [{ path: '/dev/checkout/cs_dev_guessed/pay' }],
    expect: [404],
    html: true,
  },
  // The development outbox is the operator's page on their own computer (loopback and a local
  // name only). A site rebinding its own name to 127.0.0.1 reaches it from loopback: it gets nothing.
  'GET /dev/outbox': { access: 'operator', reqs: () => [{ path: '/dev/outbox' }], expect: [404] },

  // --- admin ---
  'GET /admin/stats': { access: 'admin', reqs: () => [{ path: '/admin/stats' }] },
  'GET /admin/accounts': {
    access: 'admin',
    reqs: (w) => [{ path: `/admin/accounts?email=${encodeURIComponent(v(w).email)}` }],
  },
  'POST /admin/accounts/:id/credits': {
    access: 'admin',
    reqs: (w) => [{ path: `/admin/accounts/${v(w).accountId}/credits`, body: { seconds: 600, reason: 'free credit' } }],
  },
  'POST /admin/calls/:id/end': {
    access: 'admin',
    reqs: (w) => [{ path: `/admin/calls/${v(w).callId ?? 'no-call'}/end` }],
  },
  'GET /admin/audit': { access: 'admin', reqs: () => [{ path: '/admin/audit' }] },
  'GET /admin/audit/verify': { access: 'admin', reqs: () => [{ path: '/admin/audit/verify' }] },
  'POST /admin/policy': {
    access: 'admin',
    reqs: () => [
      {
        path: '/admin/policy',
        body: {
          version: 'evil-1',
          material: false,
          effectiveAt: '2027-06-01T00:00:00Z',
          text: { en: 'x', da: 'x', sv: 'x' },
        },
      },
    ],
  },
  'POST /admin/retention/run': { access: 'admin', reqs: () => [{ path: '/admin/retention/run' }] },
  'GET /admin/outbox': { access: 'admin', reqs: () => [{ path: '/admin/outbox' }] },
  'GET /admin/support': { access: 'admin', reqs: () => [{ path: '/admin/support' }] },
  'POST /admin/support/:id/close': {
    access: 'admin',
    reqs: (w) => [{ path: `/admin/support/${v(w).supportId}/close` }],
  },
  'GET /admin/metrics': { access: 'admin', reqs: () => [{ path: '/admin/metrics' }] },
};
