import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { signUpParent, testServers } from '../../test/support/server.js';
import type { CallRow } from '../store/types.js';
import { decryptDataDir } from '../privacy/test-helpers.js';
import {
  getPhoto,
  photoStored,
  readAllFiles,
  snapshot,
  upload,
  uploadPhoto,
  pngWithGps,
} from '../photos/test-fixtures.js';
import { endedCallRow } from '../../test/support/call-rows.js';

const { start, track } = testServers();

const NAME = 'Zebulonia Quixhart';
const WISH = 'a glow-in-the-dark narwhal kite';
const NOTES = 'Shares toys with the Pemberwick twins';
const PREFS = 'Loves reindeer trivia about Blitzenholm';

const aChild = (extra: Record<string, unknown> = {}) => ({
  name: NAME,
  age: 7,
  language: 'en',
  wishList: [WISH, 'socks'],
  behaviorNotes: NOTES,
  preferences: PREFS,
  ...extra,
});

function callRow(accountId: string, profileId: string | null, at: number): CallRow {
  return endedCallRow({ id: randomUUID(), accountId, profileId, heldSeconds: 300, startedAt: at, seconds: 120 });
}

describe('child profiles', () => {
  it('a parent creates, reads, updates and lists profiles, and all of it (photo too) is still there after a restart', async () => {
    let server = await start();
    const { token } = await signUpParent(server.api);
    const photoId = await uploadPhoto(server.api, token);

    const created = await server.api.post(
      '/api/profiles',
      aChild({ photoId, dailyMinutes: 20, quietHours: { from: '19:30', to: '07:00' } }),
      token,
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toEqual({
      id,
      name: NAME,
      age: 7,
      wishList: [WISH, 'socks'],
      behaviorNotes: NOTES,
      preferences: PREFS,
      language: 'en',
      photoId,
      dailyMinutes: 20,
      quietHours: { from: '19:30', to: '07:00' },
      // The zone of the parent's controls: none set, so they are read in UTC.
      timeZone: null,
    });

    server.clock.advance(1000);
    const second = await server.api.post('/api/profiles', { name: 'Bo', age: 3, language: 'da' }, token);
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({
      wishList: [],
      behaviorNotes: '',
      preferences: '',
      photoId: null,
      dailyMinutes: null,
      quietHours: null,
    });

    expect((await server.api.get(`/api/profiles/${id}`, token)).body).toEqual(created.body);
    const patched = await server.api.patch(
      `/api/profiles/${id}`,
      { age: 8, wishList: ['a sled'], language: 'sv', dailyMinutes: null },
      token,
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...created.body, age: 8, wishList: ['a sled'], language: 'sv', dailyMinutes: null });

    const list = await server.api.get('/api/profiles', token);
    expect(list.status).toBe(200);
    // Listed in creation order.
    expect(list.body).toEqual({ profiles: [patched.body, second.body] });
    const photoBefore = await getPhoto(server, token, id);
    expect(photoBefore.status).toBe(200);

    server = await server.restart();
    track(server);

    expect((await server.api.get('/api/profiles', token)).body).toEqual(list.body);
    const photoAfter = await getPhoto(server, token, id);
    expect(photoAfter.status).toBe(200);
    expect(photoAfter.headers.get('content-type')).toBe('image/png');
    expect(photoAfter.bytes.equals(photoBefore.bytes)).toBe(true);
    // A saved photo no longer expires, so it survives a restart and any sweep.
    expect((await server.app.store.photos.get(photoId))?.expiresAt).toBeNull();

    expect((await server.api.delete(`/api/profiles/${id}`, undefined, token)).status).toBe(204);
    expect((await server.api.get('/api/profiles', token)).body).toEqual({ profiles: [second.body] });
  });

  it('no profile can be created before the parent has given consent (403 consent_required), and nothing is stored', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api, { consent: false });
    const before = await snapshot(server, accountId);
    const res = await server.api.post('/api/profiles', aChild(), token);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('consent_required');
    expect(await snapshot(server, accountId)).toEqual(before);
    expect(before.profiles).toEqual([]);

    const policy = await server.api.get('/api/policy');
    expect((await server.api.post('/api/consent', { policyVersion: policy.body.version }, token)).status).toBe(201);
    expect((await server.api.post('/api/profiles', aChild(), token)).status).toBe(201);
  });

  // lowdb's own files: PostgreSQL's bytes at rest are test/store/pg-at-rest.test.ts's.
  it('lowdb: no file under DATA_DIR holds a child name, wish list, notes, an email, or the photo in the clear', async () => {
    let server = await start({ store: 'lowdb' });
    const email = 'plaintext-probe-4417@example.test';
    const { token } = await signUpParent(server.api, { email, name: 'Probe Parentsen' });
    const photoId = await uploadPhoto(server.api, token);
    const created = await server.api.post('/api/profiles', aChild({ photoId }), token);
    expect(created.status).toBe(201);
    const served = await getPhoto(server, token, created.body.id);
    expect(served.status).toBe(200);
    await server.app.store.flush();

    const check = () => {
      const files = readAllFiles(server.dataDir);
      // The data files and the photo file are all there to be searched.
      expect(files.some((f) => f.path.includes(`${photoId}.bin`))).toBe(true);
      expect(files.length).toBeGreaterThan(2);
      for (const f of files) {
        for (const secret of [NAME, WISH, NOTES, PREFS, email, 'Probe Parentsen', 'socks']) {
          expect(f.bytes.includes(Buffer.from(secret, 'utf8')), `${secret} in ${f.path}`).toBe(false);
          expect(f.bytes.includes(Buffer.from(secret, 'utf16le')), `${secret} (utf16) in ${f.path}`).toBe(false);
        }
        // The stored photo is sealed: neither the served bytes nor a PNG signature appear.
        expect(f.bytes.includes(served.bytes.subarray(0, 64)), `photo bytes in ${f.path}`).toBe(false);
        expect(
          f.bytes.includes(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
          `PNG signature in ${f.path}`,
        ).toBe(false);
      }
    };
    check();
    server = await server.restart();
    track(server);
    await server.stop();
    check();
  });

  it('P6: children are 3 to 12 years old; ages 3 and 12 are accepted, 2 and 13 refused on create and on update', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    for (const age of [3, 12])
      expect((await server.api.post('/api/profiles', aChild({ age }), token)).status).toBe(201);
    const id = (await server.api.get('/api/profiles', token)).body.profiles[0].id as string;
    const before = await snapshot(server, accountId);
    for (const age of [2, 13, 0, -1, 99]) {
      const c = await server.api.post('/api/profiles', aChild({ age }), token);
      expect(c.status).toBe(400);
      expect(c.body.error.fields).toHaveProperty('age');
      const p = await server.api.patch(`/api/profiles/${id}`, { age }, token);
      expect(p.status).toBe(400);
      expect(p.body.error.fields).toHaveProperty('age');
    }
    expect(await snapshot(server, accountId)).toEqual(before);
  });

  it('P7: there are no address, school, phone or location fields; sending one is refused with 400 and stores nothing', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const id = (await server.api.post('/api/profiles', aChild(), token)).body.id as string;
    const before = await snapshot(server, accountId);
    for (const field of ['address', 'school', 'phone', 'location', 'city', 'email', 'birthday', 'accountId']) {
      const c = await server.api.post('/api/profiles', aChild({ [field]: 'x' }), token);
      expect(c.status, field).toBe(400);
      expect(c.body.error).toMatchObject({ code: 'invalid_request', fields: { [field]: 'Unknown field' } });
      const p = await server.api.patch(`/api/profiles/${id}`, { [field]: 'x' }, token);
      expect(p.status, field).toBe(400);
      expect(p.body.error.fields).toMatchObject({ [field]: 'Unknown field' });
    }
    expect(await snapshot(server, accountId)).toEqual(before);
    expect(Object.keys((await server.api.get(`/api/profiles/${id}`, token)).body).sort()).toEqual(
      // timeZone is a setting of the parent's controls (an IANA zone such as Europe/Copenhagen), not an address.
      [
        'age',
        'behaviorNotes',
        'dailyMinutes',
        'id',
        'language',
        'name',
        'photoId',
        'preferences',
        'quietHours',
        'timeZone',
        'wishList',
      ],
    );
  });

  it('bad input is refused with the documented error and leaves the store unchanged', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const id = (await server.api.post('/api/profiles', aChild(), token)).body.id as string;
    const long = (n: number) => 'x'.repeat(n);
    const { name: _n, ...noName } = aChild();
    const { age: _a, ...noAge } = aChild();
    const { language: _l, ...noLanguage } = aChild();

    type Case = {
      what: string;
      method?: 'POST' | 'PATCH';
      body?: unknown;
      raw?: string | Buffer;
      contentType?: string;
      status: number;
      code: string;
      field?: string;
    };
    const cases: Case[] = [
      { what: 'missing name', body: noName, status: 400, code: 'invalid_request', field: 'name' },
      { what: 'missing age', body: noAge, status: 400, code: 'invalid_request', field: 'age' },
      { what: 'missing language', body: noLanguage, status: 400, code: 'invalid_request', field: 'language' },
      {
        what: 'extra field',
        body: aChild({ favouriteColour: 'red' }),
        status: 400,
        code: 'invalid_request',
        field: 'favouriteColour',
      },
      { what: 'name too long', body: aChild({ name: long(41) }), status: 400, code: 'invalid_request', field: 'name' },
      {
        what: 'name of control characters only',
        body: aChild({ name: '\u0000\u0007\u202E' }),
        status: 400,
        code: 'invalid_request',
        field: 'name',
      },
      { what: 'age 2', body: aChild({ age: 2 }), status: 400, code: 'invalid_request', field: 'age' },
      { what: 'age 13', body: aChild({ age: 13 }), status: 400, code: 'invalid_request', field: 'age' },
      { what: 'age as a string', body: aChild({ age: '7' }), status: 400, code: 'invalid_request', field: 'age' },
      { what: 'age not an integer', body: aChild({ age: 7.5 }), status: 400, code: 'invalid_request', field: 'age' },
      { what: 'name a number', body: aChild({ name: 42 }), status: 400, code: 'invalid_request', field: 'name' },
      {
        what: 'wish list not a list',
        body: aChild({ wishList: 'a bike' }),
        status: 400,
        code: 'invalid_request',
        field: 'wishList',
      },
      {
        what: 'wish list too long',
        body: aChild({ wishList: Array.from({ length: 21 }, (_, i) => `wish ${i}`) }),
        status: 400,
        code: 'invalid_request',
        field: 'wishList',
      },
      {
        what: 'wish too long',
        body: aChild({ wishList: [long(81)] }),
        status: 400,
        code: 'invalid_request',
        field: 'wishList.0',
      },
      {
        what: 'behaviour notes too long',
        body: aChild({ behaviorNotes: long(501) }),
        status: 400,
        code: 'invalid_request',
        field: 'behaviorNotes',
      },
      {
        what: 'preferences too long',
        body: aChild({ preferences: long(501) }),
        status: 400,
        code: 'invalid_request',
        field: 'preferences',
      },
      {
        what: 'unknown language',
        body: aChild({ language: 'de' }),
        status: 400,
        code: 'invalid_request',
        field: 'language',
      },
      {
        what: 'bad quiet hours',
        body: aChild({ quietHours: { from: '25:00', to: '07:00' } }),
        status: 400,
        code: 'invalid_request',
        field: 'quietHours.from',
      },
      {
        what: 'daily minutes 0',
        body: aChild({ dailyMinutes: 0 }),
        status: 400,
        code: 'invalid_request',
        field: 'dailyMinutes',
      },
      {
        what: 'unknown photo id',
        body: aChild({ photoId: randomUUID() }),
        status: 400,
        code: 'invalid_request',
        field: 'photoId',
      },
      {
        what: 'a photo id that is a path',
        body: aChild({ photoId: '../../data.key' }),
        status: 400,
        code: 'invalid_request',
        field: 'photoId',
      },
      { what: 'a body that is a list', body: [aChild()], status: 400, code: 'invalid_request' },
      {
        what: 'broken JSON',
        raw: '{"name": "Ann", "age": ',
        contentType: 'application/json',
        status: 400,
        code: 'invalid_json',
      },
      {
        what: 'wrong content type',
        raw: 'name=Ann&age=7',
        contentType: 'application/x-www-form-urlencoded',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'oversized body',
        raw: JSON.stringify(aChild({ behaviorNotes: long(70_000) })),
        contentType: 'application/json',
        status: 413,
        code: 'payload_too_large',
      },
      { what: 'patch: empty', method: 'PATCH', body: {}, status: 400, code: 'invalid_request' },
      { what: 'patch: no body', method: 'PATCH', status: 400, code: 'invalid_request' },
      {
        what: 'patch: extra field',
        method: 'PATCH',
        body: { school: 'Elm Street' },
        status: 400,
        code: 'invalid_request',
        field: 'school',
      },
      { what: 'patch: age 13', method: 'PATCH', body: { age: 13 }, status: 400, code: 'invalid_request', field: 'age' },
      {
        what: 'patch: wish list too long',
        method: 'PATCH',
        body: { wishList: Array.from({ length: 21 }, () => 'w') },
        status: 400,
        code: 'invalid_request',
        field: 'wishList',
      },
      {
        what: 'patch: name null',
        method: 'PATCH',
        body: { name: null },
        status: 400,
        code: 'invalid_request',
        field: 'name',
      },
      {
        what: 'patch: unknown photo',
        method: 'PATCH',
        body: { photoId: randomUUID() },
        status: 400,
        code: 'invalid_request',
        field: 'photoId',
      },
      {
        what: 'patch: broken JSON',
        method: 'PATCH',
        raw: '{"age":',
        contentType: 'application/json',
        status: 400,
        code: 'invalid_json',
      },
      {
        what: 'patch: wrong content type',
        method: 'PATCH',
        raw: 'age=9',
        contentType: 'text/plain',
        status: 415,
        code: 'unsupported_media_type',
      },
    ];

    const before = await snapshot(server, accountId);
    for (const c of cases) {
      const method = c.method ?? 'POST';
      const path = method === 'POST' ? '/api/profiles' : `/api/profiles/${id}`;
      const res = await server.api.request(method, path, {
        token,
        ...(c.raw !== undefined
          ? { raw: c.raw, headers: { 'content-type': c.contentType ?? 'application/json' } }
          : c.body !== undefined
            ? { body: c.body }
            : {}),
      });
      expect(res.status, c.what).toBe(c.status);
      expect(res.body.error.code, c.what).toBe(c.code);
      expect(typeof res.body.error.message, c.what).toBe('string');
      if (c.field) expect(Object.keys(res.body.error.fields ?? {}), c.what).toContain(c.field);
    }
    expect(await snapshot(server, accountId)).toEqual(before);
  });

  it('text fields are stored with control characters stripped and whitespace tidied', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const res = await server.api.post(
      '/api/profiles',
      aChild({
        name: '  Li\u0000ly\u202E\u200B ',
        wishList: ['a\u0007 kite\n'],
        behaviorNotes: 'line one\r\nline\u0000 two\n\n\n\nend',
      }),
      token,
    );
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Li ly');
    expect(res.body.wishList).toEqual(['a kite']);
    expect(res.body.behaviorNotes).toBe('line one\nline two\n\nend');
  });

  it("another parent's profile ids answer 404 exactly like a missing id, on every profile and photo route, and change nothing", async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const aPhoto = await uploadPhoto(server.api, a.token);
    const aProfile = (await server.api.post('/api/profiles', aChild({ photoId: aPhoto }), a.token)).body.id as string;
    const aTempPhoto = await uploadPhoto(server.api, a.token);
    const bProfile = (await server.api.post('/api/profiles', aChild({ name: 'Bea' }), b.token)).body.id as string;
    const aPhotoBytes = (await getPhoto(server, a.token, aProfile)).bytes;
    const aBefore = await snapshot(server, a.accountId);
    const bBefore = await snapshot(server, b.accountId);
    const missing = randomUUID();

    const routes: { method: string; path: (id: string) => string; body?: unknown }[] = [
      { method: 'GET', path: (id) => `/api/profiles/${id}` },
      { method: 'PATCH', path: (id) => `/api/profiles/${id}`, body: { name: 'Hijacked', age: 9 } },
      { method: 'PATCH', path: (id) => `/api/profiles/${id}`, body: { photoId: null } },
      { method: 'PATCH', path: (id) => `/api/profiles/${id}`, body: { age: 99 } },
      { method: 'DELETE', path: (id) => `/api/profiles/${id}` },
      { method: 'GET', path: (id) => `/api/profiles/${id}/photo` },
    ];
    for (const r of routes) {
      const foreign = await server.api.request(r.method, r.path(aProfile), { token: b.token, body: r.body });
      const absent = await server.api.request(r.method, r.path(missing), { token: b.token, body: r.body });
      expect(foreign.status, `${r.method} ${r.path('id')}`).toBe(404);
      expect(foreign.body, `${r.method} ${r.path('id')}`).toEqual(absent.body);
      expect(foreign.body.error.code).toBe('not_found');
    }

    // A's uploads cannot be saved to B's profiles: the same answer as for an unknown photo.
    for (const photoId of [aPhoto, aTempPhoto]) {
      const created = await server.api.post('/api/profiles', aChild({ photoId }), b.token);
      const patched = await server.api.patch(`/api/profiles/${bProfile}`, { photoId }, b.token);
      const unknown = await server.api.patch(`/api/profiles/${bProfile}`, { photoId: missing }, b.token);
      expect(created.status).toBe(400);
      expect(created.body.error.fields).toHaveProperty('photoId');
      expect(patched.status).toBe(400);
      expect(patched.body).toEqual(unknown.body);
    }
    expect((await server.api.get('/api/profiles', b.token)).body.profiles.map((p: { id: string }) => p.id)).toEqual([
      bProfile,
    ]);

    expect(await snapshot(server, a.accountId)).toEqual(aBefore);
    expect(await snapshot(server, b.accountId)).toEqual(bBefore);
    const aAfter = await getPhoto(server, a.token, aProfile);
    expect(aAfter.status).toBe(200);
    expect(aAfter.bytes.equals(aPhotoBytes)).toBe(true);
    expect((await server.api.get(`/api/profiles/${aProfile}`, a.token)).body.name).toBe(NAME);
  });

  it('P9: a deleted profile is gone at once, its photo file leaves the disk, and past calls keep only an anonymous reference', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const photoId = await uploadPhoto(server.api, token);
    const id = (await server.api.post('/api/profiles', aChild({ photoId }), token)).body.id as string;
    const other = (await server.api.post('/api/profiles', aChild({ name: 'Sibling' }), token)).body.id as string;
    const now = server.clock.now();
    const calls = [
      callRow(accountId, id, now - 86_400_000),
      callRow(accountId, id, now - 3_600_000),
      callRow(accountId, other, now - 60_000),
    ];
    for (const c of calls) await server.app.store.calls.insert(c);
    expect(await photoStored(server, photoId)).toBe(true);

    const res = await server.api.delete(`/api/profiles/${id}`, undefined, token);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');

    expect((await server.api.get(`/api/profiles/${id}`, token)).status).toBe(404);
    expect((await getPhoto(server, token, id)).status).toBe(404);
    expect((await server.api.delete(`/api/profiles/${id}`, undefined, token)).status).toBe(404);
    expect(await server.app.store.profiles.get(id)).toBeUndefined();
    expect(await server.app.store.photos.get(photoId)).toBeUndefined();
    expect(await photoStored(server, photoId)).toBe(false);

    const after = await Promise.all(calls.map((c) => server.app.store.calls.get(c.id)));
    expect(after.map((c) => c?.profileId)).toEqual([null, null, other]);
    // The usage data itself stays (P13 keeps it 2 years), only the link to the child goes.
    expect(after.map((c) => c?.meteredSeconds)).toEqual([120, 120, 120]);

    const audit = (await server.app.services.audit.forSubject(accountId)).filter((e) => e.action === 'profile.deleted');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toEqual({ profileId: id });
    expect(JSON.stringify(audit[0])).not.toContain(NAME);
    expect((await server.app.services.audit.verifyChain()).ok).toBe(true);

    // The sibling is untouched.
    expect((await server.api.get(`/api/profiles/${other}`, token)).status).toBe(200);
  });

  it('lowdb P9: a deleted profile leaves the files at once: no shard and no journal record holds its name', async () => {
    const server = await start({ store: 'lowdb' });
    const { token } = await signUpParent(server.api);
    const id = (await server.api.post('/api/profiles', aChild(), token)).body.id as string;
    expect((await server.api.post('/api/profiles', aChild({ name: 'Sibling' }), token)).status).toBe(201);
    await server.app.store.flush();
    expect([...decryptDataDir(server.dataDir)].some(([, plain]) => plain.includes(NAME))).toBe(true);

    expect((await server.api.delete(`/api/profiles/${id}`, undefined, token)).status).toBe(204);
    // With the server still running, while the sibling's name is still there to be found.
    const files = [...decryptDataDir(server.dataDir)];
    expect(files.filter(([, plain]) => plain.includes(NAME)).map(([f]) => f)).toEqual([]);
    expect(files.some(([, plain]) => plain.includes('Sibling'))).toBe(true);
  });

  it('replacing or removing a profile photo deletes the old file at once', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const first = await uploadPhoto(server.api, token);
    const id = (await server.api.post('/api/profiles', aChild({ photoId: first }), token)).body.id as string;

    const second = (await upload(server.api, token, await pngWithGps(80, 80), 'image/png')).body.photoId as string;
    const replaced = await server.api.patch(`/api/profiles/${id}`, { photoId: second }, token);
    expect(replaced.status).toBe(200);
    expect(replaced.body.photoId).toBe(second);
    expect(await photoStored(server, first)).toBe(false);
    expect(await server.app.store.photos.get(first)).toBeUndefined();
    expect(await server.app.store.photos.get(second)).toMatchObject({ profileId: id, expiresAt: null });
    expect((await sharp((await getPhoto(server, token, id)).bytes).metadata()).width).toBe(80);

    // Saving the same photo again changes nothing.
    expect((await server.api.patch(`/api/profiles/${id}`, { photoId: second }, token)).status).toBe(200);
    expect(await photoStored(server, second)).toBe(true);

    // One upload cannot be shared by two profiles (deleting one would take the other's photo).
    const sibling = await server.api.post('/api/profiles', aChild({ name: 'Sib', photoId: second }), token);
    expect(sibling.status).toBe(400);
    expect(sibling.body.error.fields).toHaveProperty('photoId');

    const removed = await server.api.patch(`/api/profiles/${id}`, { photoId: null }, token);
    expect(removed.status).toBe(200);
    expect(removed.body.photoId).toBeNull();
    expect(await photoStored(server, second)).toBe(false);
    expect((await getPhoto(server, token, id)).status).toBe(404);
  });

  it('an account keeps at most 12 child profiles; the 13th is refused with 409 and not stored', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) => server.api.post('/api/profiles', aChild({ name: `Child ${i}` }), token)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(12);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual([
      [409, 'conflict'],
      [409, 'conflict'],
    ]);
    expect((await snapshot(server, accountId)).profiles).toHaveLength(12);
  });

  it('profile routes need a signed-in parent (401)', async () => {
    const server = await start();
    for (const [method, path] of [
      ['GET', '/api/profiles'],
      ['POST', '/api/profiles'],
      ['GET', `/api/profiles/${randomUUID()}`],
      ['PATCH', `/api/profiles/${randomUUID()}`],
      ['DELETE', `/api/profiles/${randomUUID()}`],
      ['GET', `/api/profiles/${randomUUID()}/photo`],
    ] as const) {
      const res = await server.api.request(method, path, {
        body: method === 'POST' || method === 'PATCH' ? aChild() : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('deleteAllForAccount removes every profile and photo of the account and no other', async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const aSaved = await uploadPhoto(server.api, a.token);
    const aTemp = await uploadPhoto(server.api, a.token);
    await server.api.post('/api/profiles', aChild({ photoId: aSaved }), a.token);
    await server.api.post('/api/profiles', aChild({ name: 'Two' }), a.token);
    const bPhoto = await uploadPhoto(server.api, b.token);
    await server.api.post('/api/profiles', aChild({ photoId: bPhoto }), b.token);
    const bBefore = await snapshot(server, b.accountId);

    expect(await server.app.services.profiles.deleteAllForAccount(a.accountId)).toBe(2);
    const aAfter = await snapshot(server, a.accountId);
    expect(aAfter.profiles).toEqual([]);
    expect(aAfter.photos).toEqual([]);
    expect(await photoStored(server, aSaved)).toBe(false);
    expect(await photoStored(server, aTemp)).toBe(false);
    const bAfter = await snapshot(server, b.accountId);
    expect({ profiles: bAfter.profiles, photos: bAfter.photos }).toEqual({
      profiles: bBefore.profiles,
      photos: bBefore.photos,
    });
    expect(bAfter.files).toEqual([bPhoto]);
  });
});

describe('the profile shape round-trips (DESIGN §8: the same shape for create/patch body and response)', () => {
  it('a profile read with GET or the list can be sent back whole with PATCH: its own id is accepted and ignored, and null photoId, dailyMinutes and quietHours are fine', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    // One profile with every nullable field null, one with all of them set (a saved photo too).
    const plain = (
      await server.api.post(
        '/api/profiles',
        aChild({ name: '  Li\u0000ly ', behaviorNotes: 'line one\r\nline two' }),
        token,
      )
    ).body;
    expect(plain).toMatchObject({ name: 'Li ly', photoId: null, dailyMinutes: null, quietHours: null });
    const photoId = await uploadPhoto(server.api, token);
    const full = (
      await server.api.post(
        '/api/profiles',
        aChild({ name: 'Bo', photoId, dailyMinutes: 15, quietHours: { from: '19:00', to: '07:00' } }),
        token,
      )
    ).body;
    const photoBytes = (await getPhoto(server, token, full.id)).bytes;

    // Sent back unchanged: 200 with the same profile, nothing else changes.
    for (const read of [
      (await server.api.get(`/api/profiles/${plain.id}`, token)).body,
      (await server.api.get('/api/profiles', token)).body.profiles[1],
    ]) {
      const res = await server.api.patch(`/api/profiles/${read.id}`, read, token);
      expect(res.status, read.name).toBe(200);
      expect(res.body).toEqual(read);
    }
    const before = await snapshot(server, accountId);
    expect((await server.api.patch(`/api/profiles/${full.id}`, full, token)).body).toEqual(full);
    const after = await snapshot(server, accountId);
    // Only the update time moved: the saved photo is still saved, the same file, not expiring.
    expect(after.photos).toEqual(before.photos);
    expect(after.files).toEqual(before.files);
    expect(after.profiles.map(({ updatedAt: _u, ...p }) => p)).toEqual(
      before.profiles.map(({ updatedAt: _u, ...p }) => p),
    );
    expect((await getPhoto(server, token, full.id)).bytes.equals(photoBytes)).toBe(true);

    // Read, edit one field, send the whole thing back.
    const edited = { ...full, age: 8, wishList: ['a sled'], photoId: null, dailyMinutes: null, quietHours: null };
    const res = await server.api.patch(`/api/profiles/${full.id}`, edited, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(edited);
    expect((await server.api.get(`/api/profiles/${full.id}`, token)).body).toEqual(edited);
    // photoId null removed the photo, file and row, at once.
    expect(await photoStored(server, photoId)).toBe(false);
    expect(await server.app.store.photos.get(photoId)).toBeUndefined();

    // The id alone changes nothing and is refused like {}.
    const onlyId = await server.api.patch(`/api/profiles/${full.id}`, { id: full.id }, token);
    expect(onlyId.status).toBe(400);
    expect(onlyId.body.error).toMatchObject({ code: 'invalid_request', message: 'Nothing to change' });
  });

  it("PATCH with an id that is not the path id is refused with 400 fields.id and changes nothing, also when it is another parent's profile id", async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const aProfile = (await server.api.post('/api/profiles', aChild({ name: 'Ada' }), a.token)).body;
    const bProfile = (await server.api.post('/api/profiles', aChild({ name: 'Bea' }), b.token)).body;
    const bSecond = (await server.api.post('/api/profiles', aChild({ name: 'Bob' }), b.token)).body;
    const aBefore = await snapshot(server, a.accountId);
    const bBefore = await snapshot(server, b.accountId);

    // B's own profile in the path, some other id in the body: A's, B's other child, a made-up one.
    for (const id of [aProfile.id, bSecond.id, randomUUID()]) {
      const res = await server.api.patch(`/api/profiles/${bProfile.id}`, { ...bProfile, id, name: 'Renamed' }, b.token);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.fields).toEqual({ id: 'Does not match the profile in the path' });
    }
    for (const id of [42, null, '', 'x'.repeat(65)]) {
      const res = await server.api.patch(`/api/profiles/${bProfile.id}`, { id, name: 'Renamed' }, b.token);
      expect(res.status, JSON.stringify(id)).toBe(400);
      expect(res.body.error.fields).toHaveProperty('id');
    }
    // A's profile in the path with A's own id in the body, on B's token: 404 like a missing profile.
    const foreign = await server.api.patch(`/api/profiles/${aProfile.id}`, { ...aProfile, name: 'Hijacked' }, b.token);
    const missingId = randomUUID();
    const absent = await server.api.patch(
      `/api/profiles/${missingId}`,
      { ...aProfile, id: missingId, name: 'Hijacked' },
      b.token,
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(absent.body);

    expect(await snapshot(server, a.accountId)).toEqual(aBefore);
    expect(await snapshot(server, b.accountId)).toEqual(bBefore);
  });

  it('POST refuses a client-chosen id with 400 fields.id saying ids are assigned by the server, and stores nothing', async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const aProfile = (await server.api.post('/api/profiles', aChild({ name: 'Ada' }), a.token)).body;
    const aBefore = await snapshot(server, a.accountId);
    const bBefore = await snapshot(server, b.accountId);
    // A made-up id, and a copy of another parent's profile (its id included).
    for (const body of [aChild({ id: randomUUID() }), aProfile, aChild({ id: null })]) {
      const res = await server.api.post('/api/profiles', body, b.token);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.fields.id).toMatch(/assigned by the server/);
    }
    expect(await snapshot(server, a.accountId)).toEqual(aBefore);
    expect(await snapshot(server, b.accountId)).toEqual(bBefore);
    expect(await server.app.store.profiles.get(aProfile.id)).toMatchObject({ accountId: a.accountId, name: 'Ada' });
    // Without the id, the same body creates a new profile under a new id.
    const { id: _id, ...copy } = aProfile;
    const created = await server.api.post('/api/profiles', copy, b.token);
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe(aProfile.id);
  });
});
