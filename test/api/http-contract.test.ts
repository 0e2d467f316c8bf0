import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiErrorSchema } from '../../shared/errors.js';
import { startTestServer, signUpParent, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

function expectErrorShape(body: unknown, code: string) {
  const parsed = apiErrorSchema.parse(body);
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.message.length).toBeGreaterThan(0);
}

describe('the wire contract for errors', () => {
  it('answers unknown routes with 404 in the JSON error shape', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['POST', '/api/auth/nope'],
      ['GET', '/nothing/here'],
      ['DELETE', '/api/policy'],
    ] as const) {
      const res = await server.api.request(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expectErrorShape(res.body, 'not_found');
    }
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await server.api.request('POST', '/api/auth/signup', {
      raw: '{"email": "a@b.c",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'invalid_json');
  });

  it('answers a body that is not JSON with 415', async () => {
    const res = await server.api.request('POST', '/api/auth/signup', {
      raw: 'email=a@b.c',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expectErrorShape(res.body, 'unsupported_media_type');
  });

  it('answers an oversized body with 413', async () => {
    const res = await server.api.request('POST', '/api/auth/signup', {
      raw: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(200_000), name: 'n', locale: 'en' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expectErrorShape(res.body, 'payload_too_large');
  });

  it('names each bad field of a signup and creates nothing', async () => {
    const cases: [unknown, string[]][] = [
      [{}, ['email', 'password', 'name', 'locale']],
      [{ email: 'not-an-email', password: 'long enough pass', name: 'A', locale: 'en' }, ['email']],
      [{ email: 'a@example.test', password: 'short', name: 'A', locale: 'en' }, ['password']],
      [{ email: 'a@example.test', password: 'long enough pass', name: 'A', locale: 'de' }, ['locale']],
      [{ email: 'a@example.test', password: 'long enough pass', name: 'A', locale: 'en', role: 'admin' }, ['role']],
      [{ email: 'a@example.test', password: 'long enough pass', name: 'x'.repeat(81), locale: 'en' }, ['name']],
      [{ email: 'a@example.test', password: 12345678, name: 'A', locale: 'en' }, ['password']],
      [{ email: 'a@example.test', password: 'long enough pass', name: '\u0000\u0007', locale: 'en' }, ['name']],
      [[1, 2, 3], ['_']],
    ];
    for (const [body, fields] of cases) {
      const res = await server.api.post('/api/auth/signup', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectErrorShape(res.body, 'invalid_request');
      for (const f of fields) expect(Object.keys(res.body.error.fields ?? {}), JSON.stringify(body)).toContain(f);
    }
    expect(await server.app.store.accounts.count()).toBe(0);
  });

  it('names a prototype key (__proto__, constructor, prototype) as the unknown field and changes nothing', async () => {
    const { token } = await signUpParent(server.api);
    const accounts = await server.app.store.accounts.count();
    const created = await server.api.post('/api/profiles', { name: 'Kid', age: 6, language: 'en' }, token);
    expect(created.status).toBe(201);
    const profilePath = `/api/profiles/${created.body.id as string}`;
    const before = {
      me: (await server.api.get('/api/me', token)).body,
      profile: (await server.api.get(profilePath, token)).body,
    };
    // Raw bodies: JSON.stringify of an object literal would never send `__proto__` as a key.
    const cases: [string, string, string][] = [
      ['PATCH', '/api/me', '{"__proto__": {"restricted": true}}'],
      ['PATCH', '/api/me', '{"__proto__": {"x": 1}, "name": "Changed"}'],
      ['PATCH', profilePath, '{"__proto__": {"age": 9}}'],
      ['PATCH', profilePath, '{"name": "Changed", "__proto__": {}}'],
      ['PATCH', profilePath, '{"constructor": {"prototype": {"age": 9}}}'],
      ['PATCH', '/api/me', '{"prototype": {"restricted": true}}'],
      [
        'POST',
        '/api/auth/signup',
        '{"email":"p@example.test","password":"long enough pass","name":"A","locale":"en","__proto__":{"role":"admin"}}',
      ],
    ];
    for (const [method, path, raw] of cases) {
      const res = await server.api.request(method, path, {
        raw,
        token,
        headers: { 'content-type': 'application/json' },
      });
      const key = /"(__proto__|constructor|prototype)"/.exec(raw)![1]!;
      expect(res.status, `${method} ${path} ${raw}`).toBe(400);
      expectErrorShape(res.body, 'invalid_request');
      expect(Object.prototype.hasOwnProperty.call(res.body.error.fields ?? {}, key), raw).toBe(true);
      expect(res.body.error.fields[key], raw).toBe('Unknown field');
      expect(res.body.error.message, raw).toContain(key);
    }
    expect((await server.api.get('/api/me', token)).body).toEqual(before.me);
    expect((await server.api.get(profilePath, token)).body).toEqual(before.profile);
    expect(await server.app.store.accounts.count()).toBe(accounts);
  });

  it('strips control characters from names', async () => {
    const res = await server.api.post('/api/auth/signup', {
      email: 'ctl@example.test',
      password: 'long enough pass',
      name: 'Ada\u0000\u202E Love\u0007lace',
      locale: 'en',
    });
    expect(res.status).toBe(201);
    expect(res.body.account.name).toBe('Ada Love lace');
  });

  it('sends security headers and no framework fingerprint', async () => {
    const res = await server.api.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, store: { ok: true } });
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeTruthy();
  });

  it('allows extension and localhost origins by default and refuses other sites', async () => {
    const ok = await server.api.request('OPTIONS', '/api/me', {
      headers: {
        origin: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
        'access-control-request-method': 'GET',
      },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('chrome-extension://abcdefghijklmnopabcdefghijklmnop');
    const bad = await server.api.request('OPTIONS', '/api/me', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('requires a bearer token on account routes', async () => {
    for (const path of ['/api/me', '/api/auth/logout']) {
      const res = await server.api.request(path === '/api/me' ? 'GET' : 'POST', path);
      expect(res.status).toBe(401);
      expectErrorShape(res.body, 'unauthorized');
    }
    const { token } = await signUpParent(server.api);
    expect((await server.api.request('GET', '/api/me', { headers: { authorization: `Basic ${token}` } })).status).toBe(
      401,
    );
  });
});
