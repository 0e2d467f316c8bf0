import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { HOUR_MS } from '../../shared/units.js';
import { photoUploadResponseSchema } from '../../shared/schemas/profile.js';
import { signUpParent, testServers, type TestServer } from '../../test/support/server.js';
import {
  EXIF_MARKER,
  getPhoto,
  jpegWithGps,
  photoStored,
  pngWithGps,
  readAllFiles,
  snapshot,
  webp,
} from './test-fixtures.js';

const { start } = testServers();

const MAX = 2 * 1024 * 1024;
const BOUNDARY = 'santa-boundary-7c1f';

interface Part {
  name: string;
  filename?: string;
  /** The part's Content-Type; omitted when undefined. */
  type?: string;
  body: Buffer | string;
}

/** A multipart/form-data body written by hand, so every malformed variant can be built too. */
function multipart(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}\r\n`;
    if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function post(
  server: TestServer,
  token: string,
  body: Buffer | string,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
  headers: Record<string, string> = {},
) {
  return server.api.request('POST', '/api/photos', {
    token,
    raw: body,
    headers: { 'content-type': contentType, ...headers },
  });
}

/** As a browser sends it: fetch with a FormData body (the runtime writes the multipart). */
async function postFormData(
  server: TestServer,
  token: string,
  form: FormData,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const res = await fetch(`${server.url}/api/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
}

const child = (photoId: string) => ({ name: 'Mira', age: 6, language: 'en', photoId });

describe('multipart photo uploads (POST /api/photos with multipart/form-data)', () => {
  it('one file part under any field name is stored like a raw upload: 201 { id, photoId, expiresAt }, re-encoded without EXIF, savable to a profile', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const png = await pngWithGps();
    const jpeg = await jpegWithGps();
    const cases: {
      what: string;
      send: () => Promise<{ status: number; body: Record<string, unknown> }>;
      mime: string;
      format: string;
    }[] = [
      {
        what: 'browser FormData, a File labelled image/png, field "photo"',
        send: () => {
          const form = new FormData();
          form.append('photo', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'kid.png');
          return postFormData(server, token, form);
        },
        mime: 'image/png',
        format: 'png',
      },
      {
        what: 'browser FormData with other text inputs beside the file, field "file"',
        send: () => {
          const form = new FormData();
          form.append('caption', 'for Santa');
          form.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'kid.jpg');
          form.append('note', 'ignored');
          return postFormData(server, token, form);
        },
        mime: 'image/jpeg',
        format: 'jpeg',
      },
      {
        what: 'a WebP labelled application/octet-stream (typed by its bytes)',
        send: async () =>
          post(
            server,
            token,
            multipart([{ name: 'upload', filename: 'x.bin', type: 'application/octet-stream', body: await webp() }]),
          ),
        mime: 'image/webp',
        format: 'webp',
      },
      {
        what: 'a PNG part with no Content-Type at all (typed by its bytes)',
        send: () => post(server, token, multipart([{ name: 'image', filename: 'x', body: png }])),
        mime: 'image/png',
        format: 'png',
      },
    ];
    for (const c of cases) {
      const res = await c.send();
      expect(res.status, c.what).toBe(201);
      const body = photoUploadResponseSchema.parse(res.body);
      expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'id', 'photoId']);
      expect(body.id).toBe(body.photoId);
      expect(body.expiresAt).toBe(new Date(server.clock.now() + 24 * HOUR_MS).toISOString());
      expect(await server.app.store.photos.get(body.id), c.what).toMatchObject({
        accountId,
        profileId: null,
        mime: c.mime,
      });
      expect(await photoStored(server, body.id)).toBe(true);

      const profile = await server.api.post('/api/profiles', child(body.id), token);
      expect(profile.status, c.what).toBe(201);
      const served = await getPhoto(server, token, profile.body.id);
      expect(served.headers.get('content-type')).toBe(c.mime);
      const meta = await sharp(served.bytes).metadata();
      expect(meta.format).toBe(c.format);
      expect(meta.exif, c.what).toBeUndefined();
      expect(served.bytes.includes(EXIF_MARKER)).toBe(false);
    }
  });

  it('a file of exactly 2 MiB is accepted; one byte more is 413', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    // A real PNG padded after its IEND chunk: decoders stop at IEND, so it is a valid image of exactly MAX bytes.
    const png = await pngWithGps(16, 16);
    const exact = Buffer.concat([png, Buffer.alloc(MAX - png.length, 0)]);
    expect(exact.length).toBe(MAX);
    const ok = await post(
      server,
      token,
      multipart([{ name: 'photo', filename: 'big.png', type: 'image/png', body: exact }]),
    );
    expect(ok.status).toBe(201);
    const over = await post(
      server,
      token,
      multipart([
        { name: 'photo', filename: 'big.png', type: 'image/png', body: Buffer.concat([exact, Buffer.from([0])]) },
      ]),
    );
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('payload_too_large');
  });

  it('bad multipart uploads are refused with the documented error and leave the store unchanged', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const png = await pngWithGps();
    const jpeg = await jpegWithGps();
    const text = 'Dear Santa, I would like a pony.\n';
    const file = (body: Buffer | string, type?: string, extra: Partial<Part> = {}): Part => ({
      name: 'photo',
      filename: 'p.png',
      type,
      body,
      ...extra,
    });
    const ct = `multipart/form-data; boundary=${BOUNDARY}`;
    const cases: {
      what: string;
      body: Buffer | string;
      contentType?: string;
      headers?: Record<string, string>;
      status: number;
      code: string;
    }[] = [
      {
        what: 'two file parts',
        body: multipart([file(png, 'image/png'), file(jpeg, 'image/jpeg', { name: 'second' })]),
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'two file parts under the same name',
        body: multipart([file(png, 'image/png'), file(png, 'image/png')]),
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'no file part, only text fields',
        body: multipart([{ name: 'caption', body: 'hi' }]),
        status: 400,
        code: 'invalid_request',
      },
      { what: 'no parts at all', body: `--${BOUNDARY}--\r\n`, status: 400, code: 'invalid_request' },
      {
        what: 'an image sent as a field (no filename)',
        body: multipart([{ name: 'photo', type: 'image/png', body: png }]),
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'oversized file (2 MiB + 1 byte)',
        body: multipart([file(Buffer.concat([jpeg, randomBytes(MAX + 1 - jpeg.length)]), 'image/jpeg')]),
        status: 413,
        code: 'payload_too_large',
      },
      {
        what: 'oversized body (a huge text field)',
        body: multipart([{ name: 'pad', body: 'x'.repeat(MAX + 128 * 1024) }, file(png, 'image/png')]),
        status: 413,
        code: 'payload_too_large',
      },
      {
        what: 'a text file labelled text/plain',
        body: multipart([file(text, 'text/plain', { filename: 'wish.txt' })]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a text file with no part type',
        body: multipart([file(text)]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'random bytes labelled application/octet-stream',
        body: multipart([file(randomBytes(300), 'application/octet-stream')]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a PDF labelled application/pdf',
        body: multipart([file('%PDF-1.7\n', 'application/pdf')]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a GIF labelled image/gif',
        body: multipart([file('GIF89a....', 'image/gif')]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'an SVG labelled image/svg+xml',
        body: multipart([file('<svg xmlns="http://www.w3.org/2000/svg"/>', 'image/svg+xml')]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a PNG labelled image/jpeg',
        body: multipart([file(png, 'image/jpeg')]),
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        what: 'a text file labelled image/png (as on the raw path)',
        body: multipart([file(text, 'image/png')]),
        status: 400,
        code: 'unsupported_image',
      },
      {
        what: 'a truncated PNG',
        body: multipart([file(png.subarray(0, 40), 'image/png')]),
        status: 400,
        code: 'unsupported_image',
      },
      { what: 'an empty file', body: multipart([file('', 'image/png')]), status: 400, code: 'invalid_request' },
      {
        what: 'no boundary in the Content-Type',
        body: multipart([file(png, 'image/png')]),
        contentType: 'multipart/form-data',
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'a boundary that is not in the body',
        body: multipart([file(png, 'image/png')], 'other-boundary'),
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'cut off before the closing boundary',
        body: multipart([file(png, 'image/png')]).subarray(0, 300),
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'a part header that never ends',
        body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="p.png"\r\nContent-Type: image/png`,
        status: 400,
        code: 'invalid_request',
      },
      { what: 'an empty body', body: '', status: 400, code: 'invalid_request' },
      {
        what: 'a gzip Content-Encoding',
        body: multipart([file(png, 'image/png')]),
        headers: { 'content-encoding': 'gzip' },
        status: 415,
        code: 'unsupported_media_type',
      },
    ];
    const before = await snapshot(server, accountId);
    for (const c of cases) {
      const res = await post(server, token, c.body, c.contentType ?? ct, c.headers);
      expect(res.status, c.what).toBe(c.status);
      expect(res.body.error?.code, c.what).toBe(c.code);
      expect(typeof res.body.error.message, c.what).toBe('string');
    }
    expect(await snapshot(server, accountId)).toEqual(before);
    expect(before.photos).toEqual([]);

    const noAuth = await server.api.request('POST', '/api/photos', {
      raw: multipart([file(png, 'image/png')]),
      headers: { 'content-type': ct },
    });
    expect(noAuth.status).toBe(401);
    expect(await snapshot(server, accountId)).toEqual(before);
  });

  it('an oversize file is refused with 413 while it is still streaming in: the server answers before the body ends', async () => {
    const server = await start();
    const { token, accountId } = await signUpParent(server.api);
    const before = await snapshot(server, accountId);
    const { port } = new URL(server.url);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Chunked, so no Content-Length tells the server the size up front: it must count.
      const req = httpRequest({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/api/photos',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'transfer-encoding': 'chunked',
        },
      });
      req.on('error', reject);
      req.on('response', (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => {
          req.destroy();
          resolve({ status: r.statusCode ?? 0, body });
        });
      });
      req.write(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="huge.png"\r\nContent-Type: image/png\r\n\r\n`,
      );
      // 3 MiB of file data, and then the request is left open: no closing boundary, no end.
      for (let i = 0; i < 48; i++) req.write(randomBytes(64 * 1024));
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
    expect(await snapshot(server, accountId)).toEqual(before);
  });

  it('a declared Content-Length over the limit is refused with 413 before any byte of the body is read', async () => {
    const server = await start();
    const { token } = await signUpParent(server.api);
    const { port } = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/api/photos',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-length': String(50 * 1024 * 1024),
        },
      });
      req.on('error', reject);
      req.on('response', (r) => {
        r.resume();
        req.destroy();
        resolve(r.statusCode ?? 0);
      });
      req.flushHeaders();
    });
    expect(status).toBe(413);
  });

  // On lowdb, whose files under DATA_DIR are searched; PostgreSQL's bytes at rest are test/store/pg-at-rest.test.ts's.
  it('lowdb: file names, field values and image bytes of a multipart upload reach neither the logs nor any file in the clear', async () => {
    const server = await start({ store: 'lowdb' });
    const { token } = await signUpParent(server.api);
    const png = await pngWithGps();
    const nameMarker = 'Rosalind-Quillfeather-at-the-beach';
    const fieldMarker = 'Elm Street 12, Blitzenholm';
    const ok = await post(
      server,
      token,
      multipart([
        { name: 'address', body: fieldMarker },
        { name: 'photo', filename: `${nameMarker}.png`, type: 'image/png', body: png },
      ]),
    );
    expect(ok.status).toBe(201);
    const refused = await post(
      server,
      token,
      multipart([
        { name: 'address', body: fieldMarker },
        { name: 'photo', filename: `${nameMarker}.txt`, type: 'text/plain', body: fieldMarker },
      ]),
    );
    expect(refused.status).toBe(415);
    await server.app.store.flush();
    const logs = server.logs.join('');
    for (const marker of [nameMarker, fieldMarker, EXIF_MARKER]) expect(logs).not.toContain(marker);
    // The stored photo is encrypted and re-encoded: no file holds the upload's bytes or its names.
    const sample = png.subarray(png.length - 64);
    for (const f of readAllFiles(server.dataDir)) {
      for (const marker of [nameMarker, fieldMarker, EXIF_MARKER])
        expect(f.bytes.includes(marker), `${marker} in ${f.path}`).toBe(false);
      expect(f.bytes.includes(sample), f.path).toBe(false);
    }
  });

  it("a multipart upload belongs to its uploader: another parent cannot save it to a profile or see it, and it counts toward the uploader's rate limit only", async () => {
    const server = await start();
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const png = await pngWithGps(8, 8);
    const aPhoto = (
      await post(server, a.token, multipart([{ name: 'photo', filename: 'a.png', type: 'image/png', body: png }]))
    ).body.id as string;
    const bProfile = (await server.api.post('/api/profiles', { name: 'Bea', age: 5, language: 'en' }, b.token)).body
      .id as string;
    const aBefore = await snapshot(server, a.accountId);
    const bBefore = await snapshot(server, b.accountId);

    const patched = await server.api.patch(`/api/profiles/${bProfile}`, { photoId: aPhoto }, b.token);
    expect(patched.status).toBe(400);
    expect(patched.body.error.fields).toHaveProperty('photoId');
    const created = await server.api.post('/api/profiles', child(aPhoto), b.token);
    expect(created.status).toBe(400);
    expect(await snapshot(server, a.accountId)).toEqual(aBefore);
    expect(await snapshot(server, b.accountId)).toEqual(bBefore);

    // Raw and multipart uploads share one limit per account: 30 per hour.
    for (let i = 1; i < 30; i++)
      expect(
        (
          await server.api.request('POST', '/api/photos', {
            token: a.token,
            raw: png,
            headers: { 'content-type': 'image/png' },
          })
        ).status,
      ).toBe(201);
    const limited = await post(
      server,
      a.token,
      multipart([{ name: 'photo', filename: 'a.png', type: 'image/png', body: png }]),
    );
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(
      (await post(server, b.token, multipart([{ name: 'photo', filename: 'b.png', type: 'image/png', body: png }])))
        .status,
    ).toBe(201);

    // A can still save its own upload.
    expect((await server.api.post('/api/profiles', child(aPhoto), a.token)).status).toBe(201);
  });
});
