import { describe, expect, it } from 'vitest';
import { FakeSmtpServer } from '../../test/fakes/smtp.js';
import { signUpParent, testServers } from '../../test/support/server.js';
import { passwordResetRequestResponseSchema } from '../../shared/schemas/privacy.js';

/**
 * Mail that cannot be sent is said (issue 16 point 9), over real HTTP: without SMTP_URL the
 * server warns at start, the reset answer says the link will not arrive by email, and in
 * development a local outbox page shows the link so an installer can finish the reset.
 */
const servers = testServers();

describe('a server without SMTP_URL', () => {
  it('warns at start that no email is sent, and where the messages wait', async () => {
    const server = await servers.start();
    const warning = server.logs
      .map((l) => JSON.parse(l) as { level: number | string; msg: string; outbox?: string })
      .find((l) => l.msg.startsWith('SMTP_URL is not set'));
    expect(warning).toMatchObject({ outbox: `http://localhost:${new URL(server.url).port}/dev/outbox` });
    expect(warning?.msg).toContain('no email is sent');
  });

  it('answers a reset request with delivery "outbox", the same for every address', async () => {
    const server = await servers.start();
    const parent = await signUpParent(server.api);
    const known = await server.api.post('/api/auth/password-reset/request', { email: parent.email });
    const unknown = await server.api.post('/api/auth/password-reset/request', { email: 'nobody@example.test' });
    expect(known.status).toBe(202);
    expect(passwordResetRequestResponseSchema.parse(known.body)).toEqual({ ok: true, delivery: 'outbox' });
    expect(unknown.body).toEqual(known.body);
  });

  it('serves the outbox page in development with the reset link, which works; no token in the log', async () => {
    const server = await servers.start();
    const parent = await signUpParent(server.api, { email: 'installer@example.test' });
    await server.api.post('/api/auth/password-reset/request', { email: parent.email });
    // The link is mailed just after the answer (its timing says nothing): wait for it.
    await expect
      .poll(async () =>
        (await server.app.store.outbox.findBy('accountId', parent.accountId)).some(
          (m) => m.template === 'password_reset',
        ),
      )
      .toBe(true);
    const res = await fetch(`${server.url}/dev/outbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('installer@example.test');
    const link = /href="([^"]*reset-password[^"]*#token=[A-Za-z0-9_-]+)"/.exec(html)?.[1];
    expect(link).toBeTruthy();
    const token = /#token=([A-Za-z0-9_-]+)/.exec(link!)![1]!;
    // The link from the page works: the installer can finish the reset.
    expect(
      (await server.api.post('/api/auth/password-reset/confirm', { token, newPassword: 'a brand new password' }))
        .status,
    ).toBe(200);
    expect(server.logs.join('\n')).not.toContain(token);
    // Text in a mail is escaped, never HTML.
    expect(html).not.toMatch(/<script/i);
  });

  it('has no outbox page in production', async () => {
    const server = await servers.start({
      env: {
        NODE_ENV: 'production',
        SIMULATED_PAYMENTS: 'true',
        EXTENSION_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
        ADMIN_TOKEN: 'a-production-admin-token-0123456789abcdef',
        PUBLIC_URL: 'https://callsanta.example',
      },
    });
    expect((await fetch(`${server.url}/dev/outbox`)).status).toBe(404);
  });
});

describe('a server with SMTP_URL', () => {
  it('says nothing of an outbox, answers delivery "email" and has no outbox page', async () => {
    const smtp = new FakeSmtpServer();
    const smtpUrl = await smtp.start();
    try {
      const server = await servers.start({ env: { SMTP_URL: smtpUrl } });
      expect(server.logs.some((l) => l.includes('SMTP_URL is not set'))).toBe(false);
      const parent = await signUpParent(server.api);
      expect((await server.api.post('/api/auth/password-reset/request', { email: parent.email })).body).toEqual({
        ok: true,
        delivery: 'email',
      });
      expect((await fetch(`${server.url}/dev/outbox`)).status).toBe(404);
    } finally {
      await smtp.stop();
    }
  });
});
