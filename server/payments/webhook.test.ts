import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import Stripe from 'stripe';
import { startTestServer, signUpParent, tempDataDir, type TestServer } from '../../test/support/server.js';
import { FakeStripe, deliver, type StripeEventPayload } from '../../test/fakes/stripe/fake-stripe.js';
import { openStore } from '../store/lowdb-store.js';
import type { Store } from '../store/types.js';
import { creditsUpdatedEventSchema } from '../../shared/schemas/credits.js';
import { WEBHOOK_SECRET, creditsOf, openCheckout, send, stripeEnv, webhookUrl } from './test-helpers.js';
import { refundedSeconds } from './service.js';

let fake: FakeStripe;
let server: TestServer;
beforeAll(async () => {
  fake = await FakeStripe.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  server = await startTestServer({ env: stripeEnv(fake) });
});
afterEach(async () => {
  await server.close();
});

/** A parent who opened a checkout for pack-10 (600 s, 49.00 DKK) and paid it at Stripe. */
async function paidCheckout(packId = 'pack-10') {
  const parent = await signUpParent(server.api);
  const { sessionId, payment } = await openCheckout(server, parent.token, packId);
  const paid = fake.pay(sessionId);
  return { ...parent, sessionId, payment, ...paid, completed: fake.completedEvent(sessionId) };
}

const ok = async (event: StripeEventPayload | object) => {
  const res = await send(server, event);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { received: true; outcome: string };
};

const ledgerOf = (accountId: string) => server.app.store.ledger.findBy('accountId', accountId);
const payment = async (id: string) => (await server.app.store.payments.get(id))!;

describe('the webhook signature', () => {
  it('refuses a bad signature with 400 invalid_signature and changes nothing', async () => {
    const p = await paidCheckout();
    const payload = JSON.stringify(p.completed);
    const stripeSigned = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const attempts = [
      await deliver(webhookUrl(server), p.completed, 'whsec_someone_else'),
      await deliver(webhookUrl(server), { ...p.completed, id: 'evt_tampered' }, WEBHOOK_SECRET, {
        signature: stripeSigned,
      }),
      await deliver(webhookUrl(server), p.completed, WEBHOOK_SECRET, { signature: '' }),
      await deliver(webhookUrl(server), p.completed, WEBHOOK_SECRET, {
        signature: `t=${Math.trunc(Date.now() / 1000) - 3600},v1=${'0'.repeat(64)}`,
      }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_signature' } });
    }
    // An old but correctly signed event is refused too (replay window).
    const stale = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: WEBHOOK_SECRET,
      timestamp: Math.trunc(Date.now() / 1000) - 3600,
    });
    expect((await deliver(webhookUrl(server), p.completed, WEBHOOK_SECRET, { signature: stale })).status).toBe(400);
    const notJson = await server.api.request('POST', '/api/stripe/webhook', {
      raw: payload,
      headers: { 'content-type': 'text/plain', 'stripe-signature': stripeSigned },
    });
    expect(notJson.status).toBe(415);

    expect(await ledgerOf(p.accountId)).toEqual([]);
    expect(await payment(p.payment.id)).toMatchObject({ status: 'pending', paidAt: null });
    expect(await server.app.store.webhookEvents.count()).toBe(0);
    expect((await server.api.get('/api/me', p.token)).body.consent.verified).toBe(false);
  });
});

describe('a signed event that is not well-formed', () => {
  it('is refused with 400 invalid_request, changes nothing, and is logged', async () => {
    const p = await paidCheckout();
    for (const object of [
      [],
      { ...fake.sessions.get(p.sessionId)!, payment_status: 7 },
      { id: p.sessionId, object: 'charge' },
    ]) {
      const res = await send(server, { ...p.completed, data: { object } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
    expect(await ledgerOf(p.accountId)).toEqual([]);
    expect(await server.app.store.webhookEvents.count()).toBe(0);
    expect(server.logs.join('')).toContain('signed Stripe event could not be read');
    // The same event, well-formed, is then acted on.
    await ok(p.completed);
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(600);
  });
});

describe('checkout.session.completed', () => {
  it('credits the pack, records the payment and verifies consent; the same event 100 times credits once', async () => {
    const p = await paidCheckout();
    const first = await Promise.all(Array.from({ length: 50 }, () => send(server, p.completed)));
    expect(first.map((r) => r.status)).toEqual(Array(50).fill(200));
    for (let i = 0; i < 50; i++) await ok(p.completed);

    expect(await creditsOf(server, p.token)).toMatchObject({
      balanceSeconds: 600,
      availableSeconds: 600,
      owesSeconds: 0,
    });
    expect((await ledgerOf(p.accountId)).filter((e) => e.kind === 'purchase')).toHaveLength(1);
    expect(await payment(p.payment.id)).toMatchObject({
      status: 'paid',
      paidAt: server.clock.now(),
      paymentIntentId: p.intent.id,
      amount: 4900,
      currency: 'dkk',
    });
    expect(await server.app.store.webhookEvents.get(p.completed.id)).toMatchObject({
      type: 'checkout.session.completed',
    });
    const me = (await server.api.get('/api/me', p.token)).body;
    expect(me.consent.verified).toBe(true);
    const verifications = (await server.app.services.audit.forSubject(p.accountId)).filter(
      (e) => e.action === 'consent.verified',
    );
    expect(verifications).toEqual([expect.objectContaining({ details: { method: 'card_payment' } })]);
  });

  it('a redelivery under a new event id, and async success after it, still credit once', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    await ok(fake.completedEvent(p.sessionId));
    await ok(fake.event('checkout.session.async_payment_succeeded', fake.sessions.get(p.sessionId)!));
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(600);
  });

  it('waits for the money on a delayed payment method: unpaid completes nothing, async success credits, async failure credits nothing', async () => {
    const parent = await signUpParent(server.api);
    const late = await openCheckout(server, parent.token);
    const unpaid = fake.completedEvent(late.sessionId);
    await ok(unpaid);
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(0);
    fake.pay(late.sessionId);
    await ok(fake.event('checkout.session.async_payment_succeeded', fake.sessions.get(late.sessionId)!));
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);

    const failed = await openCheckout(server, parent.token);
    await ok(fake.completedEvent(failed.sessionId));
    await ok(fake.event('checkout.session.async_payment_failed', fake.sessions.get(failed.sessionId)!));
    expect(await payment(failed.payment.id)).toMatchObject({ status: 'failed', paidAt: null });
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
    // A failure reported after the money arrived does not undo the purchase.
    await ok(fake.event('checkout.session.async_payment_failed', fake.sessions.get(late.sessionId)!));
    expect(await payment(late.payment.id)).toMatchObject({ status: 'paid' });
  });

  it("emits credits:updated to the parent's sockets when the webhook credits them", async () => {
    const p = await paidCheckout();
    const socket: Socket = connect(server.url, {
      auth: { token: p.token },
      transports: ['websocket'],
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const update = new Promise<unknown>((resolve) => socket.once('credits:updated', resolve));
      await ok(p.completed);
      expect(creditsUpdatedEventSchema.parse(await update)).toEqual({ balanceSeconds: 600, availableSeconds: 600 });
    } finally {
      socket.disconnect();
    }
  });
});

describe('refunds and disputes', () => {
  it('takes back only the new share of a running refund total, in integer seconds', async () => {
    expect(refundedSeconds(600, 2450, 4900)).toBe(300);
    expect(refundedSeconds(600, 1, 4900)).toBe(0);
    expect(refundedSeconds(600, 4899, 4900)).toBe(599);
    expect(refundedSeconds(600, 9999, 4900)).toBe(600);
    const p = await paidCheckout();
    await ok(p.completed);
    server.clock.advance(1000);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 1225)));
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(450);
    server.clock.advance(1000);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 1225)));
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(300);
    expect(await payment(p.payment.id)).toMatchObject({
      status: 'partially_refunded',
      amountRefunded: 2450,
      chargeId: p.charge.id,
    });
    server.clock.advance(1000);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 2450)));
    const credits = await creditsOf(server, p.token);
    expect(credits).toMatchObject({ balanceSeconds: 0, owesSeconds: 0 });
    // Newest first, each refund shown against the payment it takes back from.
    expect(credits.history.filter((e) => e.kind === 'refund').map((e) => [e.seconds, e.ref])).toEqual([
      [300, p.sessionId],
      [150, p.sessionId],
      [150, p.sessionId],
    ]);
    expect(await payment(p.payment.id)).toMatchObject({ status: 'refunded', amountRefunded: 4900 });
  });

  it('a refund after half the credit was used leaves the rest owed: no negative balance and no call can start', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    const { credits } = server.app.services;
    await credits.hold(p.accountId, 'call-half', { min: 60, max: 600 });
    await credits.settle('call-half', 300);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 4900)));
    expect(await creditsOf(server, p.token)).toMatchObject({
      balanceSeconds: 0,
      availableSeconds: 0,
      owesSeconds: 300,
    });
    expect((await server.api.get('/api/me', p.token)).body).toMatchObject({
      balanceSeconds: 0,
      availableSeconds: 0,
      owesSeconds: 300,
    });
    expect(await credits.hold(p.accountId, 'call-next', { min: 1, max: 600 })).toBeNull();
  });

  it('a half refund after half the credit was used takes the unused half and owes nothing', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    const { credits } = server.app.services;
    await credits.hold(p.accountId, 'call-half', { min: 60, max: 600 });
    await credits.settle('call-half', 300);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 2450)));
    expect(await creditsOf(server, p.token)).toMatchObject({ balanceSeconds: 0, availableSeconds: 0, owesSeconds: 0 });
  });

  it('a dispute reverses what is left of the purchase, and nothing more, even replayed', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 1225)));
    const dispute = fake.disputeEvent(p.charge.id);
    await ok(dispute);
    await ok(dispute);
    await ok(fake.disputeEvent(p.charge.id));
    const credits = await creditsOf(server, p.token);
    expect(credits).toMatchObject({ balanceSeconds: 0, owesSeconds: 0 });
    expect(credits.history.filter((e) => e.kind === 'reversal').map((e) => e.seconds)).toEqual([450]);
    expect(await payment(p.payment.id)).toMatchObject({ status: 'disputed' });
    // A refund reported after the dispute takes nothing more.
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 3675)));
    expect(await creditsOf(server, p.token)).toMatchObject({ balanceSeconds: 0, owesSeconds: 0 });
  });
});

describe('refunds that fail and disputes that are won give the credit back, exactly once', () => {
  const balance = async (token: string) => (await creditsOf(server, token)).balanceSeconds;
  const kinds = async (accountId: string) => (await ledgerOf(accountId)).map((e) => `${e.kind}:${e.seconds}`).sort();

  it('a won dispute gives back what it reversed, once, replayed or not; an earlier event arriving late takes nothing again', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    const { dispute, events: opened } = fake.openDispute(p.charge.id);
    for (const e of [...opened, ...opened]) await ok(e);
    expect(await balance(p.token)).toBe(0);
    expect(await payment(p.payment.id)).toMatchObject({ status: 'disputed', dispute: 'withdrawn' });
    const closed = fake.closeDispute(dispute.id, 'won');
    expect(closed.map((e) => e.type)).toEqual(['charge.dispute.closed', 'charge.dispute.funds_reinstated']);
    for (const e of [...closed, ...closed]) await ok(e);
    expect(await balance(p.token)).toBe(600);
    // Stripe redelivers the opening events under their ids, and a late copy under a new id: nothing moves.
    for (const e of opened) await ok(e);
    await ok(fake.event('charge.dispute.created', { ...dispute, status: 'needs_response' }));
    expect(await balance(p.token)).toBe(600);
    expect(await kinds(p.accountId)).toEqual(['purchase:600', 'reinstate:600', 'reversal:600']);
    expect(await payment(p.payment.id)).toMatchObject({ status: 'paid', dispute: 'won' });
    const history = (await creditsOf(server, p.token)).history;
    expect(history.find((e) => e.kind === 'reinstate')).toMatchObject({ seconds: 600, ref: p.sessionId });
  });

  it('funds_reinstated alone (the closed event lost) gives it back too; a lost dispute keeps it reversed', async () => {
    const won = await paidCheckout();
    await ok(won.completed);
    const a = fake.openDispute(won.charge.id);
    for (const e of a.events) await ok(e);
    await ok(fake.closeDispute(a.dispute.id, 'won')[1]!);
    expect(await balance(won.token)).toBe(600);

    const lost = await paidCheckout();
    await ok(lost.completed);
    const b = fake.openDispute(lost.charge.id);
    for (const e of [...b.events, ...fake.closeDispute(b.dispute.id, 'lost')]) await ok(e);
    expect(await balance(lost.token)).toBe(0);
    expect(await payment(lost.payment.id)).toMatchObject({ status: 'disputed', dispute: 'lost' });
  });

  it('an inquiry (no funds withdrawn) takes nothing, open or closed', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    const { dispute, events } = fake.openDispute(p.charge.id, { inquiry: true });
    expect(events.map((e) => e.type)).toEqual(['charge.dispute.created']);
    for (const e of events) await ok(e);
    expect(await balance(p.token)).toBe(600);
    expect(await payment(p.payment.id)).toMatchObject({ status: 'paid', dispute: 'inquiry' });
    for (const e of fake.closeDispute(dispute.id, 'won')) await ok(e);
    expect(await balance(p.token)).toBe(600);
    expect(await kinds(p.accountId)).toEqual(['purchase:600']);
  });

  it('a failed refund gives back what it took, once, in any order and replayed; a later refund still counts', async () => {
    const orders = [
      ['refunded', 'created', 'failed', 'updated'],
      ['failed', 'refunded', 'updated', 'created'],
      ['created', 'failed', 'refunded', 'updated'],
    ] as const;
    for (const order of orders) {
      const p = await paidCheckout();
      await ok(p.completed);
      const half = fake.createRefund(p.charge.id, 2450);
      const fail = fake.failRefund(half.refund.id);
      const events = { refunded: half.refunded, created: half.created, failed: fail.failed, updated: fail.updated };
      for (const name of order) await ok(events[name]);
      for (const name of order) await ok(events[name]);
      expect(await balance(p.token), order.join(' > ')).toBe(600);
      expect(await payment(p.payment.id), order.join(' > ')).toMatchObject({ status: 'paid' });
      // Taken back at most once and given back at most once: the books balance.
      const entries = await kinds(p.accountId);
      expect(entries.filter((e) => e.startsWith('refund:')).length, order.join(' > ')).toBeLessThanOrEqual(1);
      expect(entries.filter((e) => e.startsWith('reinstate:')).length, order.join(' > ')).toBeLessThanOrEqual(1);
    }
    // After a failed refund, a new refund of a quarter takes a quarter.
    const p = await paidCheckout();
    await ok(p.completed);
    const first = fake.createRefund(p.charge.id, 2450);
    await ok(first.refunded);
    await ok(first.created);
    expect(await balance(p.token)).toBe(300);
    await ok(fake.failRefund(first.refund.id).failed);
    expect(await balance(p.token)).toBe(600);
    const second = fake.createRefund(p.charge.id, 1225);
    await ok(second.refunded); // amount_refunded is 1225 again: lower than the 2450 seen before
    await ok(second.created);
    expect(await balance(p.token)).toBe(450);
    expect(await kinds(p.accountId)).toEqual(['purchase:600', 'refund:150', 'refund:300', 'reinstate:300']);
  });
});

describe('events out of order', () => {
  const permutations = <T>(xs: T[]): T[][] =>
    xs.length <= 1
      ? [xs]
      : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));

  it('every order of a completed checkout and two partial refunds ends in the same balance', async () => {
    for (const order of permutations(['completed', 'refund-1', 'refund-2'] as const)) {
      const p = await paidCheckout();
      const events = {
        completed: p.completed,
        'refund-1': fake.refundedEvent(fake.refund(p.charge.id, 1225)),
        'refund-2': fake.refundedEvent(fake.refund(p.charge.id, 2450)),
      };
      for (const name of order) await ok(events[name]);
      // 3675 of 4900 refunded: 450 of 600 seconds taken back, whatever came first.
      expect((await creditsOf(server, p.token)).balanceSeconds, order.join(' > ')).toBe(150);
      expect(await payment(p.payment.id), order.join(' > ')).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 3675,
      });
    }
  });

  it('the same events delivered concurrently end where they would in order', async () => {
    const p = await paidCheckout();
    const events = [
      p.completed,
      fake.refundedEvent(fake.refund(p.charge.id, 1225)),
      fake.refundedEvent(fake.refund(p.charge.id, 2450)),
    ];
    const all = await Promise.all([...events, ...events, ...events].map((e) => send(server, e)));
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(150);
  });

  it('a dispute that arrives before its checkout completed is traced through the PaymentIntent and applied after it', async () => {
    const p = await paidCheckout();
    await ok(fake.disputeEvent(p.charge.id));
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(0);
    expect(await payment(p.payment.id)).toMatchObject({
      status: 'disputed',
      chargeId: p.charge.id,
      paymentIntentId: p.intent.id,
      paidAt: null,
    });
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === `/v1/payment_intents/${p.intent.id}`)).toBe(true);
    await ok(p.completed);
    expect(await creditsOf(server, p.token)).toMatchObject({ balanceSeconds: 0, owesSeconds: 0 });
    // Paid and then reversed: both are in the books.
    expect((await ledgerOf(p.accountId)).map((e) => [e.kind, e.seconds]).sort()).toEqual([
      ['purchase', 600],
      ['reversal', 600],
    ]);
  });
});

describe('events that are not ours', () => {
  it('metadata naming a nonexistent account changes nothing and is acknowledged', async () => {
    const ghost = '0195f1c2-0000-7000-8000-00000000dead';
    const session = {
      id: 'cs_test_ghost',
      object: 'checkout.session',
      mode: 'payment',
      payment_status: 'paid',
      amount_total: 4900,
      currency: 'dkk',
      payment_intent: 'pi_test_ghost',
      metadata: { accountId: ghost, packId: 'pack-10', paymentId: 'nope' },
    };
    expect(await ok(fake.event('checkout.session.completed', session))).toEqual({ received: true, outcome: 'ignored' });
    const charge = {
      id: 'ch_test_ghost',
      object: 'charge',
      amount: 4900,
      amount_refunded: 4900,
      currency: 'dkk',
      payment_intent: 'pi_test_ghost',
      metadata: { accountId: ghost, packId: 'pack-10', paymentId: 'nope' },
    };
    expect(await ok(fake.event('charge.refunded', charge))).toMatchObject({ outcome: 'ignored' });
    expect(
      await ok(
        fake.event('charge.dispute.created', {
          id: 'dp_test_ghost',
          object: 'dispute',
          amount: 4900,
          charge: 'ch_test_ghost',
          payment_intent: 'pi_test_other',
        }),
      ),
    ).toMatchObject({ outcome: 'ignored' });
    expect(await ok(fake.event('customer.created', { id: 'cus_test', object: 'customer' }))).toMatchObject({
      outcome: 'ignored',
    });
    expect(await server.app.store.payments.count()).toBe(0);
    expect(await server.app.store.ledger.count()).toBe(0);
  });

  it("a refund whose metadata names another parent's payment is not applied to it", async () => {
    const a = await paidCheckout();
    await ok(a.completed);
    const b = await signUpParent(server.api);
    const forged = {
      id: 'ch_test_forged',
      object: 'charge',
      amount: 4900,
      amount_refunded: 4900,
      currency: 'dkk',
      payment_intent: 'pi_test_forged',
      metadata: { accountId: b.accountId, packId: 'pack-10', paymentId: a.payment.id },
    };
    expect(await ok(fake.event('charge.refunded', forged))).toMatchObject({ outcome: 'ignored' });
    expect((await creditsOf(server, a.token)).balanceSeconds).toBe(600);
    expect(await payment(a.payment.id)).toMatchObject({ status: 'paid', amountRefunded: 0, chargeId: null });
  });

  it('rebuilds the payment record from the session metadata when the checkout answered but its record was never written', async () => {
    const parent = await signUpParent(server.api);
    const { sessionId, payment: row } = await openCheckout(server, parent.token);
    await server.app.store.payments.remove(row.id);
    fake.pay(sessionId);
    await ok(fake.completedEvent(sessionId));
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
    expect(await payment(row.id)).toMatchObject({
      accountId: parent.accountId,
      checkoutSessionId: sessionId,
      status: 'paid',
      amount: 4900,
      seconds: 600,
    });
  });
});

describe("a session tied to its parent by client_reference_id (Stripe's convention)", () => {
  /** A paid checkout.session.completed for a session this server never opened, as Stripe would send it. */
  const foreignSession = (over: Record<string, unknown> = {}) => ({
    id: `cs_test_foreign_${Math.random().toString(36).slice(2)}`,
    object: 'checkout.session',
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    amount_total: 4900,
    currency: 'dkk',
    payment_intent: 'pi_test_foreign',
    metadata: { packId: 'pack-10' },
    ...over,
  });

  it('credits the account named by client_reference_id when metadata carries only the pack; replays credit once', async () => {
    const parent = await signUpParent(server.api);
    const session = foreignSession({ client_reference_id: parent.accountId });
    const event = fake.event('checkout.session.completed', session);
    expect(await ok(event)).toEqual({ received: true, outcome: 'processed' });
    expect(await creditsOf(server, parent.token)).toMatchObject({ balanceSeconds: 600, availableSeconds: 600 });
    const [row] = await server.app.store.payments.findBy('accountId', parent.accountId);
    expect(row).toMatchObject({
      checkoutSessionId: session.id,
      packId: 'pack-10',
      seconds: 600,
      amount: 4900,
      currency: 'dkk',
      status: 'paid',
    });
    expect((await server.api.get('/api/me', parent.token)).body.consent.verified).toBe(true);
    // The same event again, and Stripe's redelivery of the session under a new event id: no more credit.
    expect(await ok(event)).toMatchObject({ outcome: 'duplicate' });
    expect(await ok(fake.event('checkout.session.completed', session))).toMatchObject({ outcome: 'processed' });
    expect(await ok(fake.event('checkout.session.async_payment_succeeded', session))).toMatchObject({
      outcome: 'processed',
    });
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
    expect((await ledgerOf(parent.accountId)).filter((e) => e.kind === 'purchase')).toHaveLength(1);
  });

  it('credits when metadata.accountId and client_reference_id name the same account', async () => {
    const parent = await signUpParent(server.api);
    await ok(
      fake.event(
        'checkout.session.completed',
        foreignSession({
          client_reference_id: parent.accountId,
          metadata: { accountId: parent.accountId, packId: 'pack-10' },
        }),
      ),
    );
    expect((await creditsOf(server, parent.token)).balanceSeconds).toBe(600);
  });

  it('credits nothing when they name two different accounts, and logs only the event id', async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const event = fake.event(
      'checkout.session.completed',
      foreignSession({ client_reference_id: b.accountId, metadata: { accountId: a.accountId, packId: 'pack-10' } }),
    );
    expect(await ok(event)).toEqual({ received: true, outcome: 'ignored' });
    expect(await creditsOf(server, a.token)).toMatchObject({ balanceSeconds: 0, history: [] });
    expect(await creditsOf(server, b.token)).toMatchObject({ balanceSeconds: 0, history: [] });
    expect(await server.app.store.payments.count()).toBe(0);
    const logs = server.logs.join('');
    expect(logs).toContain('checkout session names two different accounts');
    expect(logs).toContain(event.id);
    expect(logs).not.toContain(a.accountId);
    expect(logs).not.toContain(b.accountId);
  });

  it('credits nothing when the amount is not the pack price, or the pack, the account or the currency is unknown', async () => {
    const parent = await signUpParent(server.api);
    const another = await signUpParent(server.api);
    const refused = [
      foreignSession({ client_reference_id: parent.accountId, amount_total: 100 }),
      foreignSession({ client_reference_id: parent.accountId, amount_total: 9900 }),
      foreignSession({ client_reference_id: parent.accountId, currency: 'eur' }),
      foreignSession({ client_reference_id: parent.accountId, amount_total: null }),
      foreignSession({ client_reference_id: parent.accountId, metadata: { packId: 'pack-free' } }),
      foreignSession({ client_reference_id: parent.accountId, metadata: {} }),
      foreignSession({ client_reference_id: '0195f1c2-0000-7000-8000-00000000dead' }),
      foreignSession({ client_reference_id: null }),
    ];
    for (const session of refused)
      expect(await ok(fake.event('checkout.session.completed', session)), JSON.stringify(session)).toMatchObject({
        outcome: 'ignored',
      });
    expect(await server.app.store.payments.count()).toBe(0);
    expect(await server.app.store.ledger.count()).toBe(0);
    expect((await server.api.get('/api/me', parent.token)).body.consent.verified).toBe(false);
    // A session this server opened is checked against its own record's price too.
    const p = await openCheckout(server, another.token);
    fake.pay(p.sessionId);
    const tampered = { ...fake.sessions.get(p.sessionId)!, amount_total: 1 };
    expect(await ok(fake.event('checkout.session.completed', tampered))).toMatchObject({ outcome: 'ignored' });
    // A signed session of ours without an amount (amount_total: null) is no payment of its price.
    const noAmount = { ...fake.sessions.get(p.sessionId)!, amount_total: null };
    expect(await ok(fake.event('checkout.session.completed', noAmount))).toMatchObject({ outcome: 'ignored' });
    expect((await creditsOf(server, another.token)).balanceSeconds).toBe(0);
    expect((await creditsOf(server, another.token)).balanceSeconds).toBe(0);
    await ok(fake.completedEvent(p.sessionId));
    expect((await creditsOf(server, another.token)).balanceSeconds).toBe(600);
  });
});

describe('well-signed events that credit nothing are acknowledged with 2xx (Stripe retries anything else)', () => {
  it('answers 200 ignored to every type this server does not act on, whatever its object, and to our handled types for sessions that are not ours', async () => {
    const parent = await signUpParent(server.api);
    const others = [
      fake.event('checkout.session.expired', {
        id: 'cs_test_expired',
        object: 'checkout.session',
        payment_status: 'unpaid',
        metadata: {},
      }),
      fake.event('payment_intent.succeeded', {
        id: 'pi_test_x',
        object: 'payment_intent',
        amount: 4900,
        metadata: { accountId: parent.accountId, packId: 'pack-10' },
      }),
      fake.event('charge.succeeded', { id: 'ch_test_x', object: 'charge', amount: 4900 }),
      fake.event('invoice.paid', { id: 'in_test_x', object: 'invoice' }),
      fake.event('customer.created', { id: 'cus_test', object: 'customer' }),
      { id: 'evt_test_no_data', object: 'event', type: 'account.updated', created: Math.trunc(Date.now() / 1000) },
      fake.event('checkout.session.async_payment_failed', {
        id: 'cs_test_not_ours',
        object: 'checkout.session',
        payment_status: 'unpaid',
        metadata: {},
      }),
      fake.event('checkout.session.completed', {
        id: 'cs_test_unpaid_not_ours',
        object: 'checkout.session',
        payment_status: 'unpaid',
        metadata: {},
      }),
    ];
    for (const event of others)
      expect(await ok(event), JSON.stringify(event)).toMatchObject({ received: true, outcome: 'ignored' });
    expect(await server.app.store.payments.count()).toBe(0);
    expect(await server.app.store.ledger.count()).toBe(0);
    expect(await server.app.store.webhookEvents.count()).toBe(others.length);
  });
});

describe('durability', () => {
  it('answers 500 while the store cannot write, so Stripe redelivers; the redelivery is acknowledged once it is on disk and credits once', async () => {
    await server.close();
    const dataDir = tempDataDir();
    const real = await openStore({ dataDir });
    let failing = false;
    let flushesAwaited = 0;
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'flush') {
          return async () => {
            if (failing) throw new Error('disk full');
            await target.flush();
            flushesAwaited++;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    server = await startTestServer({ env: stripeEnv(fake), dataDir, app: { store } });
    const p = await paidCheckout();
    failing = true;
    const refused = await send(server, p.completed);
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({ error: { code: 'internal_error' } });
    failing = false;
    // The redelivery finds the event already seen (in memory only) and still waits for the disk.
    const before = flushesAwaited;
    expect(await ok(p.completed)).toMatchObject({ outcome: 'duplicate' });
    expect(flushesAwaited).toBeGreaterThan(before);
    await ok(p.completed);
    expect((await creditsOf(server, p.token)).balanceSeconds).toBe(600);
    expect(real.status().pendingWrites).toBe(0);
  });

  it('restarting the server between any two steps loses nothing and doubles nothing', async () => {
    const parent = await signUpParent(server.api);
    const steps: [string, () => Promise<unknown>, { balanceSeconds: number; owesSeconds: number }][] = [];
    let sessionId = '';
    let chargeId = '';
    let completed: StripeEventPayload | null = null;
    let refund: StripeEventPayload | null = null;
    steps.push([
      'checkout',
      async () => ({ sessionId } = await openCheckout(server, parent.token)),
      { balanceSeconds: 0, owesSeconds: 0 },
    ]);
    steps.push([
      'paid at Stripe',
      async () => {
        chargeId = fake.pay(sessionId).charge.id;
        completed = fake.completedEvent(sessionId);
      },
      { balanceSeconds: 0, owesSeconds: 0 },
    ]);
    steps.push(['completed', () => ok(completed!), { balanceSeconds: 600, owesSeconds: 0 }]);
    steps.push(['completed again', () => ok(completed!), { balanceSeconds: 600, owesSeconds: 0 }]);
    steps.push([
      'call holds',
      () => server.app.services.credits.hold(parent.accountId, 'call-r', { min: 60, max: 600 }),
      { balanceSeconds: 600, owesSeconds: 0 },
    ]);
    steps.push([
      'call settles',
      () => server.app.services.credits.settle('call-r', 420),
      { balanceSeconds: 180, owesSeconds: 0 },
    ]);
    steps.push([
      'call settles again',
      () => server.app.services.credits.settle('call-r', 500),
      { balanceSeconds: 180, owesSeconds: 0 },
    ]);
    steps.push([
      'half refund',
      async () => {
        refund = fake.refundedEvent(fake.refund(chargeId, 2450));
        await ok(refund);
      },
      { balanceSeconds: 0, owesSeconds: 120 },
    ]);
    steps.push(['half refund again', () => ok(refund!), { balanceSeconds: 0, owesSeconds: 120 }]);
    steps.push(['dispute', () => ok(fake.disputeEvent(chargeId)), { balanceSeconds: 0, owesSeconds: 420 }]);
    steps.push([
      'everything replayed',
      async () => {
        await ok(completed!);
        await ok(refund!);
      },
      { balanceSeconds: 0, owesSeconds: 420 },
    ]);

    for (const [name, step, expected] of steps) {
      await step();
      server = await server.restart();
      expect(await creditsOf(server, parent.token), `after "${name}" and a restart`).toMatchObject(expected);
    }
    const entries = await ledgerOf(parent.accountId);
    expect(entries.map((e) => e.kind).sort()).toEqual(['capture', 'hold', 'purchase', 'refund', 'release', 'reversal']);
    expect((await server.api.get('/api/me', parent.token)).body.consent.verified).toBe(true);
  });
});

describe('what a payment record keeps (P10, P15)', () => {
  it('keeps amount, currency, dates and Stripe ids; no card details or payer data from Stripe reach the store or the logs', async () => {
    const p = await paidCheckout();
    await ok(p.completed);
    await ok(fake.refundedEvent(fake.refund(p.charge.id, 1225)));
    const row = await payment(p.payment.id);
    expect(Object.keys(row).sort()).toEqual(
      [
        'accountId',
        'amount',
        'amountRefunded',
        'chargeId',
        'checkoutSessionId',
        'createdAt',
        'currency',
        'id',
        'packId',
        'paidAt',
        'paymentIntentId',
        'provider',
        'seconds',
        'status',
      ].sort(),
    );
    expect(row).toMatchObject({
      amount: 4900,
      currency: 'dkk',
      createdAt: expect.any(Number),
      paidAt: expect.any(Number),
      checkoutSessionId: p.sessionId,
      paymentIntentId: p.intent.id,
      chargeId: p.charge.id,
    });
    await server.app.store.flush();
    const everything: unknown[] = [];
    for (const table of ['payments', 'ledger', 'webhookEvents', 'audit'] as const)
      for await (const batch of server.app.store[table].scan()) everything.push(...batch);
    const text = JSON.stringify(everything) + server.logs.join('');
    // The card's last four and brand are looked for as values (quoted), and as the field names
    // Stripe gives them: a bare 4242 turns up by chance in random ids and hashes.
    for (const secret of ['"4242"', '"visa"', 'last4', 'FAKEfingerprint42', 'cardholder-canary', 'Card Holder Canary'])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\\?"(last4|brand|fingerprint|billing_details)\\?"/);
  });
});
