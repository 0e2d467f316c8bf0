import { afterEach, describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../../shared/units.js';
import { signUpParent, startTestServer, type TestServer } from '../../test/support/server.js';
import { decodeQuotedPrintable, FakeSmtpServer } from '../../test/fakes/smtp.js';
import { admin, expectStatus } from '../privacy/test-helpers.js';

let server: TestServer | undefined;
let smtp: FakeSmtpServer | undefined;
afterEach(async () => {
  await server?.close();
  await smtp?.stop();
  server = undefined;
  smtp = undefined;
});

const offer = () => ({ subject: 'Winter offer', body: 'Ten extra minutes this week' });

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not met');
}

describe('outbox and opt-out (P12)', () => {
  it('marketing mail is never queued for a parent who has not opted in or has opted out; an opted-in parent gets it', async () => {
    server = await startTestServer();
    const mail = server.app.services.mail;
    const never = await signUpParent(server.api);
    const optedIn = await signUpParent(server.api);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: true }, optedIn.token), 200);
    const optedOut = await signUpParent(server.api);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: true }, optedOut.token), 200);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: false }, optedOut.token), 200);
    const restricted = await signUpParent(server.api);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: true }, restricted.token), 200);
    expectStatus(await server.api.post('/api/me/restrict', { restricted: true }, restricted.token), 200);

    expect(await mail.queueMarketing(never.accountId, 'offer', offer)).toBeNull();
    expect(await mail.queueMarketing(optedOut.accountId, 'offer', offer)).toBeNull();
    expect(await mail.queueMarketing(restricted.accountId, 'offer', offer)).toBeNull();
    expect(await mail.queueMarketing('no-such-account', 'offer', offer)).toBeNull();
    const queued = await mail.queueMarketing(optedIn.accountId, 'offer', offer);
    expect(queued).toMatchObject({ kind: 'marketing', to: optedIn.email });
    for (const p of [never, optedOut, restricted])
      expect(await server.app.store.outbox.findBy('accountId', p.accountId)).toEqual([]);
  });

  it('with SMTP_URL set, mail is delivered through SMTP, marked sent, and a failed attempt is retried later', async () => {
    smtp = new FakeSmtpServer();
    const url = await smtp.start();
    server = await startTestServer({ env: { SMTP_URL: url, MAIL_FROM: 'Call Santa <santa@example.test>' } });
    const parent = await signUpParent(server.api);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: true }, parent.token), 200);
    smtp.failNext = 1;
    const row = await server.app.services.mail.queueMarketing(parent.accountId, 'offer', offer);
    await until(async () => (await server!.app.store.outbox.get(row!.id))?.attempts === 1);
    expect((await server.app.store.outbox.get(row!.id))?.sentAt).toBeNull();
    expect(smtp.received).toHaveLength(0);

    server.clock.advance(MINUTE_MS);
    await until(() => smtp!.received.length === 1);
    const got = smtp.received[0]!;
    expect(got.from).toBe('santa@example.test');
    expect(got.to).toEqual([parent.email]);
    expect(decodeQuotedPrintable(got.data)).toContain('Ten extra minutes this week');
    await until(async () => (await server!.app.store.outbox.get(row!.id))?.sentAt !== null);
    const outbox = await admin(server.api).get('/admin/outbox?status=sent');
    expect(outbox.body.sending).toBe(true);
    expect(outbox.body.entries).toEqual([expect.objectContaining({ id: row!.id, attempts: 2 })]);
  });

  it('a marketing mail queued before an opt-out is not sent after it', async () => {
    smtp = new FakeSmtpServer();
    const url = await smtp.start();
    server = await startTestServer({ env: { SMTP_URL: url } });
    const parent = await signUpParent(server.api);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: true }, parent.token), 200);
    smtp.failNext = 1;
    const row = await server.app.services.mail.queueMarketing(parent.accountId, 'offer', offer);
    await until(async () => (await server!.app.store.outbox.get(row!.id))?.attempts === 1);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: false }, parent.token), 200);
    server.clock.advance(MINUTE_MS);
    await server.app.services.mail.deliverPending();
    expect(smtp.received).toHaveLength(0);
    expect(await server.app.store.outbox.get(row!.id)).toBeUndefined();
  });
});
