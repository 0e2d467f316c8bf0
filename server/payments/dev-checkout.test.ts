import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, signUpParent, type TestServer } from '../../test/support/server.js';
import { FakeStripe, deliver } from '../../test/fakes/stripe/fake-stripe.js';
import { creditsOf } from './test-helpers.js';
import { devCompletedEvent } from './dev-provider.js';

/** The same string with its last character changed (never to the one it had: a near miss, always). */
const changedLast = (s: string): string => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

/** A browser's view of a page: status, headers, body. Redirects are followed like a browser does. */
async function browse(path: string, init: RequestInit = {}) {
  const res = await fetch(server.url + path, init);
  return { status: res.status, headers: res.headers, html: await res.text(), url: res.url };
}

interface DevCheckout {
  path: string;
  sessionId: string;
  key: string;
}

async function devCheckout(token: string, packId = 'pack-10'): Promise<DevCheckout> {
  const res = await server.api.post('/api/credits/checkout', { packId }, token);
  expect(res.status).toBe(200);
  const url = new URL(res.body.url as string);
  return {
    path: url.pathname + url.search,
    sessionId: url.pathname.split('/').pop() ?? '',
    key: url.searchParams.get('key') ?? '',
  };
}

/**
 * The Pay form as the page posts it: the checkout's key in the body, from the server's own
 * origin (origin: null sends no Origin header at all). Redirects are followed like a browser does.
 */
function pay(
  c: Pick<DevCheckout, 'sessionId' | 'key'>,
  opts: { lang?: string; origin?: string | null; key?: string; headers?: Record<string, string> } = {},
) {
  const origin = opts.origin === undefined ? server.url : opts.origin;
  return browse(`/dev/checkout/${c.sessionId}/pay?lang=${opts.lang ?? 'en'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(origin === null ? {} : { origin }),
      ...opts.headers,
    },
    body: new URLSearchParams({ key: opts.key ?? c.key }).toString(),
  });
}

describe('the dev payment provider', () => {
  it('runs the whole page flow over real HTTP through the webhook: page, Pay, credited, consent verified', async () => {
    const parent = await signUpParent(server.api);
    expect((await server.api.get('/api/credits', parent.token)).body.simulatedPayments).toBe(true);
    const res = await server.api.post('/api/credits/checkout', { packId: 'pack-10' }, parent.token);
    expect(res.body.url).toMatch(
      new RegExp(`^${server.url}/dev/checkout/cs_dev_[A-Za-z0-9_-]{43}\\?lang=en&key=[A-Za-z0-9_-]{43}$`),
    );
    const { path, sessionId } = await devCheckout(parent.token);

    const page = await browse(path);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).toContain('Test payment — no money moves');
    expect(page.html).toContain('10 minutes of call time');
    expect(page.html).toMatch(/<form method="post" action="\/dev\/checkout\/cs_dev_[^"]+\/pay\?lang=en">/);
    expect(page.html).toMatch(/<button type="submit">Pay DKK\s?49\.00 \(test, no money moves\)<\/button>/);
    expect(page.html).not.toMatch(/<script|onclick=/i);
    // No field to type in: one hidden key (the checkout's binding to the session that opened it) and the button.
    expect(page.html.match(/<input[^>]*>/g)).toEqual([
      expect.stringMatching(/^<input type="hidden" name="key" value="[A-Za-z0-9_-]{43}">$/),
    ]);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");

    const key = new URL(server.url + path).searchParams.get('key') ?? '';
    const paid = await fetch(`${server.url}/dev/checkout/${sessionId}/pay?lang=en`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      body: `key=${key}`,
      redirect: 'manual',
    });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`/dev/checkout/${sessionId}?lang=en&key=${key}`);
    const done = await browse(paid.headers.get('location')!);
    expect(done.html).toContain('Payment done, you can close this tab');

    expect(await creditsOf(server, parent.token)).toMatchObject({ balanceSeconds: 600, availableSeconds: 600 });
    expect((await server.api.get('/api/me', parent.token)).body.consent.verified).toBe(true);
    // It went through the webhook: a signed Stripe event was received, recorded and logged.
    const events = [];
    for await (const batch of server.app.store.webhookEvents.scan()) events.push(...batch);
    expect(events).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/^evt_dev_/), type: 'checkout.session.completed' }),
    ]);
    expect(server.logs.join('')).toMatch(
      /"outcome":"processed".*"msg":"stripe event"|"msg":"stripe event".*"outcome":"processed"/,
    );
    const row = await server.app.store.payments.findOne('checkoutSessionId', sessionId);
    expect(row).toMatchObject({
      provider: 'dev',
      status: 'paid',
      accountId: parent.accountId,
      amount: 4900,
      currency: 'dkk',
    });
  });

  it("signs an event shaped like Stripe's: the session names the account in client_reference_id and in metadata", async () => {
    const parent = await signUpParent(server.api);
    const { sessionId } = await devCheckout(parent.token, 'pack-30');
    const row = await server.app.store.payments.findOne('checkoutSessionId', sessionId);
    const event = JSON.parse(devCompletedEvent(row!, server.clock.now()).payload) as {
      type: string;
      data: { object: Record<string, unknown> };
    };
    expect(event.type).toBe('checkout.session.completed');
    expect(event.data.object).toMatchObject({
      id: sessionId,
      object: 'checkout.session',
      payment_status: 'paid',
      amount_total: 9900,
      currency: 'dkk',
      client_reference_id: parent.accountId,
      metadata: { accountId: parent.accountId, packId: 'pack-30', paymentId: row!.id },
    });
  });

  it('pays once however often Pay is pressed', async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    const presses = await Promise.all(Array.from({ length: 5 }, () => pay(checkout)));
    expect(presses.map((p) => p.status)).toEqual([200, 200, 200, 200, 200]);
    await pay(checkout);
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
    expect(
      (await server.app.store.ledger.findBy('accountId', parent.accountId)).filter((e) => e.kind === 'purchase'),
    ).toHaveLength(1);
  });

  it('speaks English, Danish and Swedish, by ?lang or Accept-Language', async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    const { sessionId, key } = checkout;
    const sv = await browse(`/dev/checkout/${sessionId}?key=${key}`, {
      headers: { 'accept-language': 'de-DE, sv-SE;q=0.9, en;q=0.5' },
    });
    expect(sv.html).toContain('<html lang="sv">');
    expect(sv.html).toContain('Testbetalning — inga pengar flyttas');
    expect(sv.html).toContain('Betala');
    const da = await browse(`/dev/checkout/${sessionId}?lang=da&key=${key}`, { headers: { 'accept-language': 'sv' } });
    expect(da.html).toContain('<html lang="da">');
    expect(da.html).toContain('Testbetaling — ingen penge flyttes');
    expect(da.html).toContain(`action="/dev/checkout/${sessionId}/pay?lang=da"`);
    const fallback = await browse(`/dev/checkout/${sessionId}?key=${key}`, { headers: { 'accept-language': 'fr-FR' } });
    expect(fallback.html).toContain('<html lang="en">');
    const doneDa = await pay(checkout, { lang: 'da' });
    expect(doneDa.html).toContain('Betalingen er gennemført, du kan lukke denne fane');
    const cancelled = await browse('/checkout/cancelled?lang=sv');
    expect(cancelled.html).toContain('Betalningen avbröts');
    const returned = await browse('/checkout/done?lang=en&session_id=cs_test_x');
    expect(returned.html).toContain('Thank you! You can close this tab');
  });

  it('uses unguessable session ids; a made-up one is a 404 page and pays nothing', async () => {
    const parent = await signUpParent(server.api);
    const a = await devCheckout(parent.token);
    const b = await devCheckout(parent.token);
    expect(a.sessionId).not.toBe(b.sessionId);
    expect(a.sessionId.length).toBeGreaterThanOrEqual('cs_dev_'.length + 43);
    for (const guess of ['cs_dev_1', changedLast(a.sessionId), 'cs_test_anything']) {
      expect((await browse(`/dev/checkout/${guess}?key=${a.key}`)).status).toBe(404);
      const paid = await pay({ sessionId: guess, key: a.key });
      expect(paid.status).toBe(404);
      expect(paid.html).toContain('This payment link is not valid');
    }
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(0);
    expect(await server.app.store.webhookEvents.count()).toBe(0);
  });

  it('says plainly, at start and in the credits response, that payments are simulated', async () => {
    const start = server.logs
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => /Payments are SIMULATED/.test(l.msg));
    expect(start).toBeDefined();
    expect(start!.level).toBeGreaterThanOrEqual(40);
    expect(start!.msg).toContain('no money moves');
    const parent = await signUpParent(server.api);
    expect((await server.api.get('/api/credits', parent.token)).body.simulatedPayments).toBe(true);
  });

  it('verifies STRIPE_WEBHOOK_SECRET when it is set, in dev mode too, and its own Pay button signs with it', async () => {
    server = await server.restart({ STRIPE_WEBHOOK_SECRET: 'whsec_configured_for_the_stripe_cli' });
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    const fake = await FakeStripe.start();
    try {
      const event = fake.event('customer.created', { id: 'cus_test', object: 'customer' });
      expect(
        (await deliver(`${server.url}/api/stripe/webhook`, event, 'whsec_configured_for_the_stripe_cli')).status,
      ).toBe(200);
      expect((await deliver(`${server.url}/api/stripe/webhook`, event, 'whsec_something_else')).status).toBe(400);
    } finally {
      await fake.close();
    }
    await pay(checkout);
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
  });

  it('restarting the server between any two steps of the page flow loses nothing and doubles nothing', async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token, 'pack-30');
    server = await server.restart();
    expect((await browse(checkout.path)).html).toContain('30 minutes of call time');
    server = await server.restart();
    await pay(checkout);
    server = await server.restart();
    expect((await browse(checkout.path)).html).toContain('Payment done, you can close this tab');
    expect(await creditsOf(server, parent.token)).toMatchObject({ balanceSeconds: 1800 });
    await pay(checkout);
    server = await server.restart();
    expect(await creditsOf(server, parent.token)).toMatchObject({ balanceSeconds: 1800 });
    expect((await server.api.get('/api/me', parent.token)).body.consent.verified).toBe(true);
  });

  it("one parent's checkout credits only that parent, whoever opens its page", async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const checkout = await devCheckout(a.token);
    await pay(checkout);
    expect((await creditsOf(server, a.token)).balanceSeconds).toBe(600);
    expect(await creditsOf(server, b.token)).toMatchObject({ balanceSeconds: 0, history: [] });
    expect((await server.api.get('/api/me', b.token)).body.consent.verified).toBe(false);
  });

  it("Pay needs the key its checkout URL carries: a bare POST to the URL, or another checkout's key, pays nothing", async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    const other = await devCheckout(parent.token);
    const bare = await browse(`/dev/checkout/${checkout.sessionId}/pay?lang=en`, {
      method: 'POST',
      headers: { origin: server.url },
    });
    expect(bare.status).toBe(404);
    expect(bare.html).toContain('This payment link is not valid');
    for (const key of ['', other.key, changedLast(checkout.key), 'x'.repeat(500)])
      expect((await pay(checkout, { key })).status).toBe(404);
    // Without the key the page itself is not shown either.
    expect((await browse(`/dev/checkout/${checkout.sessionId}?lang=en`)).status).toBe(404);
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(0);
    expect((await server.api.get('/api/me', parent.token)).body.consent.verified).toBe(false);
    expect(await server.app.store.webhookEvents.count()).toBe(0);
  });

  it('Pay refuses a cross-site origin, Origin: null, and a request without Origin that is not same-origin', async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    for (const opts of [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: server.url.replace('127.0.0.1', 'localhost') },
      { origin: null },
      { origin: null, headers: { 'sec-fetch-site': 'cross-site' } },
    ]) {
      const res = await pay(checkout, opts);
      expect(res.status, JSON.stringify(opts)).toBe(403);
      expect(res.html).toContain('This payment was not sent from its page');
      expect(res.html).toContain('payments are simulated');
    }
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(0);
    expect(await server.app.store.webhookEvents.count()).toBe(0);
    // The page's own form: the browser sends the page's origin (its referrer policy is same-origin).
    expect((await browse(checkout.path)).html).toContain('<meta name="referrer" content="same-origin">');
    expect((await pay(checkout, { origin: null, headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
  });

  it('the checkout is bound to the sign-in session that opened it: after sign-out its page and Pay are dead', async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    expect((await browse(checkout.path)).status).toBe(200);
    expect((await server.api.post('/api/auth/logout', {}, parent.token)).status).toBeLessThan(300);
    expect((await browse(checkout.path)).status).toBe(404);
    expect((await pay(checkout)).status).toBe(404);
    const again = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expect((await creditsOf(server, again.body.token as string)).balanceSeconds).toBe(0);
  });

  it('says on every one of its pages that payments are simulated', async () => {
    const parent = await signUpParent(server.api);
    const checkout = await devCheckout(parent.token);
    const banner = 'This server runs without Stripe, so payments are simulated';
    expect((await browse(checkout.path)).html).toContain(banner);
    expect((await browse(`/dev/checkout/${checkout.sessionId}`)).html).toContain(banner);
    expect((await pay(checkout, { origin: 'https://evil.example' })).html).toContain(banner);
    expect((await pay(checkout)).html).toContain(banner);
  });

  it('in production with SIMULATED_PAYMENTS=true: the pages and the credits answer say so, and consent is never "verified by card"', async () => {
    server = await server.restart({
      NODE_ENV: 'production',
      SIMULATED_PAYMENTS: 'true',
      EXTENSION_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
    });
    expect(server.config.production).toBe(true);
    const parent = await signUpParent(server.api);
    expect((await server.api.get('/api/credits', parent.token)).body.simulatedPayments).toBe(true);
    const checkout = await devCheckout(parent.token);
    expect((await browse(checkout.path)).html).toContain('Test payment — no money moves');
    const done = await pay(checkout);
    expect(done.html).toContain('payments are simulated');
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
    const consents = await server.app.store.consents.findBy('accountId', parent.accountId);
    expect(consents.map((c) => c.verifiedBy)).toEqual(['card_payment_simulated']);
    const audit = [];
    for await (const batch of server.app.store.audit.scan()) audit.push(...batch);
    expect(audit.filter((e) => e.action === 'consent.verified').map((e) => e.details)).toEqual([
      { method: 'card_payment_simulated' },
    ]);
  });
});
