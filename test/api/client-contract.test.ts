import { describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { signUpParent, testServers, TEST_ADMIN_TOKEN } from '../support/server.js';

const { start: startWith, track } = testServers();
const start = (env?: Record<string, string>) => startWith({ env });

const EXTENSION = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';
const preflight = (origin: string, method = 'GET') => ({
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization' },
});

describe('configuration a test harness or small deployment uses', () => {
  it('starts with a short ADMIN_TOKEN and a passphrase DATA_KEY, warns about both, and shows neither', async () => {
    const server = await start({ ADMIN_TOKEN: 'test-admin', DATA_KEY: 'test-key' });
    const logs = server.logs.join('');
    expect(logs).toMatch(/ADMIN_TOKEN is shorter than 24 characters/);
    expect(logs).toMatch(/DATA_KEY is a passphrase/);
    expect(logs).not.toContain('test-admin');
    expect(logs).not.toContain('test-key');
    const res = await server.api.request('GET', '/admin/stats', { headers: { authorization: 'Bearer test-admin' } });
    expect(res.status).toBe(200);
    const parent = await signUpParent(server.api);
    // The data written under the passphrase comes back after a restart with it.
    const again = await server.restart();
    track(again);
    expect((await again.api.get('/api/me', parent.token)).body.email).toBe(parent.email);
  });
});

describe('GET /healthz', () => {
  it('sends lastFlushAt as an ISO-8601 UTC string taken from the server clock', async () => {
    const server = await start();
    server.clock.advance(3_600_000);
    await signUpParent(server.api, { consent: false });
    const res = await server.api.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      store: {
        kind: 'lowdb',
        ok: true,
        pendingWrites: expect.any(Number),
        lastFlushAt: new Date(server.clock.now()).toISOString(),
      },
    });
    expect(res.body.store.lastFlushAt).toBe('2026-12-01T11:00:00.000Z');
  });
});

describe('bearer tokens', () => {
  it('takes the Bearer scheme in any case and with surrounding whitespace', async () => {
    const server = await start();
    const { token, email } = await signUpParent(server.api);
    for (const authorization of [
      `bearer ${token}`,
      `BEARER ${token}`,
      `BeArEr ${token}`,
      `Bearer   ${token}`,
      `Bearer\t${token}`,
    ]) {
      const res = await server.api.request('GET', '/api/me', { headers: { authorization } });
      expect(res.status, JSON.stringify(authorization)).toBe(200);
      expect(res.body.email).toBe(email);
    }
    expect(
      (await server.api.request('POST', '/api/auth/logout', { headers: { authorization: `bearer ${token}` } })).status,
    ).toBe(204);
    expect((await server.api.get('/api/me', token)).status).toBe(401);
  });

  it('takes the admin token with the scheme in any case', async () => {
    const server = await start();
    for (const authorization of [`bearer ${TEST_ADMIN_TOKEN}`, `BEARER  ${TEST_ADMIN_TOKEN}`]) {
      expect(
        (await server.api.request('GET', '/admin/stats', { headers: { authorization } })).status,
        authorization,
      ).toBe(200);
    }
  });

  it('every /api 401 carries WWW-Authenticate: Bearer, with error="invalid_token" when a bad token was sent', async () => {
    const server = await start();
    const { token, email } = await signUpParent(server.api);
    const cases: [Record<string, string>, string][] = [
      [{}, 'Bearer'],
      [{ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'Bearer'],
      [{ authorization: 'Bearer not-a-session' }, 'Bearer error="invalid_token"'],
      [{ authorization: `bearer ${token}x` }, 'Bearer error="invalid_token"'],
      [{ authorization: 'Bearer @@@' }, 'Bearer error="invalid_token"'],
    ];
    for (const [headers, challenge] of cases) {
      for (const [method, path] of [
        ['GET', '/api/me'],
        ['GET', '/api/profiles'],
        ['POST', '/api/auth/logout'],
        ['POST', '/api/photos'],
      ] as const) {
        const res = await server.api.request(method, path, { headers });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.headers.get('www-authenticate'), `${method} ${path} ${JSON.stringify(headers)}`).toBe(challenge);
      }
    }
    const login = await server.api.post('/api/auth/login', { email, password: 'not the password' });
    expect(login.status).toBe(401);
    expect(login.headers.get('www-authenticate')).toBe('Bearer');
    // Admin keeps its own challenge.
    expect((await server.api.get('/admin/stats')).headers.get('www-authenticate')).toBe('Bearer realm="admin"');
  });

  it('the socket.io handshake still takes the token from auth and refuses a bad one', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const attempt = (auth: Record<string, string>) =>
      new Promise<{ ok: boolean; data?: unknown }>((resolve) => {
        const s = connect(server.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
        s.once('connect', () => {
          resolve({ ok: true });
          s.close();
        });
        s.once('connect_error', (err: Error & { data?: unknown }) => {
          resolve({ ok: false, data: err.data });
          s.close();
        });
      });
    expect(await attempt({ token })).toEqual({ ok: true });
    expect(await attempt({ token: `${token}x` })).toMatchObject({ ok: false, data: { code: 'unauthorized' } });
    expect(await attempt({ token: `Bearer ${token}` })).toMatchObject({ ok: false, data: { code: 'unauthorized' } });
  });
});

describe('CORS', () => {
  it('ends every preflight with 204; a refused origin gets no Access-Control-Allow-Origin and never reaches the route', async () => {
    const server = await start();
    for (const path of ['/api/me', '/api/profiles/some-id', '/api/auth/login', '/admin/stats', '/healthz']) {
      const bad = await server.api.request('OPTIONS', path, preflight('https://evil.example', 'DELETE'));
      expect(bad.status, path).toBe(204);
      expect(bad.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(bad.headers.get('www-authenticate'), path).toBeNull();
      expect(bad.body, path).toBe('');
      const ok = await server.api.request('OPTIONS', path, preflight(EXTENSION, 'DELETE'));
      expect(ok.status, path).toBe(204);
      expect(ok.headers.get('access-control-allow-origin'), path).toBe(EXTENSION);
    }
  });

  it('allows the Authorization and Content-Type headers only, and exposes Retry-After, Content-Disposition and WWW-Authenticate', async () => {
    const server = await start();
    const pre = await server.api.request('OPTIONS', '/api/me', preflight(EXTENSION));
    expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type');
    const res = await server.api.request('GET', '/api/me', { headers: { origin: EXTENSION } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(EXTENSION);
    expect(res.headers.get('access-control-expose-headers')).toBe('Retry-After,Content-Disposition,WWW-Authenticate');
  });

  it('EXTENSION_ORIGINS=* allows any origin, over HTTP and socket.io', async () => {
    const server = await start({ EXTENSION_ORIGINS: '*' });
    for (const origin of ['https://any.example', 'moz-extension://1b2c3d4e-0000-4000-8000-000000000000', EXTENSION]) {
      const res = await server.api.request('OPTIONS', '/api/me', preflight(origin));
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const poll = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://any.example' },
    });
    expect(poll.status).toBe(200);
    expect(poll.headers.get('access-control-allow-origin')).toBe('https://any.example');
  });

  it('EXTENSION_ORIGINS as a list allows exactly the origins it names', async () => {
    const server = await start({ EXTENSION_ORIGINS: 'https://a.example' });
    const ok = await server.api.request('OPTIONS', '/api/me', preflight('https://a.example'));
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://a.example');
    const refused = await server.api.request('OPTIONS', '/api/me', preflight(EXTENSION));
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});
