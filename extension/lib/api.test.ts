import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, type FetchLike } from './api.js';

const account = {
  id: 'a1',
  email: 'ada@example.test',
  name: 'Ada',
  locale: 'en',
  restricted: false,
  marketingOptIn: false,
  consent: null,
  balanceSeconds: 0,
  availableSeconds: 0,
  deletion: null,
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function client(fetchImpl: FetchLike, extra: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) {
  return new ApiClient({ baseUrl: 'http://127.0.0.1:9/', token: 'tok', fetch: fetchImpl, ...extra });
}

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('API client', () => {
  it('sends the bearer token and JSON, and returns the validated response', async () => {
    const fetchImpl = vi.fn<FetchLike>(async () => json(200, account));
    const me = await client(fetchImpl).patchMe({ marketingOptIn: true });
    expect(me.email).toBe('ada@example.test');
    const [url, init] = fetchImpl.mock.calls[0]!;
    expect(url).toBe('http://127.0.0.1:9/api/me');
    expect(init?.method).toBe('PATCH');
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(init?.body))).toEqual({ marketingOptIn: true });
    expect(init?.credentials).toBe('omit');
  });

  it('turns the error envelope into an ApiError with status, code and fields', async () => {
    const err = await caught(
      client(async () =>
        json(400, { error: { code: 'invalid_request', message: 'bad', fields: { age: 'too_big' } } }),
      ).createProfile({ name: 'Emma', age: 5, language: 'en' }),
    );
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.fields).toEqual({ age: 'too_big' });
  });

  it('reports an unreachable server as network_error', async () => {
    const err = await caught(client(async () => Promise.reject(new TypeError('Failed to fetch'))).me());
    expect(err.status).toBe(0);
    expect(err.code).toBe('network_error');
  });

  it('maps a non-JSON error page to a generic error for its status', async () => {
    const err = await caught(client(async () => new Response('<html>Bad gateway</html>', { status: 502 })).me());
    expect(err.status).toBe(502);
    expect(err.code).toBe('internal_error');
  });

  it('refuses a response that does not match the shared schema', async () => {
    const err = await caught(client(async () => json(200, { id: 'a1' })).me());
    expect(err.code).toBe('bad_response');
  });

  it('calls onUnauthorized on a 401 so the UI can sign out', async () => {
    const onUnauthorized = vi.fn();
    const err = await caught(
      client(async () => json(401, { error: { code: 'unauthorized', message: 'no' } }), { onUnauthorized }).me(),
    );
    expect(err.code).toBe('unauthorized');
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('validates request bodies with the shared schemas before sending anything', async () => {
    const fetchImpl = vi.fn<FetchLike>();
    const err = await caught(client(fetchImpl).createProfile({ name: 'Emma', age: 2, language: 'en' }));
    expect(err.code).toBe('invalid_request');
    expect(err.fields).toHaveProperty('age');
    const unknownField = await caught(
      client(fetchImpl).createProfile({ name: 'Emma', age: 5, language: 'en', address: 'Main St 1' } as never),
    );
    expect(unknownField.code).toBe('invalid_request');
    const badEmail = await caught(
      client(fetchImpl).signup({ email: 'not-an-email', password: 'long enough', name: 'Ada', locale: 'en' }),
    );
    expect(badEmail.fields).toHaveProperty('email');
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('uploads a photo as the raw image body with its type', async () => {
    const fetchImpl = vi.fn<FetchLike>(async () =>
      json(201, { id: 'p1', photoId: 'p1', expiresAt: '2026-12-02T10:00:00.000Z' }),
    );
    const blob = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    expect(await client(fetchImpl).uploadPhoto(blob)).toEqual({
      id: 'p1',
      photoId: 'p1',
      expiresAt: '2026-12-02T10:00:00.000Z',
    });
    const [url, init] = fetchImpl.mock.calls[0]!;
    expect(url).toBe('http://127.0.0.1:9/api/photos');
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('image/jpeg');
    expect(init?.body).toBe(blob);
  });

  it('refuses to upload a file that is not a JPEG, PNG or WebP', async () => {
    const fetchImpl = vi.fn<FetchLike>();
    const err = await caught(client(fetchImpl).uploadPhoto(new Blob(['GIF89a'], { type: 'image/gif' })));
    expect(err.code).toBe('unsupported_image');
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('handles 204 answers (logout, delete a child) without a body', async () => {
    const fetchImpl = vi.fn<FetchLike>(async () => new Response(null, { status: 204 }));
    await expect(client(fetchImpl).deleteProfile('p/1')).resolves.toBeUndefined();
    expect(fetchImpl.mock.calls[0]![0]).toBe('http://127.0.0.1:9/api/profiles/p%2F1');
  });

  it('returns the checkout URL and the account deletion date', async () => {
    expect(await client(async () => json(200, { url: 'https://checkout.example/pay' })).checkout('pack-10')).toEqual({
      url: 'https://checkout.example/pay',
    });
    const purgeBy = '2027-01-01T00:00:00.000Z';
    const closed = { ...account, deletion: { purgeBy }, purgeBy };
    expect((await client(async () => json(202, closed)).deleteMe({ password: 'pw' })).purgeBy).toBe(purgeBy);
  });

  it('closes the account on the token alone when no password is given: no body is sent', async () => {
    const purgeBy = '2027-01-01T00:00:00.000Z';
    const fetchImpl = vi.fn<FetchLike>(async () => json(202, { ...account, deletion: { purgeBy }, purgeBy }));
    expect((await client(fetchImpl).deleteMe()).deletion).toEqual({ purgeBy });
    const [url, init] = fetchImpl.mock.calls[0]!;
    expect(url).toBe('http://127.0.0.1:9/api/me');
    expect(init?.method).toBe('DELETE');
    expect(init?.body).toBeUndefined();
    expect((init?.headers as Record<string, string>)['Content-Type']).toBeUndefined();
  });
});
