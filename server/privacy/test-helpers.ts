// Shared by the privacy, retention, notices and admin tests: a family with every kind of data.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_FILE, parseKey } from '../store/crypto.js';
import { decryptDataFiles } from '../store/disk-image.js';
import { openPgStore } from '../store/pg-store.js';
import { TABLE_NAMES } from '../store/schema.js';
import { newId } from '../core/ids.js';
import { DAY_MS } from '../../shared/units.js';
import type { PaymentRow } from '../store/types.js';
import { signUpParent, TEST_ADMIN_TOKEN, type ApiClient, type TestServer } from '../../test/support/server.js';
import { uploadPhoto } from '../photos/test-fixtures.js';
import { callStartAckSchema } from '../../shared/schemas/socket.js';
import { createBrowserPeer } from '../../test/support/webrtc-peer.js';
import { payDevCheckout } from '../../test/support/dev-checkout.js';
import { ack, connectSocket, eventually } from '../../test/calls/support.js';
import { endedCallRow } from '../../test/support/call-rows.js';

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
 *
 * With `real: true` the purchase goes through the dev checkout and its signed webhook, and
 * the call is a real one with Simulated Santa and a werift "browser" (slower); otherwise the
 * payment and call rows are written as those modules write them.
 */
export async function scriptedFamily(server: TestServer, opts: { tag?: string; real?: boolean } = {}): Promise<Family> {
  n++;
  const tag = opts.tag ?? `${n}${Math.random().toString(36).slice(2, 7)}`;
  const api = server.api;
  const parentName = `Marguerite Quillfeather ${tag}`;
  const childName = `Rosalind${tag}`;
  const wish = `a purple telescope ${tag}`;
  const note = `Brushes her teeth without asking ${tag}`;
  const parent = await signUpParent(api, { name: parentName, email: `quill-${tag}@example.test`, locale: 'da' });

  // Logins: one good, one with a wrong password.
  expectStatus(await api.post('/api/auth/login', { email: parent.email, password: parent.password }), 200);
  expectStatus(await api.post('/api/auth/login', { email: parent.email, password: 'wrong password here' }), 401);

  const photoId = await uploadPhoto(api, parent.token);
  const created = await api.post(
    '/api/profiles',
    {
      name: childName,
      age: 7,
      language: 'da',
      wishList: [wish, 'snow'],
      behaviorNotes: note,
      preferences: 'Loves reindeer',
      photoId,
    },
    parent.token,
  );
  expectStatus(created, 201);
  const tempPhotoId = await uploadPhoto(api, parent.token);

  const profileId = created.body.id as string;
  const { paymentId, callId } = opts.real
    ? await realPurchaseAndCall(server, parent.token, profileId)
    : await writtenPurchaseAndCall(server, parent.accountId, profileId, tag);

  const support = await api.post(
    '/api/support',
    { kind: 'support', subject: `Help for ${childName}`, message: `My child ${childName} wants ${wish}` },
    parent.token,
  );
  expectStatus(support, 201);

  return {
    ...parent,
    parentName,
    childName,
    wish,
    note,
    profileId,
    photoId,
    tempPhotoId,
    paymentId,
    callId,
    supportId: support.body.id,
    secrets: [parent.email, parentName, childName, wish, note],
  };
}

/** The dev checkout's Pay button (signed webhook) and a 95-second call that the call window hangs up. */
async function realPurchaseAndCall(
  server: TestServer,
  token: string,
  profileId: string,
): Promise<{ paymentId: string; callId: string }> {
  const checkout = await server.api.post('/api/credits/checkout', { packId: 'pack-10' }, token);
  expectStatus(checkout, 200);
  const sessionId = new URL(checkout.body.url as string).pathname.split('/').pop() ?? '';
  const paid = await payDevCheckout(checkout.body.url as string);
  if (paid.status >= 400) throw new Error(`dev checkout pay failed: ${paid.status}`);
  const payment = await eventually(async () => {
    const row = await server.app.store.payments.findOne('checkoutSessionId', sessionId);
    return row?.status === 'paid' ? row : undefined;
  });

  const socket = await connectSocket(server.url, token);
  const peer = await createBrowserPeer();
  try {
    const res = callStartAckSchema.parse(await ack(socket, 'call:start', { profileId, sdp: peer.offerSdp }));
    if ('error' in res) throw new Error(`call:start refused: ${res.error.code}`);
    await peer.setAnswer(res.sdp);
    // The media path and data channel come up in real time before the fake clock moves on.
    await peer.waitForEvent('session.created', 15_000);
    await server.clock.advanceAsync(95_000, 250);
    await ack(socket, 'call:end', { callId: res.callId });
    await eventually(async () => (await server.app.services.credits.isSettled(res.callId)) || undefined);
    return { paymentId: payment.id, callId: res.callId };
  } finally {
    socket.disconnect();
    await peer.close();
  }
}

/** The payment record, purchase, consent verification and a settled 95-second call, as those modules write them. */
async function writtenPurchaseAndCall(
  server: TestServer,
  accountId: string,
  profileId: string,
  tag: string,
): Promise<{ paymentId: string; callId: string }> {
  const s = server.app.services;
  const now = server.clock.now();
  const payment: PaymentRow = {
    id: newId(),
    accountId,
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
  await s.credits.purchase(accountId, 600, payment.checkoutSessionId);
  await s.consent.markVerified(accountId, 'card_payment');

  const callId = newId();
  const held = await s.credits.hold(accountId, callId, { min: 60, max: 600 });
  const call = endedCallRow({ id: callId, accountId, profileId, heldSeconds: held ?? 0, startedAt: now, seconds: 95 });
  await server.app.store.calls.insert(call);
  await s.credits.settle(callId, 95);
  return { paymentId: payment.id, callId };
}

/**
 * The admin publishes policy `version`, in force `effectiveInDays` from now: every open account
 * gets a notice of it and an essential email, so the notices and outbox tables hold its rows.
 */
export async function publishPolicy(
  server: TestServer,
  version: string,
  opts: { material: boolean; effectiveInDays: number },
): Promise<void> {
  const effectiveAt = new Date(server.clock.now() + opts.effectiveInDays * DAY_MS).toISOString();
  const text = { en: 'New', da: 'Ny', sv: 'Ny' };
  expectStatus(
    await admin(server.api).post('/admin/policy', { version, material: opts.material, effectiveAt, text }),
    201,
  );
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
 * Every data file under the data dir, decrypted: the lowdb shards and manifest (*.db), each
 * journal's records, and the photo blobs. Returns path -> plaintext.
 */
export function decryptDataDir(dataDir: string): Map<string, string> {
  return decryptDataFiles(dataDir, parseKey(readFileSync(join(dataDir, KEY_FILE), 'utf8')));
}

/**
 * Everything the server keeps, as DATA_KEY opens it, whichever store it runs on. lowdb: every
 * data file under the data dir decrypted (decryptDataDir). PostgreSQL: every row of every table
 * and every photo, read with the server's DATA_KEY (`<table>/<id>` -> the row as JSON), from a
 * store opened for the purpose, so the server may be running or stopped. The database's own
 * files hold sealed bytes only; what they keep of deleted rows (dead tuples, WAL) is proven
 * unreadable by test/store/pg-at-rest.test.ts.
 */
export async function storedData(server: TestServer): Promise<Map<string, string>> {
  const { databaseUrl, dataKey } = server.config;
  if (!databaseUrl) return decryptDataDir(server.dataDir);
  const store = await openPgStore({ url: databaseUrl, dataKey: dataKey ?? '', poolSize: 2 });
  try {
    const out = new Map<string, string>();
    for (const table of TABLE_NAMES) {
      for await (const batch of store[table].scan())
        for (const row of batch) out.set(`${table}/${row.id}`, JSON.stringify(row));
    }
    for (const id of await store.photoFiles.list())
      out.set(`photos/${id}`, (await store.photoFiles.get(id))?.toString('latin1') ?? '');
    return out;
  } finally {
    await store.close();
  }
}
