import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { DAY_MS } from '../../shared/units.js';
import { noticeSchema } from '../../shared/schemas/account.js';
import { signUpParent, startTestServer, type TestServer } from '../../test/support/server.js';
import { admin, expectStatus } from '../privacy/test-helpers.js';
import { pickLocale } from './policy-page.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

const text = { en: 'English text', da: 'Dansk tekst', sv: 'Svensk text' };
const inDays = (days: number) => new Date(server.clock.now() + days * DAY_MS).toISOString();

function connect(token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = ioClient(server.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('policy versions and notices (P18)', () => {
  it('a material change taking effect in less than 30 days is refused, and nothing is published or sent', async () => {
    await signUpParent(server.api);
    const res = await admin(server.api).post('/admin/policy', {
      version: 'too-soon',
      material: true,
      effectiveAt: inDays(29),
      text,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('policy_notice_too_short');
    expect(await server.app.store.policies.findOne('version', 'too-soon')).toBeUndefined();
    expect(await server.app.store.outbox.count()).toBe(0);
    expect(await server.app.store.notices.count()).toBe(0);
    // A non-material change may take effect sooner; a repeated version is a conflict; bad bodies are 400.
    expectStatus(
      await admin(server.api).post('/admin/policy', {
        version: 'typo-fix',
        material: false,
        effectiveAt: inDays(1),
        text,
      }),
      201,
    );
    expect(
      (
        await admin(server.api).post('/admin/policy', {
          version: 'typo-fix',
          material: false,
          effectiveAt: inDays(2),
          text,
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await admin(server.api).post('/admin/policy', {
          version: 'x',
          material: true,
          effectiveAt: inDays(40),
          text: { en: 'only english' },
        })
      ).status,
    ).toBe(400);
  });

  it('publishing tells every open account in the app (socket event and GET /api/me) and by essential email, even when opted out of marketing', async () => {
    const optedOut = await signUpParent(server.api, { locale: 'sv' });
    const optedIn = await signUpParent(server.api);
    expectStatus(await server.api.patch('/api/me', { marketingOptIn: true }, optedIn.token), 200);
    const closed = await signUpParent(server.api);
    expectStatus(await server.api.delete('/api/me', { password: closed.password }, closed.token), 202);
    const socket = await connect(optedOut.token);
    const pushed = new Promise<unknown>((resolve) => socket.once('notice', resolve));

    const res = await admin(server.api).post('/admin/policy', {
      version: '2027-03-01',
      material: true,
      effectiveAt: inDays(30),
      text,
    });
    expect(res.status).toBe(201);
    expect(res.body.notified).toBe(2);
    expect(res.body.policy.upcoming).toMatchObject({ version: '2027-03-01', material: true });

    const event = noticeSchema.parse(await pushed);
    expect(event).toMatchObject({
      kind: 'policy_update',
      policyVersion: '2027-03-01',
      effectiveAt: inDays(30),
      readAt: null,
    });
    socket.close();

    for (const p of [optedOut, optedIn]) {
      const me = await server.api.get('/api/me', p.token);
      expect(me.body.notices).toEqual([
        expect.objectContaining({ kind: 'policy_update', policyVersion: '2027-03-01' }),
      ]);
      const mails = await server.app.store.outbox.findBy('accountId', p.accountId);
      expect(mails).toEqual([
        expect.objectContaining({ kind: 'essential', template: 'policy_update:2027-03-01', to: p.email }),
      ]);
    }
    const svMail = (await server.app.store.outbox.findBy('accountId', optedOut.accountId))[0]!;
    expect(svMail.locale).toBe('sv');
    expect(svMail.body).toContain('/policy?lang=sv');
    expect(await server.app.store.notices.findBy('accountId', closed.accountId)).toEqual([]);
    expect(await server.app.store.outbox.findBy('accountId', closed.accountId)).toEqual([
      expect.objectContaining({ template: 'account_closed' }),
    ]);

    // The admin outbox shows the queued mails (no SMTP_URL: nothing is sent).
    const outbox = await admin(server.api).get('/admin/outbox?status=pending');
    expect(outbox.body.sending).toBe(false);
    expect(
      outbox.body.entries.filter((e: { template: string }) => e.template === 'policy_update:2027-03-01'),
    ).toHaveLength(2);
  });

  it("a notice can be marked read by its parent; another parent's notice id is 404 and changes nothing", async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    expectStatus(
      await admin(server.api).post('/admin/policy', { version: 'v2', material: false, effectiveAt: inDays(3), text }),
      201,
    );
    const notice = (await server.api.get('/api/me/notices', a.token)).body.notices[0];
    const foreign = await server.api.post(`/api/me/notices/${notice.id}/read`, {}, b.token);
    expect(foreign.status).toBe(404);
    expect((await server.app.store.notices.get(notice.id))?.readAt).toBeNull();
    const read = await server.api.post(`/api/me/notices/${notice.id}/read`, {}, a.token);
    expect(read.status).toBe(200);
    expect(read.body.readAt).toBe(new Date(server.clock.now()).toISOString());
    expect((await server.api.get('/api/me/notices')).status).toBe(401);
  });

  it('after a material change takes effect, a call needs the parent to accept it again', async () => {
    const parent = await signUpParent(server.api);
    const consent = server.app.services.consent;
    await consent.markVerified(parent.accountId, 'card_payment');
    expect(await consent.callBlock(parent.accountId)).toBeNull();
    expectStatus(
      await admin(server.api).post('/admin/policy', {
        version: '2027-06-01',
        material: true,
        effectiveAt: inDays(30),
        text,
      }),
      201,
    );
    // Announced but not yet in force: calls go on.
    server.clock.advance(29 * DAY_MS);
    expect(await consent.callBlock(parent.accountId)).toBeNull();
    server.clock.advance(DAY_MS);
    expect(await consent.callBlock(parent.accountId)).toBe('consent_outdated');
    const login = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expectStatus(await server.api.post('/api/consent', { policyVersion: '2027-06-01' }, login.body.token), 201);
    expect(await consent.callBlock(parent.accountId)).toBeNull();
  });

  it('a fan-out interrupted by a crash is finished at the next start, without a second notice or mail to anyone', async () => {
    const parents = [];
    for (let i = 0; i < 5; i++) parents.push(await signUpParent(server.api));
    expectStatus(
      await admin(server.api).post('/admin/policy', {
        version: 'v-crash',
        material: false,
        effectiveAt: inDays(2),
        text,
      }),
      201,
    );
    // Make it look as if the process died after the first two families: their rows stay, the rest go, the fan-out is not done.
    const store = server.app.store;
    for (const p of parents.slice(2)) {
      for (const n of await store.notices.findBy('accountId', p.accountId)) await store.notices.remove(n.id);
    }
    for (const m of await store.outbox.findBy('accountId', parents[4]!.accountId)) await store.outbox.remove(m.id);
    await store.meta.update('policy-fanout:v-crash', { value: { done: false } });
    server = await server.restart();
    for (const p of parents) {
      expect(await server.app.store.notices.findBy('accountId', p.accountId)).toHaveLength(1);
      expect(await server.app.store.outbox.findBy('accountId', p.accountId)).toHaveLength(1);
    }
    expect((await server.app.store.meta.get('policy-fanout:v-crash'))?.value).toMatchObject({ done: true });
  });
});

describe('public policy page (P18)', () => {
  it('shows the current and the upcoming version, in the language asked for by ?lang= or Accept-Language', async () => {
    expectStatus(
      await admin(server.api).post('/admin/policy', {
        version: '2027-04-01',
        material: true,
        effectiveAt: inDays(45),
        text: { en: 'Upcoming English', da: 'Kommende dansk', sv: 'Kommande svensk' },
      }),
      201,
    );
    const en = await server.api.get('/policy');
    expect(en.status).toBe(200);
    expect(en.headers.get('content-type')).toMatch(/^text\/html/);
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain('Call Santa privacy policy.');
    expect(en.body).toContain('2026-11-01');
    expect(en.body).toContain('Upcoming English');
    expect(en.body).toContain('material change');

    const da = await server.api.request('GET', '/policy', {
      headers: { 'accept-language': 'sv;q=0.5, da-DK;q=0.9, en;q=0.1' },
    });
    expect(da.body).toContain('<html lang="da">');
    expect(da.body).toContain('Kommende dansk');
    const sv = await server.api.request('GET', '/policy?lang=sv', { headers: { 'accept-language': 'da' } });
    expect(sv.body).toContain('<html lang="sv">');
    expect(sv.body).toContain('Kommande svensk');
    expect(sv.headers.get('content-language')).toBe('sv');
    const fallback = await server.api.request('GET', '/policy?lang=de', { headers: { 'accept-language': 'fr, de' } });
    expect(fallback.body).toContain('<html lang="en">');
  });

  it('escapes every policy text as HTML', async () => {
    const evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
    expectStatus(
      await admin(server.api).post('/admin/policy', {
        version: 'evil',
        material: false,
        effectiveAt: inDays(1),
        text: { en: evil, da: evil, sv: evil },
      }),
      201,
    );
    const page = await server.api.get('/policy');
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;',
    );
  });

  it('picks the locale by q-value and order', () => {
    const pick = (header?: string, lang?: string) =>
      pickLocale({ headers: header ? { 'accept-language': header } : {}, query: lang ? { lang } : {} });
    expect(pick()).toBe('en');
    expect(pick('da')).toBe('da');
    expect(pick('fr;q=1, sv;q=0.8, da;q=0.9')).toBe('da');
    expect(pick('nb-NO, en;q=0.5')).toBe('da');
    expect(pick('sv', 'en')).toBe('en');
    expect(pick('da;q=0')).toBe('en');
  });
});
