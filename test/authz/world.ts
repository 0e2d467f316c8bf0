import { createHash, randomBytes, randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { tokenHash } from '../../server/accounts/service.js';
import { TABLE_NAMES } from '../../server/store/schema.js';
import type { Store, TableName } from '../../server/store/types.js';
import { DAY_MS } from '../../shared/units.js';
import { signUpParent, TEST_ADMIN_TOKEN, type ApiClient, type TestServer } from '../support/server.js';

/** One parent with something of everything: the data another parent must never reach. */
export interface Party {
  label: string;
  token: string;
  accountId: string;
  email: string;
  password: string;
  name: string;
  profileId: string;
  profileName: string;
  wish: string;
  photoId: string;
  /** A second upload, left temporary (not saved to a profile). */
  tempPhotoId: string;
  supportId: string;
  supportText: string;
  /** A dev checkout session the party opened (not paid). */
  checkoutSessionId: string;
  /** The dev checkout's URL as the API answered it (with the key that binds it to this party's session). */
  checkoutUrl: string;
  noticeId: string | null;
  callId: string | null;
}

/** Tokens that must open nothing. All belong to the victim, so a wrongly accepted one would reach real data. */
export interface BadTokens {
  garbage: string;
  expired: string;
  revoked: string;
  /** A token of an account that closed itself. */
  closed: string;
  /** The admin token sent to an account route, and a parent's token sent to an admin route, are tried separately. */
}

export async function tinyPng(): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 120, b: 40 } } })
    .png()
    .toBuffer();
}

async function uploadPhoto(api: ApiClient, token: string): Promise<string> {
  const res = await api.request('POST', '/api/photos', {
    token,
    raw: await tinyPng(),
    headers: { 'content-type': 'image/png' },
  });
  if (res.status !== 201) throw new Error(`photo upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.photoId as string;
}

/** A parent with a profile (with a saved photo), a temporary photo, a support request and credit. */
export async function makeParty(server: TestServer, label: string): Promise<Party> {
  const api = server.api;
  const tag = `${label}-${randomBytes(4).toString('hex')}`;
  const name = `Parent ${tag}`;
  const parent = await signUpParent(api, { name, email: `${tag}@example.test`, password: `password of ${tag}` });
  const profileName = `Child ${tag}`;
  const wish = `wish ${tag}`;
  const prof = await api.post(
    '/api/profiles',
    { name: profileName, age: 7, language: 'en', wishList: [wish], behaviorNotes: `notes ${tag}` },
    parent.token,
  );
  if (prof.status !== 201) throw new Error(`profile failed: ${prof.status} ${JSON.stringify(prof.body)}`);
  const profileId = prof.body.id as string;
  const photoId = await uploadPhoto(api, parent.token);
  const patched = await api.patch(`/api/profiles/${profileId}`, { photoId }, parent.token);
  if (patched.status !== 200) throw new Error(`photo save failed: ${patched.status} ${JSON.stringify(patched.body)}`);
  const tempPhotoId = await uploadPhoto(api, parent.token);
  const supportText = `support ${tag}`;
  const sup = await api.post('/api/support', { subject: `subject ${tag}`, message: supportText }, parent.token);
  if (sup.status !== 201) throw new Error(`support failed: ${sup.status} ${JSON.stringify(sup.body)}`);
  const checkout = await api.post('/api/credits/checkout', { packId: 'pack-10' }, parent.token);
  if (checkout.status !== 200) throw new Error(`checkout failed: ${checkout.status} ${JSON.stringify(checkout.body)}`);
  const checkoutSessionId = new URL(String(checkout.body.url)).pathname.split('/').pop() ?? '';
  const grant = await api.request('POST', `/admin/accounts/${parent.accountId}/credits`, {
    body: { seconds: 1800, reason: 'authz matrix' },
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  if (grant.status !== 201) throw new Error(`grant failed: ${grant.status} ${JSON.stringify(grant.body)}`);
  return {
    label,
    token: parent.token,
    accountId: parent.accountId,
    email: parent.email,
    password: parent.password,
    name,
    profileId,
    profileName,
    wish,
    photoId,
    tempPhotoId,
    supportId: sup.body.id as string,
    supportText,
    checkoutSessionId,
    checkoutUrl: String(checkout.body.url),
    noticeId: null,
    callId: null,
  };
}

/**
 * Publish a material policy change (announced 30+ days ahead), so every party has a notice;
 * records each party's notice id.
 */
export async function giveNotices(server: TestServer, parties: Party[]): Promise<void> {
  const effectiveAt = new Date(server.clock.now() + 40 * DAY_MS).toISOString();
  const res = await server.api.request('POST', '/admin/policy', {
    body: {
      version: `authz-${randomBytes(3).toString('hex')}`,
      material: true,
      effectiveAt,
      text: { en: 'New terms', da: 'Nye vilkår', sv: 'Nya villkor' },
    },
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  if (res.status !== 201) throw new Error(`policy publish failed: ${res.status} ${JSON.stringify(res.body)}`);
  for (const p of parties) {
    const list = await server.api.get('/api/me/notices', p.token);
    const first = (list.body.notices as { id: string }[] | undefined)?.[0];
    if (!first) throw new Error(`no notice for ${p.label}: ${JSON.stringify(list.body)}`);
    p.noticeId = first.id;
  }
}

/** Strings that identify a party: none may appear in a response made for anyone else. */
export function secretsOf(p: Party): string[] {
  return [
    p.token,
    p.accountId,
    p.email,
    p.name,
    p.profileId,
    p.profileName,
    p.wish,
    p.photoId,
    p.tempPhotoId,
    p.supportId,
    p.supportText,
    p.checkoutSessionId,
    p.noticeId,
    p.callId,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}

export async function makeBadTokens(server: TestServer, victim: Party): Promise<BadTokens> {
  const api = server.api;
  // Revoked: a second sign-in of the victim, signed out again.
  const login = await api.post('/api/auth/login', { email: victim.email, password: victim.password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const revoked = login.body.token as string;
  const out = await api.post('/api/auth/logout', undefined, revoked);
  if (out.status !== 204) throw new Error(`logout failed: ${out.status}`);
  // Expired: a session of the victim whose lifetime is over (written directly: the clock is shared).
  const expired = randomBytes(32).toString('base64url');
  const now = server.clock.now();
  await server.app.store.sessions.insert({
    id: randomUUID(),
    accountId: victim.accountId,
    tokenHash: tokenHash(expired),
    createdAt: now - 31 * DAY_MS,
    expiresAt: now - 1000,
    revokedAt: null,
  });
  // Closed: an account that deleted itself; its token was valid a moment ago.
  const gone = await signUpParent(api, { name: 'Closing parent' });
  const del = await api.delete('/api/me', { password: gone.password }, gone.token);
  if (del.status !== 202) throw new Error(`close failed: ${del.status} ${JSON.stringify(del.body)}`);
  await server.app.store.flush();
  return { garbage: randomBytes(32).toString('base64url'), expired, revoked, closed: gone.token };
}

/** Row count and content digest of every table: any write anywhere changes it. */
export async function storeDigest(store: Store): Promise<Record<TableName, string>> {
  const out = {} as Record<TableName, string>;
  for (const name of TABLE_NAMES) {
    const lines: string[] = [];
    for await (const batch of store[name].scan(2000)) for (const row of batch) lines.push(JSON.stringify(row));
    lines.sort();
    out[name] = `${lines.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

/** Row counts only: cheap enough to take around every single request. */
export async function storeCounts(store: Store): Promise<Record<TableName, number>> {
  const out = {} as Record<TableName, number>;
  for (const name of TABLE_NAMES) out[name] = await store[name].count();
  return out;
}

/** Every row anywhere that mentions one of the party's ids, as a digest per table. */
export async function partyDigest(store: Store, p: Party): Promise<Record<string, string>> {
  const ids = [
    p.accountId,
    p.profileId,
    p.photoId,
    p.tempPhotoId,
    p.supportId,
    p.checkoutSessionId,
    p.callId,
    p.noticeId,
  ].filter((s): s is string => !!s);
  const out: Record<string, string> = {};
  for (const name of TABLE_NAMES) {
    const lines: string[] = [];
    for await (const batch of store[name].scan(2000)) {
      for (const row of batch) {
        const json = JSON.stringify(row);
        if (ids.some((id) => json.includes(id))) lines.push(json);
      }
    }
    lines.sort();
    out[name] = `${lines.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

/** The first secret found in a response (body and headers), or null. */
export function leakIn(res: { body: unknown; headers: Headers }, secrets: string[]): string | null {
  const text =
    (typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '')) +
    '\n' +
    [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  const lower = text.toLowerCase();
  return secrets.find((s) => lower.includes(s.toLowerCase())) ?? null;
}

export const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
