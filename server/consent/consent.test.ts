import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, signUpParent, type TestServer } from '../../test/support/server.js';
import { DAY_MS } from '../../shared/units.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

const text = { en: 'Policy text', da: 'Politiktekst', sv: 'Policytext' };

describe('policy and explicit parental consent', () => {
  it('publishes the current policy in en, da and sv', async () => {
    const res = await server.api.get('/api/policy');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: '2026-11-01', material: true, upcoming: null });
    for (const l of ['en', 'da', 'sv']) expect(res.body.text[l].length).toBeGreaterThan(100);
  });

  it('records consent with version, time and method, and audits it', async () => {
    const { token, accountId } = await signUpParent(server.api, { consent: false });
    expect((await server.api.get('/api/me', token)).body.consent).toBeNull();
    const res = await server.api.post('/api/consent', { policyVersion: '2026-11-01' }, token);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      version: '2026-11-01',
      at: new Date(server.clock.now()).toISOString(),
      method: 'explicit_checkbox',
      verified: false,
    });
    const me = await server.api.get('/api/me', token);
    expect(me.body.consent).toEqual({ version: '2026-11-01', at: res.body.at, verified: false });
    const audit = await server.app.services.audit.forSubject(accountId);
    expect(audit.map((a) => a.action)).toContain('consent.given');
  });

  it('refuses consent to a version that is not current, and bad bodies', async () => {
    const { token } = await signUpParent(server.api, { consent: false });
    expect((await server.api.post('/api/consent', { policyVersion: '1999-01-01' }, token)).status).toBe(409);
    expect((await server.api.post('/api/consent', {}, token)).status).toBe(400);
    expect((await server.api.post('/api/consent', { policyVersion: '2026-11-01', extra: 1 }, token)).status).toBe(400);
    expect((await server.api.post('/api/consent', { policyVersion: '2026-11-01' })).status).toBe(401);
    expect((await server.api.get('/api/me', token)).body.consent).toBeNull();
  });

  it('a card payment verifies consent, once, and survives a restart', async () => {
    const { token, accountId } = await signUpParent(server.api);
    const consent = server.app.services.consent;
    expect(await consent.callBlock(accountId)).toBe('consent_unverified');
    expect(await consent.markVerified(accountId, 'card_payment')).toBe(true);
    expect(await consent.markVerified(accountId, 'card_payment')).toBe(false);
    expect(await consent.callBlock(accountId)).toBeNull();
    server = await server.restart();
    expect((await server.api.get('/api/me', token)).body.consent.verified).toBe(true);
  });

  it('a card payment completed before consent verifies the consent given afterwards', async () => {
    const { token, accountId } = await signUpParent(server.api, { consent: false });
    const now = server.clock.now();
    await server.app.store.payments.insert({
      id: 'pay-1',
      accountId,
      provider: 'stripe',
      checkoutSessionId: 'cs_1',
      paymentIntentId: 'pi_1',
      chargeId: null,
      packId: 'pack-10',
      seconds: 600,
      amount: 4900,
      currency: 'dkk',
      status: 'paid',
      amountRefunded: 0,
      createdAt: now,
      paidAt: now,
    });
    const res = await server.api.post('/api/consent', { policyVersion: '2026-11-01' }, token);
    expect(res.body.verified).toBe(true);
    expect(await server.app.services.consent.callBlock(accountId)).toBeNull();
  });

  it('a material change announced 30 days ahead needs renewed consent once it takes effect', async () => {
    const { token, accountId, email, password } = await signUpParent(server.api);
    const consent = server.app.services.consent;
    await consent.markVerified(accountId, 'card_payment');
    const now = server.clock.now();
    await expect(
      consent.publish({
        version: 'v2-too-soon',
        material: true,
        effectiveAt: new Date(now + 29 * DAY_MS).toISOString(),
        text,
      }),
    ).rejects.toMatchObject({ code: 'policy_notice_too_short' });
    await consent.publish({
      version: 'v2',
      material: true,
      effectiveAt: new Date(now + 30 * DAY_MS).toISOString(),
      text,
    });
    const policy = await server.api.get('/api/policy');
    expect(policy.body.version).toBe('2026-11-01');
    expect(policy.body.upcoming).toMatchObject({ version: 'v2', material: true });
    expect(await consent.callBlock(accountId)).toBeNull();

    server.clock.advance(30 * DAY_MS);
    expect((await server.api.get('/api/policy')).body.version).toBe('v2');
    expect(await consent.callBlock(accountId)).toBe('consent_outdated');
    // The 30-day sign-in session ran out meanwhile: the parent signs in again and accepts.
    expect((await server.api.post('/api/consent', { policyVersion: 'v2' }, token)).status).toBe(401);
    const fresh = (await server.api.post('/api/auth/login', { email, password })).body.token as string;
    expect((await server.api.post('/api/consent', { policyVersion: 'v2' }, fresh)).status).toBe(201);
    expect(await consent.callBlock(accountId)).toBeNull();
  });

  it('a non-material change does not ask for consent again', async () => {
    const { accountId } = await signUpParent(server.api);
    const consent = server.app.services.consent;
    await consent.markVerified(accountId, 'card_payment');
    await consent.publish({
      version: 'typo-fix',
      material: false,
      effectiveAt: new Date(server.clock.now() + DAY_MS).toISOString(),
      text,
    });
    server.clock.advance(2 * DAY_MS);
    expect(await consent.callBlock(accountId)).toBeNull();
  });
});
