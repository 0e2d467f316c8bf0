import { describe, expect, it } from 'vitest';
import { signUpParent, testServers } from '../support/server.js';

const servers = testServers();

describe('no cache keeps personal data', () => {
  it('every /api answer carries Cache-Control: no-store, /api/me and /api/profiles/:id included, errors too', async () => {
    const server = await servers.start();
    const parent = await signUpParent(server.api);
    const profile = await server.api.post('/api/profiles', { name: 'Ada', age: 6, language: 'en' }, parent.token);
    const answers = [
      await server.api.get('/api/me', parent.token),
      await server.api.get(`/api/profiles/${profile.body.id as string}`, parent.token),
      await server.api.get('/api/profiles', parent.token),
      await server.api.get('/api/credits', parent.token),
      await server.api.get('/api/calls', parent.token),
      await server.api.get('/api/me', 'not-a-token'),
      await server.api.get('/api/no-such-thing'),
      await server.api.get('/api/policy'),
    ];
    for (const res of answers)
      expect(res.headers.get('cache-control'), `${res.status} ${JSON.stringify(res.body).slice(0, 80)}`).toBe(
        'no-store',
      );
  });
});
