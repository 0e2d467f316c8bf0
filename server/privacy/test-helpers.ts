// Shared by the privacy, retention, notices and admin tests: a family with every kind of data.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decrypt, KEY_FILE, parseKey } from '../store/crypto.js';
import { newId } from '../core/ids.js';
import type { CallRow, PaymentRow } from '../store/types.js';
import { signUpParent, TEST_ADMIN_TOKEN, type ApiClient, type TestServer } from '../../test/support/server.js';
import { uploadPhoto } from '../photos/test-fixtures.js';

export { TEST_ADMIN_TOKEN };

export interface Family {
  token: string;
  accountId: string;
  email: string;
  password: string;
  parentName: string;
  childName: string;
  wish: string;
  note: string;
  profileId: string;
  photoId: string;
  tempPhotoId: string;
  paymentId: string;
  callId: string;
  supportId: string;
  /** Strings that are this family's personal data: none may survive the purge. */
  secrets: string[];
}

let n = 0;

/**
 * Signs up a parent and gives them every kind of data the service holds: consent (verified
 * by a card payment), a child profile with a saved photo, a temporary upload, a purchase
 * with its payment record, a settled call, logins (one failed), a support request.
 */
export async function scriptedFamily(server: TestServer, opts: { tag?: string } = {}): Promise<Family> {
  n++;
  const tag = opts.tag ?? `${n}${Math.random().toString(36).slice(2, 7)}`;
  const api = server.api;
  const parentName = `Marguerite Quillfeather ${tag}`;
  const childName = `Rosalind${tag}`;
  const wish = `a purple telescope ${tag}`;
  const note = `Brushes her teeth without asking ${tag}`;
  const parent = await signUpParent(api, { name: parentName, email: `quill-${tag}@example.test`, locale: 'da' });
  const s = server.app.services;

  // Logins: one good, one with a wrong password.
  expectStatus(await api.post('/api/auth/login', { email: parent.email, password: parent.password }), 200);
  expectStatus(await api.post('/api/auth/login', { email: parent.email, password: 'wrong password here' }), 401);

  const photoId = await uploadPhoto(api, parent.token);
  const created = await api.post(
    '/api/profiles',
    { name: childName, age: 7, language: 'da', wishList: [wish, 'snow'], behaviorNotes: note, preferences: 'Loves reindeer', photoId },
    parent.token,
  );
  expectStatus(created, 201);
  const tempPhotoId = await uploadPhoto(api, parent.token);

  // A purchase: the payment record and its ledger entry, as the payments module writes them.
  const now = server.clock.now();
  const payment: PaymentRow = {
    id: newId(),
    accountId: parent.accountId,
    provider: 'dev',
    checkoutSessionId: `cs_test_${tag}`,
    paymentIntentId: `pi_test_${tag}`,
    chargeId: `ch_test_${tag}`,
    packId: 'pack-10',
    seconds: 600,
    amount: 4900,
    currency: 'dkk',
    status: 'paid',
    amountRefunded: 0,
    createdAt: now,
    paidAt: now,
  };
  await server.app.store.payments.insert(payment);
  await s.credits.purchase(parent.accountId, 600, payment.paymentIntentId!);
  await s.consent.markVerified(parent.accountId, 'card_payment');

  // A settled call of 95 seconds: the call record and its hold, capture and release.
  const callId = newId();
  const call: CallRow = {
    id: callId,
    accountId: parent.accountId,
    profileId: created.body.id,
    provider: 'simulated',
    providerCallId: null,
    heldSeconds: 0,
    startedAt: now,
    meteredSeconds: 95,
    checkpointAt: now + 95_000,
    endedAt: now + 95_000,
    reason: 'hangup',
    settledAt: now + 95_000,
  };
  const held = await s.credits.hold(parent.accountId, callId, { min: 60, max: 600 });
  await server.app.store.calls.insert({ ...call, heldSeconds: held ?? 0 });
  await s.credits.settle(callId, 95);

  const support = await api.post('/api/support', { kind: 'support', subject: `Help for ${childName}`, message: `My child ${childName} wants ${wish}` }, parent.token);
  expectStatus(support, 201);

  return {
    ...parent,
    parentName,
    childName,
    wish,
    note,
    profileId: created.body.id,
    photoId,
    tempPhotoId,
    paymentId: payment.id,
    callId,
    supportId: support.body.id,
    secrets: [parent.email, parentName, childName, wish, note],
  };
}

export function expectStatus(res: { status: number; body: unknown }, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
}

export function admin(api: ApiClient) {
  const h = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  return {
    get: (path: string) => api.request('GET', path, { headers: h }),
    post: (path: string, body?: unknown) => api.request('POST', path, { headers: h, body: body ?? {} }),
  };
}

/**
 * Every data file under the data dir, decrypted: the lowdb shards (*.db, file name as
 * associated data) and the photo blobs. Returns path -> plaintext.
 */
export function decryptDataDir(dataDir: string): Map<string, string> {
  const key = parseKey(readFileSync(join(dataDir, KEY_FILE), 'utf8'));
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.db')) out.set(relative(dataDir, path), decrypt(key, readFileSync(path), name).toString('utf8'));
      else if (name.endsWith('.bin')) out.set(relative(dataDir, path), decrypt(key, readFileSync(path), `blob:${name.slice(0, -4)}`).toString('latin1'));
    }
  };
  walk(dataDir);
  return out;
}
