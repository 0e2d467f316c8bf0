import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiErrorSchema } from '../../shared/errors.js';
import { HOUR_MS } from '../../shared/units.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { listRoutes } from '../authz/routes.js';
import { giveNotices, makeParty, storeCounts, storeDigest, tinyPng, type Party } from '../authz/world.js';
import { RawClient } from './client.js';
import { SPECS, type FuzzSpec } from './specs.js';
import Stripe from 'stripe';
import { z } from 'zod';
import {
  chargeSchema,
  checkoutSessionSchema,
  disputeSchema,
  eventEnvelopeSchema,
} from '../../server/payments/stripe-events.js';
import {
  badImage,
  invalidBody,
  junkAuthorization,
  junkParam,
  junkQuery,
  junkValue,
  roundTrip,
  unreadableBody,
} from './arbitraries.js';

/**
 * Malformed input on every REST route: never a 5xx, never a crash, the error shape always,
 * and nothing in the store changes. FUZZ_RUNS inputs per endpoint family (default 3,000 in
 * `npm test`; `npm run test:faults` runs 10,000 per family); FUZZ_SEED replays a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const FUZZ_WEBHOOK_SECRET = 'whsec_fuzz_0123456789abcdef';
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);

let server: TestServer;
let party: Party;
let client: RawClient;
let routes: string[];
let png: Buffer;
let photoRequests = 0;

beforeAll(async () => {
  // Retention never runs by itself here: the fake clock is moved to refill rate limits, and a
  // sweep is a write the fuzzer did not cause.
  server = await startTestServer({
    env: { RETENTION_INTERVAL_MS: String(10 ** 12), STRIPE_WEBHOOK_SECRET: FUZZ_WEBHOOK_SECRET },
  });
  party = await makeParty(server, 'fuzz');
  await giveNotices(server, [party]);
  client = RawClient.fromUrl(server.url);
  routes = listRoutes(server.app.express);
  png = await tinyPng();
  console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} per family`);
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.close();
});

interface FuzzReq {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** A read given junk may still answer 2xx; a malformed write never may. */
  mayAccept: boolean;
  strategy: string;
}

const split = (key: string) => {
  const i = key.indexOf(' ');
  return { method: key.slice(0, i), pattern: key.slice(i + 1) };
};

/** The party's own ids, so malformed bodies also reach the checks behind a real, owned id. */
function ownParams(pattern: string): string {
  return pattern.replace(/:(\w+)/g, () => {
    if (pattern.startsWith('/api/profiles')) return party.profileId;
    if (pattern.startsWith('/api/support')) return party.supportId;
    if (pattern.startsWith('/api/me/notices')) return party.noticeId ?? 'none';
    if (pattern.startsWith('/admin/accounts')) return party.accountId;
    if (pattern.startsWith('/admin/support')) return party.supportId;
    if (pattern.startsWith('/dev/checkout')) return party.checkoutSessionId;
    return 'none';
  });
}

function routeArb(key: string, spec: FuzzSpec): fc.Arbitrary<FuzzReq> {
  const { method, pattern } = split(key);
  const params = pattern.match(/:\w+/g) ?? [];
  const limit = pattern.startsWith('/admin') ? 256 * 1024 : 64 * 1024;
  const auth: Record<string, string> =
    spec.auth === 'admin'
      ? { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }
      : spec.auth === 'account'
        ? { authorization: `Bearer ${party.token}` }
        : {};
  const randomPath = fc.array(junkParam, { minLength: params.length, maxLength: params.length }).map((vals) => {
    let i = 0;
    return pattern.replace(/:\w+/g, () => vals[i++] ?? 'x');
  });
  const ownPath = ownParams(pattern);
  // A route that writes on any accepted request only ever sees ids that name nothing.
  const path =
    params.length === 0
      ? fc.constant(pattern)
      : spec.writes === 'always'
        ? randomPath
        : fc.oneof(randomPath, fc.constant(ownPath));
  const withQuery = (p: string, q: string) => (q ? `${p}?${q}` : p);
  const make = (
    strategy: string,
    mayAccept: boolean,
    p: string,
    headers: Record<string, string>,
    body?: string | Buffer,
  ): FuzzReq => ({
    route: key,
    method,
    path: p,
    headers,
    mayAccept,
    strategy,
    ...(body !== undefined ? { body } : {}),
  });
  const out: fc.Arbitrary<FuzzReq>[] = [];

  if (spec.webhook) {
    out.push(webhookArb(key));
  } else if (spec.image) {
    out.push(
      fc
        .tuple(path, badImage(png))
        .map(([p, b]) => make('bad image', false, p, { ...auth, 'content-type': b.contentType }, b.body)),
    );
  } else if (!spec.noParser) {
    out.push(
      fc
        .tuple(path, unreadableBody(limit))
        .map(([p, b]) =>
          make(
            'unreadable body',
            false,
            p,
            { ...auth, ...(b.contentType ? { 'content-type': b.contentType } : {}) },
            b.body,
          ),
        ),
    );
  }
  if (spec.body && spec.valid) {
    out.push(
      fc
        .tuple(path, invalidBody(spec.body, spec.valid() as Record<string, unknown>))
        .map(([p, b]) =>
          make(
            'invalid body',
            false,
            p,
            { ...auth, 'content-type': 'application/json' },
            JSON.stringify(roundTrip(b)) ?? 'null',
          ),
        ),
    );
  }
  if (spec.query) {
    const schema = spec.query;
    out.push(
      fc
        .tuple(
          path,
          junkQuery().filter((q) => !schema.safeParse(q.parsed).success),
        )
        .map(([p, q]) => make('invalid query', false, withQuery(p, q.text), auth)),
    );
  }
  if (params.length > 0) {
    const body = spec.valid ? JSON.stringify(spec.valid()) : undefined;
    out.push(
      randomPath.map((p) =>
        make('unknown id', false, p, { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body),
      ),
    );
  }
  if (spec.auth === 'account') {
    const body = spec.valid ? JSON.stringify(spec.valid()) : undefined;
    out.push(
      fc
        .tuple(path, junkAuthorization)
        .map(([p, a]) =>
          make(
            'bad token',
            false,
            p,
            { authorization: a, ...(body ? { 'content-type': 'application/json' } : {}) },
            body,
          ),
        ),
    );
  }
  if (spec.writes === 'never') {
    out.push(
      fc
        .tuple(path, junkQuery(), fc.option(junkValue, { nil: undefined }))
        .map(([p, q, b]) =>
          make(
            'junk on a read',
            true,
            withQuery(p, q.text),
            { ...auth, ...(b !== undefined ? { 'content-type': 'application/json' } : {}) },
            b === undefined ? undefined : (JSON.stringify(b) ?? 'null'),
          ),
        ),
    );
  }
  if (out.length === 0) throw new Error(`no fuzz strategy for ${key}`);
  return fc.oneof(...out);
}

/** The events the webhook acts on, and what makes each one unusable. */
const HANDLED: Record<string, z.ZodType> = {
  'checkout.session.completed': checkoutSessionSchema,
  'checkout.session.async_payment_succeeded': checkoutSessionSchema,
  'checkout.session.async_payment_failed': checkoutSessionSchema,
  'charge.refunded': chargeSchema,
  'charge.dispute.created': disputeSchema,
};

function completion(): Record<string, unknown> {
  return {
    id: `evt_fuzz`,
    object: 'event',
    type: 'checkout.session.completed',
    data: {
      object: {
        id: party.checkoutSessionId,
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        amount_total: 4900,
        currency: 'dkk',
        payment_intent: 'pi_fuzz',
        metadata: { accountId: party.accountId, packId: 'pack-10' },
      },
    },
  };
}

const sign = (payload: string, secret: string) => Stripe.webhooks.generateTestHeaderString({ payload, secret });

/**
 * Unsigned and wrongly signed events (any body), wrong content types, and events signed with
 * the right secret whose handled object is malformed: none may credit, record or crash.
 */
function webhookArb(key: string): fc.Arbitrary<FuzzReq> {
  const path = '/api/stripe/webhook';
  const make = (strategy: string, headers: Record<string, string>, body: string): FuzzReq => ({
    route: key,
    method: 'POST',
    path,
    headers,
    body,
    mayAccept: false,
    strategy,
  });
  const anyBody = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.constant(JSON.stringify(completion())),
    fc.string({ maxLength: 80 }),
  );
  const badSignature = fc.oneof(
    fc.constant(undefined),
    junkValue.map((v) => String(v).replace(/[^\x20-\x7e]/g, '')),
    fc.constantFrom('t=1,v1=00', 't=,v1=', 'v1=abc', `t=${Math.trunc(Date.now() / 1000)},v1=${'0'.repeat(64)}`),
  );
  const malformedEvent = fc
    .tuple(
      fc.constantFrom(...Object.keys(HANDLED)),
      invalidBody(z.object({}).passthrough(), (completion().data as { object: Record<string, unknown> }).object),
    )
    .filter(([type, obj]) => !(HANDLED[type] as z.ZodType).safeParse(roundTrip(obj)).success)
    .map(([type, obj]) =>
      JSON.stringify({ ...completion(), id: `evt_fuzz_${type}`, type, data: { object: roundTrip(obj) } }),
    );
  const brokenEnvelope = invalidBody(eventEnvelopeSchema, completion()).map(
    (b) => JSON.stringify(roundTrip(b)) ?? 'null',
  );
  return fc.oneof(
    fc
      .tuple(anyBody, badSignature)
      .map(([b, sig]) =>
        make(
          'bad signature',
          { 'content-type': 'application/json', ...(sig !== undefined ? { 'stripe-signature': sig } : {}) },
          b,
        ),
      ),
    anyBody.map((b) =>
      make(
        'wrong secret',
        { 'content-type': 'application/json', 'stripe-signature': sign(b, 'whsec_not_the_secret') },
        b,
      ),
    ),
    fc
      .tuple(anyBody, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'))
      .map(([b, ct]) =>
        make('wrong type', { 'content-type': ct, 'stripe-signature': sign(b, FUZZ_WEBHOOK_SECRET) }, b),
      ),
    fc
      .oneof(malformedEvent, brokenEnvelope)
      .map((b) =>
        make(
          'signed malformed event',
          { 'content-type': 'application/json', 'stripe-signature': sign(b, FUZZ_WEBHOOK_SECRET) },
          b,
        ),
      ),
  );
}

const families = [...new Set(Object.values(SPECS).map((s) => s.family))];

describe('input fuzzing covers every REST route', () => {
  it('has a fuzz spec for every route the router answers, and no spec without a route', () => {
    expect(
      routes.filter((r) => !(r in SPECS)),
      'routes without a fuzz spec: add them to test/fuzz/specs.ts',
    ).toEqual([]);
    expect(
      Object.keys(SPECS).filter((k) => !routes.includes(k)),
      'fuzz specs without a route',
    ).toEqual([]);
  });
});

describe.each(families)('malformed input to the %s endpoints', (family) => {
  it(`never answers 5xx, always in the error shape, and changes nothing (${RUNS} inputs)`, async () => {
    const keys = Object.keys(SPECS).filter((k) => SPECS[k]?.family === family && routes.includes(k));
    const arb = fc.oneof(...keys.map((k) => routeArb(k, SPECS[k] as FuzzSpec)));
    await server.app.store.flush();
    const digest = await storeDigest(server.app.store);
    const counts = await storeCounts(server.app.store);
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(arb, async (req) => {
        if (req.route === 'POST /api/photos' && ++photoRequests % 25 === 0) server.clock.advance(HOUR_MS + 1000); // refill the upload allowance
        seen.set(req.route, (seen.get(req.route) ?? 0) + 1);
        const res = await client.send(req.method, req.path, req.headers, req.body);
        const where = `${req.method} ${req.path.slice(0, 200)} [${req.strategy}] -> ${res.status} ${res.text.slice(0, 300)}`;
        expect(res.status, where).toBeLessThan(500);
        if (!req.mayAccept) expect(res.status, where).toBeGreaterThanOrEqual(400);
        if (res.status >= 400 && !(SPECS[req.route] as FuzzSpec).html) {
          expect(String(res.headers['content-type']), where).toMatch(/application\/json/);
          expect(apiErrorSchema.safeParse(JSON.parse(res.text)).success, where).toBe(true);
        }
        expect(await storeCounts(server.app.store), where).toEqual(counts);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: false },
    );
    await server.app.store.flush();
    expect(await storeDigest(server.app.store), 'a row changed').toEqual(digest);
    for (const k of keys) expect(seen.get(k) ?? 0, `${k} was never fuzzed`).toBeGreaterThan(0);
  }, 600_000);
});
