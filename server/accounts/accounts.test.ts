import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, signUpParent, type TestServer } from '../../test/support/server.js';
import { DAY_MS, MINUTE_MS } from '../../shared/units.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

describe('accounts and sign-in', () => {
  it('signs up, logs in, reads and rectifies the account, and survives a restart', async () => {
    const { api } = server;
    const signup = await api.post('/api/auth/signup', {
      email: ' Ada@Example.TEST ',
      password: 'a long passphrase',
      name: 'Ada',
      locale: 'da',
    });
    expect(signup.status).toBe(201);
    expect(signup.body.account).toMatchObject({
      email: 'ada@example.test',
      name: 'Ada',
      locale: 'da',
      restricted: false,
      marketingOptIn: false,
      consent: null,
      balanceSeconds: 0,
      availableSeconds: 0,
      deletion: null,
    });
    expect(signup.body.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);

    const login = await api.post('/api/auth/login', { email: 'ada@example.test', password: 'a long passphrase' });
    expect(login.status).toBe(200);
    const token = login.body.token as string;

    const patched = await api.patch('/api/me', { name: 'Ada L.', marketingOptIn: true, locale: 'sv' }, token);
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Ada L.', marketingOptIn: true, locale: 'sv' });

    server = await server.restart();
    const me = await server.api.get('/api/me', token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: 'ada@example.test', name: 'Ada L.', locale: 'sv', marketingOptIn: true });
  });

  it('refuses a second account for the same email', async () => {
    await signUpParent(server.api, { email: 'twice@example.test', consent: false });
    const again = await server.api.post('/api/auth/signup', {
      email: 'TWICE@example.test',
      password: 'another passphrase',
      name: 'B',
      locale: 'en',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('email_taken');
  });

  it('never stores the password or the token in readable form', async () => {
    const { token } = await signUpParent(server.api, { password: 'canary-password-123', consent: false });
    await server.app.store.flush();
    const rows = [];
    for await (const b of server.app.store.accounts.scan()) rows.push(...b);
    expect(rows[0]?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    for await (const b of server.app.store.sessions.scan())
      for (const s of b) expect(JSON.stringify(s)).not.toContain(token);
    expect(server.logs.join('')).not.toContain('canary-password-123');
    expect(server.logs.join('')).not.toContain(token);
  });

  it('answers a wrong password and an unknown email alike', async () => {
    await signUpParent(server.api, { email: 'known@example.test', consent: false });
    const wrong = await server.api.post('/api/auth/login', { email: 'known@example.test', password: 'wrong password' });
    const unknown = await server.api.post('/api/auth/login', {
      email: 'nobody@example.test',
      password: 'wrong password',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it('rate-limits failed logins per account with 429 and Retry-After, and lets the parent in after the window', async () => {
    const { email, password } = await signUpParent(server.api, { consent: false });
    for (let i = 0; i < 5; i++)
      expect((await server.api.post('/api/auth/login', { email, password: 'nope nope' })).status).toBe(401);
    const limited = await server.api.post('/api/auth/login', { email, password });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    server.clock.advance(16 * MINUTE_MS);
    expect((await server.api.post('/api/auth/login', { email, password })).status).toBe(200);
  });

  it('accounts locked out by brute-force runs do not lock out other accounts from the same address', async () => {
    // Five brute-force runs (say, five tests of a suite, all from 127.0.0.1): 25 failures from one address.
    const victims = [];
    for (let v = 0; v < 5; v++) victims.push(await signUpParent(server.api, { consent: false }));
    const other = await signUpParent(server.api, { consent: false });
    const third = await signUpParent(server.api, { consent: false });
    for (const victim of victims) {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++)
        statuses.push(
          (await server.api.post('/api/auth/login', { email: victim.email, password: `guess ${i}` })).status,
        );
      expect(statuses).toEqual([...Array(5).fill(401), ...Array(25).fill(429)]);
      // The locked account stays locked, even to its right password.
      const locked = await server.api.post('/api/auth/login', { email: victim.email, password: victim.password });
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe('rate_limited');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Every other account from the same address (the test client's 127.0.0.1) is unaffected.
    expect((await server.api.post('/api/auth/login', { email: other.email, password: other.password })).status).toBe(
      200,
    );
    expect((await server.api.post('/api/auth/login', { email: third.email, password: 'a typo' })).status).toBe(401);
    expect((await server.api.post('/api/auth/login', { email: third.email, password: third.password })).status).toBe(
      200,
    );
  });

  it('rate-limits failed logins per address across many accounts, loosely: 100 failures in 15 minutes', async () => {
    const parent = await signUpParent(server.api, { consent: false });
    const failures = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        server.api.post('/api/auth/login', { email: `guess${i}@example.test`, password: 'guessing' }),
      ),
    );
    expect(failures.map((r) => r.status)).toEqual(Array(100).fill(401));
    // Over the address's limit, every login from it waits, a right password included.
    const limited = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(
      (await server.api.post('/api/auth/login', { email: 'guess100@example.test', password: 'guessing' })).status,
    ).toBe(429);
    server.clock.advance(16 * MINUTE_MS);
    expect((await server.api.post('/api/auth/login', { email: parent.email, password: parent.password })).status).toBe(
      200,
    );
  });

  it("an attack on a parent's email does not keep the parent out: the attacking address waits, the parent signs in from elsewhere", async () => {
    server = await server.restart({ TRUST_PROXY: 'loopback' });
    const owner = await signUpParent(server.api, { consent: false });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(
        (
          await server.api.request('POST', '/api/auth/login', {
            body: { email: owner.email, password: `guess ${i}` },
            headers: from('203.0.113.9'),
          })
        ).status,
      );
    }
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(25).fill(429)]);
    // The attacker's address is slowed down even with the right password; the owner, elsewhere, is not.
    expect(
      (
        await server.api.request('POST', '/api/auth/login', {
          body: { email: owner.email, password: owner.password },
          headers: from('203.0.113.9'),
        })
      ).status,
    ).toBe(429);
    expect(
      (
        await server.api.request('POST', '/api/auth/login', {
          body: { email: owner.email, password: owner.password },
          headers: from('198.51.100.20'),
        })
      ).status,
    ).toBe(200);
  });

  it("a distributed guess locks the email only at a much higher count, and the parent's password reset link lifts the lock", async () => {
    server = await server.restart({ TRUST_PROXY: 'loopback' });
    const owner = await signUpParent(server.api, { consent: false });
    const login = (password: string, ip: string) =>
      server.api.request('POST', '/api/auth/login', {
        body: { email: owner.email, password },
        headers: { 'x-forwarded-for': ip },
      });
    // Ten addresses, five guesses each: 50 failures on one email.
    for (let a = 0; a < 10; a++)
      for (let i = 0; i < 5; i++) expect((await login(`guess ${a}-${i}`, `203.0.113.${a + 1}`)).status).toBe(401);
    const locked = await login(owner.password, '198.51.100.20');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The reset link proves the email is the parent's: the lock goes with it.
    expect((await server.api.post('/api/auth/password-reset/request', { email: owner.email })).status).toBe(202);
    await server.app.services.passwordResets.settled();
    const mail = (await server.app.store.outbox.findBy('accountId', owner.accountId)).find(
      (m) => m.template === 'password_reset',
    );
    const token = /#token=([A-Za-z0-9_-]+)/.exec(mail?.body ?? '')?.[1] ?? '';
    expect(
      (
        await server.api.post('/api/auth/password-reset/confirm', {
          token,
          newPassword: 'a new passphrase after the attack',
        })
      ).status,
    ).toBe(200);
    expect((await login('a new passphrase after the attack', '198.51.100.20')).status).toBe(200);
  });

  it('limits sign-ups per address (accepted or email_taken alike), so sign-up is no bulk oracle and no source of free accounts', async () => {
    server = await server.restart({ SIGNUPS_PER_ADDRESS_PER_HOUR: '20', TRUST_PROXY: 'loopback' });
    const taken = await signUpParent(server.api, { consent: false });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const email = i % 2 === 0 ? taken.email : `burst${i}@example.test`;
      statuses.push(
        (
          await server.api.request('POST', '/api/auth/signup', {
            body: { email, password: 'a long passphrase', name: 'Burst', locale: 'en' },
            headers: { 'x-forwarded-for': '203.0.113.50' },
          })
        ).status,
      );
    }
    // 20 attempts from one address in an hour (201 or 409), then 429 with Retry-After.
    expect(statuses.slice(0, 20).every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    const limited = await server.api.request('POST', '/api/auth/signup', {
      body: { email: 'late@example.test', password: 'a long passphrase', name: 'Late', locale: 'en' },
      headers: { 'x-forwarded-for': '203.0.113.50' },
    });
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await server.app.store.accounts.findOne('email', 'late@example.test')).toBeUndefined();
    // Another address is not affected, and the first one may sign up again after the hour.
    expect(
      (
        await server.api.request('POST', '/api/auth/signup', {
          body: { email: 'elsewhere@example.test', password: 'a long passphrase', name: 'E', locale: 'en' },
          headers: { 'x-forwarded-for': '198.51.100.3' },
        })
      ).status,
    ).toBe(201);
    server.clock.advance(61 * MINUTE_MS);
    expect(
      (
        await server.api.request('POST', '/api/auth/signup', {
          body: { email: 'late@example.test', password: 'a long passphrase', name: 'Late', locale: 'en' },
          headers: { 'x-forwarded-for': '203.0.113.50' },
        })
      ).status,
    ).toBe(201);
  });

  it('refuses a logged-out token, an expired token and a made-up token', async () => {
    const { token } = await signUpParent(server.api, { consent: false });
    expect((await server.api.get('/api/me', 'made-up-token')).status).toBe(401);
    expect((await server.api.post('/api/auth/logout', undefined, token)).status).toBe(204);
    const after = await server.api.get('/api/me', token);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');

    const second = await signUpParent(server.api, { consent: false });
    server.clock.advance(31 * DAY_MS);
    expect((await server.api.get('/api/me', second.token)).status).toBe(401);
  });

  it('revokes every other session on a password change and needs the current password for it', async () => {
    const { token, email, password } = await signUpParent(server.api, { consent: false });
    const other = (await server.api.post('/api/auth/login', { email, password })).body.token as string;
    const noCurrent = await server.api.patch('/api/me', { newPassword: 'a new passphrase' }, token);
    expect(noCurrent.status).toBe(400);
    const wrongCurrent = await server.api.patch(
      '/api/me',
      { newPassword: 'a new passphrase', currentPassword: 'wrong' },
      token,
    );
    expect(wrongCurrent.status).toBe(403);
    expect(wrongCurrent.body.error).toMatchObject({
      code: 'wrong_password',
      fields: { currentPassword: expect.any(String) },
    });
    expect((await server.api.get('/api/me', other)).status).toBe(200);

    const ok = await server.api.patch('/api/me', { newPassword: 'a new passphrase', currentPassword: password }, token);
    expect(ok.status).toBe(200);
    expect((await server.api.get('/api/me', token)).status).toBe(200);
    expect((await server.api.get('/api/me', other)).status).toBe(401);
    expect((await server.api.post('/api/auth/login', { email, password })).status).toBe(401);
    expect((await server.api.post('/api/auth/login', { email, password: 'a new passphrase' })).status).toBe(200);
    const audit = await server.app.services.audit.all();
    expect(audit.map((a) => a.action)).toContain('account.password_change');
  });

  it('changes the email only with the current password, and never onto another account', async () => {
    const a = await signUpParent(server.api, { consent: false });
    const b = await signUpParent(server.api, { consent: false });
    expect((await server.api.patch('/api/me', { email: 'new@example.test' }, a.token)).status).toBe(400);
    const taken = await server.api.patch('/api/me', { email: b.email, currentPassword: a.password }, a.token);
    expect(taken.status).toBe(409);
    const ok = await server.api.patch('/api/me', { email: 'new@example.test', currentPassword: a.password }, a.token);
    expect(ok.body.email).toBe('new@example.test');
    const bMe = await server.api.get('/api/me', b.token);
    expect(bMe.body.email).toBe(b.email);
  });

  it('records login activity as usage data: time, success and browser family only', async () => {
    const { accountId, email, password } = await signUpParent(server.api, { consent: false });
    await server.api.request('POST', '/api/auth/login', {
      body: { email, password },
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' },
    });
    await server.api.request('POST', '/api/auth/login', {
      body: { email, password: 'bad password' },
      headers: { 'user-agent': 'Mozilla/5.0 Chrome/130.0 Safari/537.36' },
    });
    const logins = await server.app.store.logins.findBy('accountId', accountId);
    expect(logins.map((l) => [l.success, l.uaFamily]).sort()).toEqual(
      [
        [false, 'Chrome'],
        [true, 'Firefox'],
        [true, 'Other'],
      ].sort(),
    );
    for (const l of logins) expect(Object.keys(l).sort()).toEqual(['accountId', 'at', 'id', 'success', 'uaFamily']);
  });
});
