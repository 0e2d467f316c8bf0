import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, signUpParent, type TestServer } from '../../test/support/server.js';
import { FakeStripe } from '../../test/fakes/stripe/fake-stripe.js';
import { creditsSchema } from '../../shared/schemas/credits.js';
import { apiErrorSchema } from '../../shared/errors.js';
import { SECRET_KEY, openCheckout, stripeEnv } from './test-helpers.js';

let fake: FakeStripe;
let server: TestServer;
beforeAll(async () => {
  fake = await FakeStripe.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.requests.length = 0;
  server = await startTestServer({ env: stripeEnv(fake) });
});
afterEach(async () => {
  await server.close();
});

const paymentsOf = (accountId: string) => server.app.store.payments.findBy('accountId', accountId);

describe('POST /api/credits/checkout with Stripe', () => {
  it('opens a Checkout Session through the Stripe SDK: amount, currency, metadata on the session and its PaymentIntent, one idempotency key', async () => {
    const parent = await signUpParent(server.api, { locale: 'da', name: 'Canary Parentname' });
    const res = await server.api.post('/api/credits/checkout', { packId: 'pack-30' }, parent.token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: expect.stringMatching(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/) });

    const [request, ...more] = fake.checkoutRequests();
    expect(more).toEqual([]);
    const [payment] = await paymentsOf(parent.accountId);
    expect(payment).toMatchObject({
      provider: 'stripe',
      status: 'pending',
      packId: 'pack-30',
      seconds: 1800,
      amount: 9900,
      currency: 'dkk',
      amountRefunded: 0,
      paidAt: null,
    });
    expect(res.body.url).toBe(`https://checkout.stripe.test/c/pay/${payment!.checkoutSessionId}`);

    const metadata = { accountId: parent.accountId, packId: 'pack-30', paymentId: payment!.id };
    expect(request!.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(request!.headers['idempotency-key']).toBe(`checkout-${payment!.id}`);
    expect(request!.headers['stripe-version']).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(request!.form).toMatchObject({
      mode: 'payment',
      line_items: [
        {
          quantity: '1',
          price_data: {
            currency: 'dkk',
            unit_amount: '9900',
            product_data: { name: expect.stringContaining('30 minutes') },
          },
        },
      ],
      metadata,
      payment_intent_data: { metadata },
      client_reference_id: parent.accountId,
      locale: 'da',
      success_url: `${server.url}/checkout/done?lang=da&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${server.url}/checkout/cancelled?lang=da`,
    });
    // Nothing personal goes to the payment processor: Stripe asks the payer itself.
    expect(request!.raw).not.toContain(parent.email);
    expect(request!.raw).not.toContain('Canary');
  });

  it('opens a new session, with its own key, for every checkout', async () => {
    const parent = await signUpParent(server.api);
    const a = await openCheckout(server, parent.token);
    const b = await openCheckout(server, parent.token);
    expect(a.sessionId).not.toBe(b.sessionId);
    const keys = fake.checkoutRequests().map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([`checkout-${a.payment.id}`, `checkout-${b.payment.id}`]);
  });

  it('builds the return links from PUBLIC_URL when it is set', async () => {
    server = await server.restart({ PUBLIC_URL: 'https://santa.example.test' });
    const parent = await signUpParent(server.api);
    await openCheckout(server, parent.token);
    expect(fake.checkoutRequests()[0]!.form).toMatchObject({
      success_url: 'https://santa.example.test/checkout/done?lang=en&session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://santa.example.test/checkout/cancelled?lang=en',
    });
  });

  it('retries a failed request with the same idempotency key and opens one session', async () => {
    const parent = await signUpParent(server.api);
    fake.failNext(500);
    const before = fake.sessions.size;
    const { payment } = await openCheckout(server, parent.token);
    const requests = fake.checkoutRequests();
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.headers['idempotency-key'])).toEqual([
      `checkout-${payment.id}`,
      `checkout-${payment.id}`,
    ]);
    expect(fake.sessions.size).toBe(before + 1);
  });

  it('answers 502 provider_unavailable when Stripe keeps failing, and records no payment', async () => {
    const parent = await signUpParent(server.api);
    fake.failNext(500, 3);
    const res = await server.api.post('/api/credits/checkout', { packId: 'pack-10' }, parent.token);
    expect(res.status).toBe(502);
    expect(apiErrorSchema.parse(res.body).error.code).toBe('provider_unavailable');
    expect(await paymentsOf(parent.accountId)).toEqual([]);
  });

  it('refuses an unknown pack with 400 unknown_pack and asks Stripe nothing', async () => {
    const parent = await signUpParent(server.api);
    const res = await server.api.post('/api/credits/checkout', { packId: 'pack-999' }, parent.token);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'unknown_pack', fields: { packId: 'Unknown pack' } });
    for (const body of [{}, { packId: '' }, { packId: 42 }]) {
      const bad = await server.api.post('/api/credits/checkout', body, parent.token);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
    expect(fake.checkoutRequests()).toEqual([]);
  });

  it('always buys for the signed-in parent: naming another account is refused, nothing is opened', async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const res = await server.api.post('/api/credits/checkout', { packId: 'pack-10', accountId: b.accountId }, a.token);
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual({ accountId: 'Unknown field' });
    expect(await paymentsOf(b.accountId)).toEqual([]);
    expect(fake.checkoutRequests()).toEqual([]);
    const unsigned = await server.api.post('/api/credits/checkout', { packId: 'pack-10' });
    expect(unsigned.status).toBe(401);
  });

  it('refuses a restricted account with 403 processing_restricted, and a closed one with 403 account_closed', async () => {
    const parent = await signUpParent(server.api);
    expect((await server.api.post('/api/me/restrict', { restricted: true }, parent.token)).status).toBe(200);
    const res = await server.api.post('/api/credits/checkout', { packId: 'pack-10' }, parent.token);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('processing_restricted');
    // A closed account's sessions are revoked, so only the service itself can be asked.
    const row = (await server.app.store.accounts.get(parent.accountId))!;
    await expect(
      server.app.services.payments.checkout({ ...row, restricted: false, status: 'closed' }, 'pack-10', {
        baseUrl: server.url,
        signInSession: { tokenHash: 'no-session' },
      }),
    ).rejects.toMatchObject({ status: 403, code: 'account_closed' });
    expect(fake.checkoutRequests()).toEqual([]);
    expect(await paymentsOf(parent.accountId)).toEqual([]);
  });
});

describe('GET /api/credits', () => {
  it('answers balance, available, owed, the packs, a page of history, and that payments are real', async () => {
    const parent = await signUpParent(server.api);
    await server.app.services.credits.purchase(parent.accountId, 600, 'cs_test_seed');
    const res = await server.api.get('/api/credits', parent.token);
    expect(res.status).toBe(200);
    const body = creditsSchema.parse(res.body);
    expect(body).toMatchObject({
      balanceSeconds: 600,
      availableSeconds: 600,
      owesSeconds: 0,
      nextCursor: null,
      simulatedPayments: false,
    });
    expect(body.packs).toEqual(server.config.packs);
    expect(body.history).toEqual([
      { id: expect.any(String), kind: 'purchase', seconds: 600, ref: 'cs_test_seed', at: '2026-12-01T10:00:00.000Z' },
    ]);
  });

  it('pages with ?limit and ?cursor and refuses bad queries', async () => {
    const parent = await signUpParent(server.api);
    for (let i = 0; i < 3; i++) {
      await server.app.services.credits.purchase(parent.accountId, 60, `cs_test_p${i}`);
      server.clock.advance(1000);
    }
    const first = await server.api.get('/api/credits?limit=2', parent.token);
    expect(first.body.history.map((e: { ref: string }) => e.ref)).toEqual(['cs_test_p2', 'cs_test_p1']);
    const second = await server.api.get(`/api/credits?limit=2&cursor=${first.body.nextCursor}`, parent.token);
    expect(second.body.history.map((e: { ref: string }) => e.ref)).toEqual(['cs_test_p0']);
    expect(second.body.nextCursor).toBeNull();
    for (const q of ['limit=0', 'limit=101', 'limit=two', 'page=2', `cursor=${'x'.repeat(201)}`]) {
      const bad = await server.api.get(`/api/credits?${q}`, parent.token);
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.code).toBe('invalid_request');
    }
  });

  it("shows each parent only their own credit; another parent's history cursor is refused", async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    await server.app.services.credits.purchase(a.accountId, 600, 'cs_test_a_only');
    const ofB = await server.api.get('/api/credits', b.token);
    expect(ofB.body).toMatchObject({ balanceSeconds: 0, availableSeconds: 0, history: [] });
    const entryOfA = (await server.api.get('/api/credits', a.token)).body.history[0].id as string;
    const probe = await server.api.get(`/api/credits?cursor=${entryOfA}`, b.token);
    expect(probe.status).toBe(400);
    expect(JSON.stringify(probe.body)).not.toContain('cs_test_a_only');
    expect((await server.api.get('/api/credits')).status).toBe(401);
  });
});
