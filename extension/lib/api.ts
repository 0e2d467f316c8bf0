import './zod-config.js';
import { z } from 'zod';
import {
  accountSchema,
  apiErrorSchema,
  authResponseSchema,
  callListSchema,
  callReadinessSchema,
  callRecordSchema,
  checkoutBodySchema,
  checkoutResponseSchema,
  consentBodySchema,
  consentResponseSchema,
  createProfileBodySchema,
  creditsSchema,
  deleteMeBodySchema,
  deleteMeResponseSchema,
  exportDocumentSchema,
  loginBodySchema,
  noticeSchema,
  passwordResetRequestBodySchema,
  passwordResetRequestResponseSchema,
  patchMeBodySchema,
  patchProfileBodySchema,
  photoUploadResponseSchema,
  policySchema,
  profileListSchema,
  profileSchema,
  restrictBodySchema,
  signupBodySchema,
  supportBodySchema,
  supportListSchema,
  supportRequestSchema,
  type Account,
  type AuthResponse,
  type CallReadiness,
  type CallRecord,
  type Credits,
  type DeleteMeResponse,
  type ExportDocument,
  type Policy,
  type Profile,
  type SupportRequest,
} from '../../shared/index.js';

/**
 * The typed REST client. Every request body is checked with the shared schema before it is
 * sent (a form gets field errors at once), and every response is checked after: the server
 * is another program, and the UI must never render something it did not expect.
 */

/** Client-side codes that are not in shared/errors.ts: they never come from the server. */
export const CLIENT_ERROR_CODES = ['network_error', 'bad_response'] as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  baseUrl: string;
  token?: string | null;
  fetch?: FetchLike;
  /** Called on any 401: the session is gone, so the UI signs out. */
  onUnauthorized?: () => void;
}

type Body = { json: unknown } | { raw: Blob; type: string } | undefined;

function fieldsFromZod(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    fields[key] ??= issue.code;
  }
  return fields;
}

/** Parses a body with a shared schema, or throws the same error shape the server would send. */
function checkBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(400, 'invalid_request', 'The form has invalid fields', fieldsFromZod(parsed.error));
  return parsed.data;
}

export class ApiClient {
  readonly baseUrl: string;
  private token: string | null;
  private readonly fetchImpl: FetchLike;
  private readonly onUnauthorized: (() => void) | undefined;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/$/, '');
    this.token = opts.token ?? null;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.onUnauthorized = opts.onUnauthorized;
  }

  setToken(token: string | null): void {
    this.token = token;
  }

  private async send(
    method: string,
    path: string,
    body?: Body,
    accept: 'json' | 'blob' = 'json',
  ): Promise<{ status: number; data: unknown; blob?: Blob }> {
    const headers: Record<string, string> = { Accept: accept === 'json' ? 'application/json' : '*/*' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body && 'json' in body) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body && 'raw' in body) {
      headers['Content-Type'] = body.type;
      payload = body.raw;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: payload,
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network_error', err instanceof Error ? err.message : 'Network error');
    }
    if (!res.ok) {
      if (res.status === 401) this.onUnauthorized?.();
      let data: unknown = null;
      try {
        data = await res.json();
      } catch {
        // Not JSON (a proxy's error page): fall through to a generic error for the status.
      }
      const parsed = apiErrorSchema.safeParse(data);
      if (parsed.success)
        throw new ApiError(res.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.fields);
      throw new ApiError(res.status, res.status === 401 ? 'unauthorized' : 'internal_error', `HTTP ${res.status}`);
    }
    if (accept === 'blob') return { status: res.status, data: null, blob: await res.blob() };
    if (res.status === 204) return { status: 204, data: null };
    const text = await res.text();
    if (!text) return { status: res.status, data: null };
    try {
      return { status: res.status, data: JSON.parse(text) as unknown };
    } catch {
      throw new ApiError(res.status, 'bad_response', 'The server sent something that is not JSON');
    }
  }

  private async call<S extends z.ZodType>(schema: S, method: string, path: string, body?: Body): Promise<z.output<S>> {
    const { status, data } = await this.send(method, path, body);
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw new ApiError(status, 'bad_response', `Unexpected response from ${method} ${path}`);
    return parsed.data;
  }

  /** A request whose success is "204 No Content": any other success is not what the contract says. */
  private async noContent(method: string, path: string, body?: Body): Promise<void> {
    const { status } = await this.send(method, path, body);
    if (status !== 204) throw new ApiError(status, 'bad_response', `Unexpected response from ${method} ${path}`);
  }

  // --- accounts -------------------------------------------------------------------------

  async signup(body: z.input<typeof signupBodySchema>): Promise<AuthResponse> {
    return this.call(authResponseSchema, 'POST', '/api/auth/signup', { json: checkBody(signupBodySchema, body) });
  }

  async login(body: z.input<typeof loginBodySchema>): Promise<AuthResponse> {
    return this.call(authResponseSchema, 'POST', '/api/auth/login', { json: checkBody(loginBodySchema, body) });
  }

  /** Reopens a closed account before its purge date with its password, and signs in. */
  async reopen(body: z.input<typeof loginBodySchema>): Promise<AuthResponse> {
    return this.call(authResponseSchema, 'POST', '/api/auth/reopen', { json: checkBody(loginBodySchema, body) });
  }

  async logout(): Promise<void> {
    await this.noContent('POST', '/api/auth/logout');
  }

  /** Always 202 whatever the email; `delivery` says whether this server sends email at all. */
  async requestPasswordReset(email: string): Promise<{ delivery: 'email' | 'outbox' }> {
    const res = await this.call(passwordResetRequestResponseSchema, 'POST', '/api/auth/password-reset/request', {
      json: checkBody(passwordResetRequestBodySchema, { email }),
    });
    return { delivery: res.delivery };
  }

  async me(): Promise<Account> {
    return this.call(accountSchema, 'GET', '/api/me');
  }

  async patchMe(body: z.input<typeof patchMeBodySchema>): Promise<Account> {
    return this.call(accountSchema, 'PATCH', '/api/me', { json: checkBody(patchMeBodySchema, body) });
  }

  /**
   * Closes the account at once; personal data is purged by the returned date. The token
   * suffices; a password, when given, is checked by the server (403 if wrong).
   */
  async deleteMe(body?: z.input<typeof deleteMeBodySchema>): Promise<DeleteMeResponse> {
    return this.call(
      deleteMeResponseSchema,
      'DELETE',
      '/api/me',
      body === undefined ? undefined : { json: checkBody(deleteMeBodySchema, body) },
    );
  }

  async exportMe(): Promise<ExportDocument> {
    return this.call(exportDocumentSchema, 'GET', '/api/me/export');
  }

  async restrict(restricted: boolean): Promise<Account> {
    return this.call(accountSchema, 'POST', '/api/me/restrict', {
      json: checkBody(restrictBodySchema, { restricted }),
    });
  }

  async markNoticeRead(id: string): Promise<void> {
    await this.call(noticeSchema, 'POST', `/api/me/notices/${encodeURIComponent(id)}/read`);
  }

  // --- support and feedback -------------------------------------------------------------

  async support(body: z.input<typeof supportBodySchema>): Promise<SupportRequest> {
    return this.call(supportRequestSchema, 'POST', '/api/support', { json: checkBody(supportBodySchema, body) });
  }

  async supportRequests(): Promise<SupportRequest[]> {
    return (await this.call(supportListSchema, 'GET', '/api/support')).requests;
  }

  async policy(): Promise<Policy> {
    return this.call(policySchema, 'GET', '/api/policy');
  }

  async consent(policyVersion: string): Promise<z.output<typeof consentResponseSchema>> {
    return this.call(consentResponseSchema, 'POST', '/api/consent', {
      json: checkBody(consentBodySchema, { policyVersion }),
    });
  }

  // --- profiles and photos --------------------------------------------------------------

  async profiles(): Promise<Profile[]> {
    return (await this.call(profileListSchema, 'GET', '/api/profiles')).profiles;
  }

  async createProfile(body: z.input<typeof createProfileBodySchema>): Promise<Profile> {
    return this.call(profileSchema, 'POST', '/api/profiles', { json: checkBody(createProfileBodySchema, body) });
  }

  async patchProfile(id: string, body: z.input<typeof patchProfileBodySchema>): Promise<Profile> {
    return this.call(profileSchema, 'PATCH', `/api/profiles/${encodeURIComponent(id)}`, {
      json: checkBody(patchProfileBodySchema, body),
    });
  }

  async deleteProfile(id: string): Promise<void> {
    await this.noContent('DELETE', `/api/profiles/${encodeURIComponent(id)}`);
  }

  /** Uploads the raw image; the server re-encodes it without metadata and keeps it 24 h unless saved to a profile. */
  async uploadPhoto(file: Blob): Promise<{ photoId: string; expiresAt: string }> {
    const type = file.type;
    if (!['image/jpeg', 'image/png', 'image/webp'].includes(type)) {
      throw new ApiError(415, 'unsupported_image', 'Use a JPEG, PNG or WebP photo');
    }
    return this.call(photoUploadResponseSchema, 'POST', '/api/photos', { raw: file, type });
  }

  async profilePhoto(id: string): Promise<Blob> {
    const { blob } = await this.send('GET', `/api/profiles/${encodeURIComponent(id)}/photo`, undefined, 'blob');
    if (!blob) throw new ApiError(200, 'bad_response', 'No photo');
    return blob;
  }

  // --- credits and calls ----------------------------------------------------------------

  async credits(): Promise<Credits> {
    return this.call(creditsSchema, 'GET', '/api/credits');
  }

  async checkout(packId: string): Promise<{ url: string }> {
    return this.call(checkoutResponseSchema, 'POST', '/api/credits/checkout', {
      json: checkBody(checkoutBodySchema, { packId }),
    });
  }

  async calls(): Promise<CallRecord[]> {
    return (await this.call(callListSchema, 'GET', '/api/calls')).calls;
  }

  /** One of the account's calls (live, or ended with its reason and charged seconds): asked after a lost connection. */
  async callRecord(id: string): Promise<CallRecord> {
    return this.call(callRecordSchema, 'GET', `/api/calls/${encodeURIComponent(id)}`);
  }

  /** Per child, whether a call can start now and why not (quiet hours in `timeZone`), with the credit and live calls. */
  async callReadiness(timeZone: string): Promise<CallReadiness> {
    return this.call(callReadinessSchema, 'GET', `/api/calls/readiness?timeZone=${encodeURIComponent(timeZone)}`);
  }
}
