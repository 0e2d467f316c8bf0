import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { HOUR_MS, MINUTE_MS } from '../../shared/units.js';
import { signUpParent, testServers } from '../../test/support/server.js';
import { sniffImage } from './service.js';
import {
  EXIF_MARKER,
  getPhoto,
  jpegWithGps,
  noisePng,
  photoStored,
  pngWithGps,
  snapshot,
  upload,
  uploadPhoto,
  webp,
} from './test-fixtures.js';

const { start } = testServers();

const child = (photoId: string | null) => ({ name: 'Mira', age: 6, language: 'en', photoId });

describe('photo uploads', () => {
  it('decodes only a few images at once server-wide: a burst from many accounts beyond the queue is refused 503 with Retry-After, and stores nothing', async () => {
    const server = await start();
    // Free accounts multiply per-account limits; the decoder's limit is the server's own.
    const parents = await Promise.all(Array.from({ length: 14 }, () => signUpParent(server.api)));
    const big = await sharp({
      create: { width: 5000, height: 5000, channels: 3, background: { r: 10, g: 120, b: 40 } },
    })
      .png()
      .toBuffer();
    const results = await Promise.all(parents.map((p) => upload(server.api, p.token, big, 'image/png')));
    const statuses = results.map((r) => r.status).sort();
    // Two decode, four wait their turn; the rest are told at once to come back (a slot freed
    // before the last requests arrive may admit a few more, never all).
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(6);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(4);
    for (const r of results.filter((x) => x.status === 503)) {
      expect(r.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(await server.app.store.photos.count()).toBe(statuses.filter((s) => s === 201).length);
    // Once the burst is over, uploads are decoded again.
    expect((await upload(server.api, parents[0]!.token, await pngWithGps(), 'image/png')).status).toBe(201);
  }, 60_000);

  it('an upload answers 201 with a temporary id that expires in 24 hours', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const res = await upload(server.api, token, await pngWithGps(), 'image/png');
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'id', 'photoId']);
    // `id` and `photoId` name the same upload, so a client may read either.
    expect(res.body.id).toBe(res.body.photoId);
    expect(res.body.expiresAt).toBe(new Date(server.clock.now() + 24 * HOUR_MS).toISOString());
    const row = await server.app.store.photos.get(res.body.photoId);
    expect(row).toMatchObject({
      accountId,
      profileId: null,
      mime: 'image/png',
      expiresAt: server.clock.now() + 24 * HOUR_MS,
    });
    expect(await photoStored(server, res.body.photoId)).toBe(true);
  });

  it('stored photos keep no EXIF or GPS: JPEG, PNG and WebP are re-encoded and served without metadata', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const inputs: [string, Buffer, string][] = [
      ['image/jpeg', await jpegWithGps(), 'jpeg'],
      ['image/png', await pngWithGps(), 'png'],
      ['image/webp', await webp(), 'webp'],
    ];
    // The test images really carry the metadata the server must remove.
    expect((await sharp(inputs[0]![1]).metadata()).exif).toBeDefined();
    expect((await sharp(inputs[1]![1]).metadata()).exif).toBeDefined();
    expect(inputs[0]![1].includes(EXIF_MARKER)).toBe(true);

    for (const [mime, bytes, format] of inputs) {
      const up = await upload(server.api, token, bytes, mime);
      expect(up.status, mime).toBe(201);
      const profile = await server.api.post('/api/profiles', child(up.body.photoId), token);
      expect(profile.status).toBe(201);
      const served = await getPhoto(server, token, profile.body.id);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe(mime);
      expect(served.headers.get('cache-control')).toBe('no-store');
      expect(served.headers.get('x-content-type-options')).toBe('nosniff');
      const meta = await sharp(served.bytes).metadata();
      expect(meta.format).toBe(format);
      expect(meta.exif, mime).toBeUndefined();
      expect(meta.xmp, mime).toBeUndefined();
      expect(meta.icc, mime).toBeUndefined();
      expect(served.bytes.includes(EXIF_MARKER), mime).toBe(false);
      expect(served.bytes.includes('Exif'), mime).toBe(false);
    }
  });

  it('a large photo near the 2 MB limit is accepted and stored bounded to 1024 pixels', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const big = await noisePng(1500, 440);
    expect(big.length).toBeGreaterThan(1_900_000);
    expect(big.length).toBeLessThanOrEqual(2 * 1024 * 1024);
    const up = await upload(server.api, token, big, 'image/png');
    expect(up.status).toBe(201);
    const profile = await server.api.post('/api/profiles', child(up.body.photoId), token);
    const meta = await sharp((await getPhoto(server, token, profile.body.id)).bytes).metadata();
    expect(meta.width).toBe(1024);
    expect(meta.height).toBe(Math.round((440 * 1024) / 1500));
  });

  it('bad uploads are refused with the documented error and leave the store unchanged', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const png = await pngWithGps();
    const jpeg = await jpegWithGps();
    const cases: { what: string; body: Buffer | string; contentType: string; status: number; code: string }[] = [
      {
        what: 'wrong content type (text/plain)',
        body: png,
        contentType: 'text/plain',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'JSON instead of an image',
        body: '{"photo":"x"}',
        contentType: 'application/json',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'an image type not accepted (gif)',
        body: 'GIF89a....',
        contentType: 'image/gif',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'oversized (2 MB + 1 byte)',
        body: Buffer.concat([jpeg, randomBytes(2 * 1024 * 1024 + 1 - jpeg.length)]),
        contentType: 'image/jpeg',
        status: 413,
        code: 'payload_too_large',
      },
      {
        what: 'a PNG with EXIF GPS labelled image/jpeg',
        body: png,
        contentType: 'image/jpeg',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a JPEG labelled image/webp',
        body: jpeg,
        contentType: 'image/webp',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a text file labelled image/png',
        body: 'Dear Santa, I would like a pony.\n',
        contentType: 'image/png',
        status: 400,
        code: 'unsupported_image',
      },
      {
        what: 'an SVG labelled image/png',
        body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        contentType: 'image/png',
        status: 400,
        code: 'unsupported_image',
      },
      {
        what: 'a truncated PNG',
        body: png.subarray(0, 40),
        contentType: 'image/png',
        status: 400,
        code: 'unsupported_image',
      },
      {
        what: 'PNG magic followed by garbage',
        body: Buffer.concat([png.subarray(0, 8), randomBytes(500)]),
        contentType: 'image/png',
        status: 400,
        code: 'unsupported_image',
      },
      { what: 'an empty body', body: '', contentType: 'image/png', status: 400, code: 'invalid_request' },
    ];
    const before = await snapshot(server, accountId);
    for (const c of cases) {
      const res = await upload(server.api, token, c.body, c.contentType);
      expect(res.status, c.what).toBe(c.status);
      expect(res.body.error?.code, c.what).toBe(c.code);
      expect(typeof res.body.error.message).toBe('string');
    }
    expect(await snapshot(server, accountId)).toEqual(before);
    expect(before.photos).toEqual([]);

    const noAuth = await server.api.request('POST', '/api/photos', {
      raw: png,
      headers: { 'content-type': 'image/png' },
    });
    expect(noAuth.status).toBe(401);
    expect(noAuth.body.error.code).toBe('unauthorized');
    expect(await snapshot(server, accountId)).toEqual(before);

    // A gzip-compressed body could expand past the limit once inflated; it is not read at all.
    const gz = await server.api.request('POST', '/api/photos', {
      token,
      raw: png,
      headers: { 'content-type': 'image/png', 'content-encoding': 'gzip' },
    });
    expect(gz.status).toBe(415);
    expect(await snapshot(server, accountId)).toEqual(before);
  });

  it('the real type comes from the bytes: magic numbers are recognised and a label never decides', () => {
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe('image/jpeg');
    expect(sniffImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('image/png');
    expect(sniffImage(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1'))).toBe('image/webp');
    expect(sniffImage(Buffer.from('RIFF\x00\x00\x00\x00WAVEfmt ', 'latin1'))).toBeNull();
    expect(sniffImage(Buffer.from('GIF89a'))).toBeNull();
    expect(sniffImage(Buffer.from('\x89PN'))).toBeNull();
    expect(sniffImage(Buffer.alloc(0))).toBeNull();
  });

  it('P14: an unsaved upload is deleted by the sweep after 24 hours; a photo saved to a profile stays', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const photos = server.app.services.photos;
    const temp = await uploadPhoto(server.api, token);
    const saved = await uploadPhoto(server.api, token);
    const profile = (await server.api.post('/api/profiles', child(saved), token)).body.id as string;

    server.clock.advance(24 * HOUR_MS - MINUTE_MS);
    expect(await photos.sweepExpired(server.clock.now())).toBe(0);
    expect(await photoStored(server, temp)).toBe(true);

    server.clock.advance(MINUTE_MS);
    // Once expired, an upload can no longer be saved, even before the sweep has run.
    const late = await server.api.post('/api/profiles', child(temp), token);
    expect(late.status).toBe(400);
    expect(late.body.error.fields).toHaveProperty('photoId');

    // The scheduler's own sweep may have run on the clock's advance already: either way it is gone.
    const swept = await photos.sweepExpired(server.clock.now());
    expect(swept).toBeLessThanOrEqual(1);
    expect(await server.app.store.photos.get(temp)).toBeUndefined();
    expect(await photoStored(server, temp)).toBe(false);
    expect(await server.app.store.photos.get(saved)).toMatchObject({ profileId: profile, expiresAt: null });
    expect(await photoStored(server, saved)).toBe(true);
    expect((await getPhoto(server, token, profile)).status).toBe(200);

    // Weeks later (still inside the sign-in session) the saved photo is still there.
    server.clock.advance(20 * 24 * HOUR_MS);
    expect(await photos.sweepExpired(server.clock.now())).toBe(0);
    expect((await getPhoto(server, token, profile)).status).toBe(200);
  });

  it('the sweep also deletes a photo file that no row accounts for', async () => {
    const server = await start();
    // The start-up sweep runs in the background and deletes stray files too: not this one.
    await server.app.services.retention.idle();
    const stray = randomUUID();
    await server.app.store.photoFiles.put(stray, Buffer.from('left behind by a crash'));
    expect(await server.app.services.photos.sweepExpired(server.clock.now())).toBe(1);
    expect(await photoStored(server, stray)).toBe(false);
  });

  it('uploads are rate-limited per account with 429 and Retry-After; other parents are not affected', async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const png = await pngWithGps(8, 8);
    for (let i = 0; i < 30; i++) expect((await upload(server.api, a.token, png, 'image/png')).status).toBe(201);
    const before = await snapshot(server, a.accountId);
    const limited = await upload(server.api, a.token, png, 'image/png');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await snapshot(server, a.accountId)).toEqual(before);

    expect((await upload(server.api, b.token, png, 'image/png')).status).toBe(201);
    server.clock.advance(retryAfter * 1000);
    expect((await upload(server.api, a.token, png, 'image/png')).status).toBe(201);
  });

  it("another parent's photo cannot be seen or saved: the profile photo route answers 404 and the upload stays untouched", async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const aTemp = await uploadPhoto(server.api, a.token);
    const aSaved = await uploadPhoto(server.api, a.token);
    const aProfile = (await server.api.post('/api/profiles', child(aSaved), a.token)).body.id as string;
    const bProfile = (await server.api.post('/api/profiles', child(null), b.token)).body.id as string;
    const aBefore = await snapshot(server, a.accountId);
    const bBefore = await snapshot(server, b.accountId);

    const foreign = await getPhoto(server, b.token, aProfile);
    const absent = await getPhoto(server, b.token, randomUUID());
    const noPhoto = await getPhoto(server, b.token, bProfile);
    expect([foreign.status, absent.status, noPhoto.status]).toEqual([404, 404, 404]);
    expect(JSON.parse(foreign.bytes.toString())).toEqual(JSON.parse(absent.bytes.toString()));

    for (const photoId of [aTemp, aSaved]) {
      const patched = await server.api.patch(`/api/profiles/${bProfile}`, { photoId }, b.token);
      expect(patched.status).toBe(400);
      expect(patched.body.error.fields).toHaveProperty('photoId');
      const created = await server.api.post('/api/profiles', child(photoId), b.token);
      expect(created.status).toBe(400);
    }
    expect(await snapshot(server, a.accountId)).toEqual(aBefore);
    expect(await snapshot(server, b.accountId)).toEqual(bBefore);
    // A can still save the temporary upload.
    expect((await server.api.patch(`/api/profiles/${aProfile}`, { photoId: aTemp }, a.token)).status).toBe(200);
  });
});
