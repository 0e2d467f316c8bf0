import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../shared/units.js';
import { signUpParent, testServers } from '../../test/support/server.js';

/**
 * A closed account's email is not a dead end (issue 16 point 10), over real HTTP: the right
 * password learns the account is closed and until when it can be reopened, and can reopen
 * it; anyone else learns nothing sign-up does not already say.
 */
const servers = testServers();

describe('a closed account', () => {
  it('answers its right password with account_closed and the purge date; a wrong one as for any wrong password', async () => {
    const server = await servers.start();
    const parent = await signUpParent(server.api);
    const closed = await server.api.delete('/api/me', { password: parent.password }, parent.token);
    expect(closed.status).toBe(202);
    const right = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expect(right.status).toBe(403);
    expect(right.body).toEqual({
      error: { code: 'account_closed', message: expect.any(String), fields: { purgeBy: closed.body.purgeBy } },
    });
    const wrong = await server.api.post('/api/auth/login', {
      email: parent.email,
      password: 'not the password at all',
    });
    const stranger = await server.api.post('/api/auth/login', {
      email: 'nobody-at-all@example.test',
      password: 'not the password at all',
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'invalid_credentials']);
    expect(wrong.body).toEqual(stranger.body);
    // Sign-up says what it always said for a taken address, nothing about closing.
    const signup = await server.api.post('/api/auth/signup', {
      email: parent.email,
      password: 'another password here',
      name: 'Someone',
      locale: 'en',
    });
    expect([signup.status, signup.body.error.code]).toEqual([409, 'email_taken']);
  });

  it('reopens with its password before the purge date: active again, signed in, the deadline gone', async () => {
    const server = await servers.start();
    const parent = await signUpParent(server.api);
    const other = await signUpParent(server.api, { password: 'the other family password' });
    expect((await server.api.delete('/api/me', { password: parent.password }, parent.token)).status).toBe(202);
    // Another parent's password does not open it.
    expect((await server.api.post('/api/auth/reopen', { email: parent.email, password: other.password })).status).toBe(
      401,
    );
    const reopened = await server.api.post('/api/auth/reopen', { email: parent.email, password: parent.password });
    expect(reopened.status).toBe(200);
    expect(reopened.body.account).toMatchObject({ id: parent.accountId, email: parent.email, deletion: null });
    expect((await server.api.get('/api/me', reopened.body.token as string)).status).toBe(200);
    expect(await server.app.store.accounts.get(parent.accountId)).toMatchObject({
      status: 'active',
      purgeBy: null,
      closedAt: null,
    });
    expect((await server.api.post('/api/auth/login', { email: parent.email, password: parent.password })).status).toBe(
      200,
    );
    // An open account is not "reopened".
    expect((await server.api.post('/api/auth/reopen', { email: other.email, password: other.password })).status).toBe(
      401,
    );
  });

  it('cannot be reopened once its purge date has passed, and then answers like any wrong password', async () => {
    const server = await servers.start();
    const parent = await signUpParent(server.api);
    expect((await server.api.delete('/api/me', { password: parent.password }, parent.token)).status).toBe(202);
    server.clock.advance(31 * DAY_MS);
    expect((await server.api.post('/api/auth/reopen', { email: parent.email, password: parent.password })).status).toBe(
      401,
    );
    const login = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expect([login.status, login.body.error.code]).toEqual([401, 'invalid_credentials']);
  });
});
