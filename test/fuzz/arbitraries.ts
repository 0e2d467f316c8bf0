import fc from 'fast-check';
import { parse as parseQuery } from 'node:querystring';
import type { z } from 'zod';

/** Lone surrogates cannot be percent-encoded; replace them so every string can go in a URL. */
export const wellFormed = (s: string) => s.replace(/[\uD800-\uDFFF]/g, '\uFFFD');

/** Strings that have broken servers before: controls, bidi, traversal, escapes, huge, emoji, prototype keys. */
export const nastyString = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\u0007\u0008',
  '\u202e\u2066',
  '\ufeff',
  '\ud800',
  '../../etc/passwd',
  '..%2f..%2f',
  '%',
  '%00',
  '%ZZ',
  '\r\nX-Injected: 1',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${7*7}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '[object Object]',
  'a'.repeat(300),
  'ø'.repeat(5000),
  '😀'.repeat(200),
  'v=0',
  '2026-02-30T25:61:00Z',
);

export const junkText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 3, arbitrary: nastyString },
);

export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: junkText },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      -1,
      0,
      1.5,
      -0.5,
      1e308,
      -1e308,
      2 ** 53 + 1,
      [],
      {},
      [null],
      { $gt: '' },
      ['a', 'b'],
    ),
  },
  { weight: 1, arbitrary: fc.array(junkText, { maxLength: 30 }) },
);

/** JSON as it arrives: undefined dropped, NaN -> null. The schema oracle must judge that, not the JS value. */
export function roundTrip(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

/** Bodies close to a valid one, and far from it; only those the schema refuses are kept. */
export function invalidBody(schema: z.ZodType, valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  const key = fc.constantFrom(...keys);
  const near = fc.oneof(
    key.map((k) => Object.fromEntries(Object.entries(valid).filter(([kk]) => kk !== k))),
    fc.tuple(key, junkValue).map(([k, v]) => ({ ...valid, [k]: v })),
    fc
      .tuple(
        fc.oneof(junkText, fc.constantFrom('__proto__', 'constructor', 'role', 'isAdmin', 'accountId', 'id')),
        junkValue,
      )
      .map(([k, v]) => ({ ...valid, [k]: v })),
    fc.dictionary(key, junkValue, { maxKeys: keys.length }),
  );
  const far = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.array(fc.constant(valid), { maxLength: 3 }), junkValue);
  return fc
    .oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: far })
    .filter((b) => !schema.safeParse(roundTrip(b)).success);
}

/** Bodies that cannot be read as the JSON the API takes: the parser or the type check refuses them first. */
export interface RawBody {
  contentType: string | null;
  body: string | Buffer;
}

const notJson = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 60 }),
    nastyString,
    fc.constantFrom('{', '{"a":', '[1,2', "{'a':1}", '{"a":1,}', 'NaN', '{"a":01}', '\u0000{}'),
  )
  .filter((s) => {
    if (s.trim() === '') return false; // an empty body is no body: the route would run
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  });

export function unreadableBody(limitBytes: number): fc.Arbitrary<RawBody> {
  return fc.oneof(
    { weight: 4, arbitrary: notJson.map((s) => ({ contentType: 'application/json', body: s })) },
    // strict JSON: only objects and arrays at the top
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('"text"', '123', 'null', 'true')
        .map((s) => ({ contentType: 'application/json', body: s })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=xyz',
            'application/xml',
            'text/html',
            'application/octet-stream',
            'application/jsonp',
          ),
        )
        .map(([v, ct]) => ({ contentType: ct, body: JSON.stringify(v) ?? 'null' })),
    },
    {
      weight: 1,
      arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => ({ contentType: null, body: JSON.stringify(v) ?? 'null' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('application/json; charset=latin1', 'application/json; charset=ebcdic')
        .map((ct) => ({ contentType: ct, body: '{"a":1}' })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({ contentType: 'application/json', body: `{"pad":"${'x'.repeat(limitBytes + 1024)}"}` }),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({
        contentType: 'application/json',
        body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b)]),
      })),
    },
  );
}

/** A :param value: random text, encodings, or a well-formed id that names nothing. */
export const junkParam = fc.oneof(
  { weight: 3, arbitrary: junkText.filter((s) => s.length > 0).map((s) => encodeURIComponent(wellFormed(s))) },
  { weight: 2, arbitrary: fc.uuid().map((s) => s) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%ZZ',
      '%E0%A4%A',
      '%C0%AE%C0%AE',
      '%2e%2e',
      '%00',
      '..',
      '.',
      'a'.repeat(2000),
      '%25',
      '%2F',
    ),
  },
);

/** A query string, and what Express's default ("simple") parser makes of it. */
export function junkQuery(): fc.Arbitrary<{ text: string; parsed: Record<string, unknown> }> {
  return fc
    .oneof(
      fc
        .dictionary(
          fc.oneof(junkText, fc.constantFrom('email', 'limit', 'cursor', 'status', 'lang', '__proto__')),
          fc.oneof(junkText, fc.array(junkText, { maxLength: 3 })),
        )
        .map((d) => {
          const sp = new URLSearchParams();
          for (const [k, v] of Object.entries(d))
            for (const one of Array.isArray(v) ? v : [v]) sp.append(wellFormed(k), wellFormed(one));
          return sp.toString();
        }),
      fc.constantFrom(
        'limit=-1',
        'limit=1e9',
        'limit=abc',
        'limit=1&limit=2',
        'email=',
        'email=%ZZ',
        'cursor=' + 'c'.repeat(300),
        'status=everything',
        'a[b]=c',
        '%',
      ),
    )
    .map((text) => ({ text, parsed: { ...parseQuery(text) } }));
}

export const junkAuthorization = fc.oneof(
  junkText.map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, 'x')}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'bearer abc',
    'Basic YWRtaW46YWRtaW4=',
    'Bearer ' + 'A'.repeat(5000),
    'Bearer null',
    'Bearer undefined',
    'Token abc',
  ),
);

/** Bytes that are not a usable image under an image content type. */
export function badImage(real: Buffer): fc.Arbitrary<{ contentType: string; body: Buffer }> {
  const imageType = fc.constantFrom('image/png', 'image/jpeg', 'image/webp');
  return fc.oneof(
    fc
      .tuple(imageType, fc.uint8Array({ maxLength: 512 }))
      .map(([ct, b]) => ({ contentType: ct, body: Buffer.from(b) })),
    fc
      .tuple(fc.integer({ min: 0, max: Math.floor(real.length * 0.6) }))
      .map(([n]) => ({ contentType: 'image/png', body: real.subarray(0, n) })),
    fc
      .tuple(fc.constantFrom('image/jpeg', 'image/webp'), fc.constant(real))
      .map(([ct, b]) => ({ contentType: ct, body: b })),
    fc
      .tuple(
        fc.constantFrom('image/gif', 'image/svg+xml', 'text/plain', 'application/json', 'image/png; charset=utf-8x'),
        fc.uint8Array({ maxLength: 64 }),
      )
      .map(([ct, b]) => ({
        contentType: ct,
        body: Buffer.from(b),
      })),
    fc.constant({ contentType: 'image/png', body: Buffer.concat([real.subarray(0, 8), Buffer.alloc(64, 0x41)]) }),
    badMultipart(real),
  );
}

interface Part {
  name: string;
  filename?: string;
  type?: string;
  body: Buffer;
}

function multipart(boundary: string, parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`,
      ),
      p.body,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** multipart/form-data bodies that hold no single usable image: broken framing, wrong parts, cut short. */
function badMultipart(real: Buffer): fc.Arbitrary<{ contentType: string; body: Buffer }> {
  const boundary = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
  const ct = (b: string) => `multipart/form-data; boundary=${b}`;
  const file = (body: Buffer, type?: string): Part => ({
    name: 'photo',
    filename: 'photo.png',
    ...(type ? { type } : {}),
    body,
  });
  return fc.oneof(
    // Not multipart at all, or no boundary to read it by.
    fc
      .tuple(boundary, fc.uint8Array({ maxLength: 512 }))
      .map(([b, bytes]) => ({ contentType: ct(b), body: Buffer.from(bytes) })),
    fc
      .uint8Array({ maxLength: 256 })
      .map((bytes) => ({ contentType: 'multipart/form-data', body: Buffer.from(bytes) })),
    // Well framed, but the file is no image, is labelled as another type, or is not a file part.
    fc
      .tuple(
        boundary,
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom(undefined, 'image/png', 'image/jpeg', 'application/octet-stream', 'text/plain', 'image/gif'),
      )
      .map(([b, bytes, type]) => ({ contentType: ct(b), body: multipart(b, [file(Buffer.from(bytes), type)]) })),
    fc
      .tuple(boundary, fc.constantFrom('image/gif', 'image/svg+xml', 'application/pdf'))
      .map(([b, type]) => ({ contentType: ct(b), body: multipart(b, [file(real, type)]) })),
    boundary.map((b) => ({
      contentType: ct(b),
      body: multipart(b, [{ name: 'photo', type: 'image/png', body: real }]),
    })),
    // Two files, or none (fields only).
    boundary.map((b) => ({
      contentType: ct(b),
      body: multipart(b, [file(real, 'image/png'), file(real, 'image/png')]),
    })),
    fc
      .tuple(boundary, fc.string({ maxLength: 64 }))
      .map(([b, text]) => ({ contentType: ct(b), body: multipart(b, [{ name: 'note', body: Buffer.from(text) }]) })),
    // A real upload cut short, or sent under another boundary than the one it declares.
    fc.tuple(boundary, fc.double({ min: 0, max: 0.98, noNaN: true })).map(([b, cut]) => {
      const whole = multipart(b, [file(real, 'image/png')]);
      return { contentType: ct(b), body: whole.subarray(0, Math.floor(whole.length * cut)) };
    }),
    boundary.map((b) => ({ contentType: ct(`${b}x`), body: multipart(b, [file(real, 'image/png')]) })),
  );
}
