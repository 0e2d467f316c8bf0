import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type LowdbStore } from '../../server/store/lowdb-store.js';
import { AuditService } from '../../server/audit/service.js';
import { ConsentService } from '../../server/consent/service.js';
import { tokenHash } from '../../server/accounts/service.js';
import { hashPassword } from '../../server/accounts/passwords.js';
import { systemClock } from '../../server/core/clock.js';
import { DAY_MS, MINUTE_MS } from '../../shared/units.js';
import type { CallRow, LedgerRow } from '../../server/store/types.js';

/** A family the seed made, with a live session token so a benchmark can sign in as it. */
export interface SeededFamily {
  accountId: string;
  email: string;
  token: string;
  profileIds: string[];
}

export interface Seeded {
  dataDir: string;
  /** DATA_KEY of the seeded store (hex), so a server child can open it. */
  dataKey: string;
  password: string;
  families: SeededFamily[];
  rows: number;
}

export interface SeedOptions {
  families: number;
  /** Calls per family over the season (each adds a hold, capture and release to the ledger). */
  callsPerFamily?: number;
  loginsPerFamily?: number;
  /** Seconds of credit left to every family after its history, so a benchmark can start calls. */
  spareSeconds?: number;
  dataDir?: string;
}

/**
 * A store as it would look at the end of a season: every family has an account, sessions,
 * one or two child profiles, verified consent, purchases, a few calls settled through the
 * ledger, login activity and audit entries. Rows go in through the Store interface (and the
 * audit chain through AuditService), so indexes, shards and the chain are the real ones.
 */
export async function seedStore(options: SeedOptions): Promise<Seeded> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'callsanta-bench-'));
  const dataKey = randomBytes(32).toString('hex');
  const password = 'bench password 1234';
  const passwordHash = await hashPassword(password);
  const store = await openStore({ dataDir, dataKey });
  const clock = systemClock;
  const audit = new AuditService({ store, clock });
  // The seed writes its consents itself and never gives one through the service.
  const consent = new ConsentService({ store, clock, audit, payments: { firstCompleted: async () => null } });
  await consent.ensureInitialPolicy();
  const policyVersion = (await consent.currentAndUpcoming()).current.version;

  const callsPer = options.callsPerFamily ?? 5;
  const loginsPer = options.loginsPerFamily ?? 10;
  const spare = options.spareSeconds ?? 3600;
  const now = Date.now();
  const seasonStart = now - 40 * DAY_MS;
  const at = (i: number, spread = 40 * DAY_MS) => seasonStart + ((i * 7919) % spread);
  const families: SeededFamily[] = [];
  let rows = 0;

  for (let i = 0; i < options.families; i++) {
    const accountId = randomUUID();
    const email = `family${i}@bench.test`;
    const created = at(i, 10 * DAY_MS);
    await store.accounts.insert({
      id: accountId,
      email,
      name: `Parent ${i}`,
      locale: (['en', 'da', 'sv'] as const)[i % 3] ?? 'en',
      passwordHash,
      restricted: false,
      marketingOptIn: i % 4 === 0,
      createdAt: created,
      passwordChangedAt: created,
      status: 'active',
      closedAt: null,
      purgeBy: null,
    });
    const token = randomBytes(32).toString('base64url');
    await store.sessions.insert({
      id: randomUUID(),
      accountId,
      tokenHash: tokenHash(token),
      createdAt: now - DAY_MS,
      expiresAt: now + 30 * DAY_MS,
      revokedAt: null,
    });
    await store.sessions.insert({
      id: randomUUID(),
      accountId,
      tokenHash: tokenHash(randomBytes(32).toString('base64url')),
      createdAt: created,
      expiresAt: created + 30 * DAY_MS,
      revokedAt: created + DAY_MS,
    });
    await store.consents.insert({
      id: randomUUID(),
      accountId,
      policyVersion,
      at: created,
      method: 'explicit_checkbox',
      verifiedAt: created + MINUTE_MS,
      verifiedBy: 'card_payment',
    });
    await audit.record(`account:${accountId}`, 'account.signup', accountId);
    await audit.record(`account:${accountId}`, 'consent.given', accountId, { version: policyVersion });
    await audit.record('system', 'consent.verified', accountId, { method: 'card_payment' });
    rows += 7; // account, 2 sessions, consent, 3 audit

    const profileIds: string[] = [];
    for (let p = 0; p < 1 + (i % 2); p++) {
      const id = randomUUID();
      profileIds.push(id);
      await store.profiles.insert({
        id,
        accountId,
        name: `Child ${i}-${p}`,
        age: 3 + ((i + p) % 10),
        wishList: ['a red bicycle', 'a puppy', 'snow on Christmas Eve'],
        behaviorNotes: 'Has been kind to a little brother and helps set the table most days.',
        preferences: 'Loves reindeer, dislikes loud noises.',
        language: (['en', 'da', 'sv'] as const)[i % 3] ?? 'en',
        photoId: null,
        dailyMinutes: null,
        quietHours: null,
        createdAt: created,
        updatedAt: created,
      });
      rows++;
    }

    const callSeconds: number[] = Array.from({ length: callsPer }, (_, c) => 120 + ((i * 31 + c * 17) % 600));
    const used = callSeconds.reduce((a, b) => a + b, 0);
    // Enough packs to cover the season's calls plus the spare.
    const packs = Math.max(1, Math.ceil((used + spare) / 1800));
    for (let k = 0; k < packs; k++) {
      const paymentId = randomUUID();
      const session = `cs_bench_${i}_${k}`;
      const paidAt = created + k * DAY_MS;
      await store.payments.insert({
        id: paymentId,
        accountId,
        provider: 'dev',
        checkoutSessionId: session,
        paymentIntentId: `pi_bench_${i}_${k}`,
        chargeId: null,
        packId: 'pack-30',
        seconds: 1800,
        amount: 9900,
        currency: 'dkk',
        status: 'paid',
        amountRefunded: 0,
        createdAt: paidAt,
        paidAt,
      });
      await store.webhookEvents.insert({
        id: `evt_bench_${i}_${k}`,
        type: 'checkout.session.completed',
        receivedAt: paidAt,
      });
      await ledger(store, accountId, 'purchase', 1800, `purchase:${session}`, null, paidAt);
      rows += 3;
    }

    for (let c = 0; c < callsPer; c++) {
      const callId = randomUUID();
      const startedAt = at(i * callsPer + c) + 10 * DAY_MS;
      const seconds = callSeconds[c] ?? 0;
      const held = seconds + 300;
      const call: CallRow = {
        id: callId,
        accountId,
        profileId: profileIds[c % profileIds.length] ?? null,
        provider: 'simulated',
        providerCallId: `sim_${callId}`,
        heldSeconds: held,
        startedAt,
        meteredSeconds: seconds,
        checkpointAt: startedAt + seconds * 1000,
        endedAt: startedAt + seconds * 1000,
        reason: 'hangup',
        settledAt: startedAt + seconds * 1000,
        ownerId: null,
        leaseUntil: 0,
        limitReason: null,
        endRequest: null,
        window: null,
      };
      await store.calls.insert(call);
      await ledger(store, accountId, 'hold', held, `hold:${callId}`, callId, startedAt);
      await ledger(store, accountId, 'capture', seconds, `capture:${callId}`, callId, call.endedAt ?? startedAt);
      await ledger(store, accountId, 'release', held - seconds, `release:${callId}`, callId, call.endedAt ?? startedAt);
      rows += 4;
    }

    for (let l = 0; l < loginsPer; l++) {
      await store.logins.insert({
        id: randomUUID(),
        accountId,
        at: at(i * loginsPer + l),
        success: l % 7 !== 3,
        uaFamily: l % 2 ? 'Chrome' : 'Firefox',
      });
      rows++;
    }
    families.push({ accountId, email, token, profileIds });
  }
  await store.close();
  return { dataDir, dataKey, password, families, rows };
}

async function ledger(
  store: LowdbStore,
  accountId: string,
  kind: LedgerRow['kind'],
  seconds: number,
  ref: string,
  callId: string | null,
  at: number,
) {
  await store.ledger.insert({ id: randomUUID(), accountId, kind, seconds, ref, callId, at, note: null });
}

const cache = new Map<number, Promise<Seeded>>();
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** One seeded store per size per bench run: seeding 10,000 families takes a while. Use copies. */
export function sharedSeed(families: number): Promise<Seeded> {
  let p = cache.get(families);
  if (!p) {
    p = seedStore({ families }).then((s) => {
      made.push(s.dataDir);
      return s;
    });
    cache.set(families, p);
  }
  return p;
}

/** A private copy of a seeded data directory, removed when the bench exits. */
export function copySeed(seed: Seeded): string {
  const dir = mkdtempSync(join(tmpdir(), 'callsanta-bench-copy-'));
  cpSync(seed.dataDir, dir, { recursive: true });
  made.push(dir);
  return dir;
}
