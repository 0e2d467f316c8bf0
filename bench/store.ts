import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type LowdbStore } from '../server/store/lowdb-store.js';
import { openPgStore } from '../server/store/pg-store.js';
import type { Store } from '../server/store/types.js';
import { atomicWrite } from '../server/store/encrypted-file.js';
import { decrypt, encrypt } from '../server/store/crypto.js';
import { creditState } from '../server/credits/ledger-math.js';
import { atLeast, atMost, info, type Row } from './lib/report.js';
import { copySeed, sharedSeed, type Seeded } from './lib/seed.js';
import { copySeedIntoPostgres } from './lib/pg.js';
import { median, nowMs, sleep } from './lib/stats.js';

export const name = 'store';

const FAMILIES = Number(process.env.BENCH_FAMILIES ?? 10_000);
const WRITE_SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 10);
/** BENCH_POSTGRES=0 leaves out the PostgreSQL rows (and the cluster they need). */
const POSTGRES = process.env.BENCH_POSTGRES !== '0';

/**
 * The embedded store at season's end: 10,000 families with their history, encrypted lowdb.
 * Durable logical writes per second with group commit, event-loop delay under a mixed
 * read/write load, the cost of encryption on a write, and start-up load time.
 */
export async function run(log: (line: string) => void): Promise<Row[]> {
  const t0 = nowMs();
  const shared = await sharedSeed(FAMILIES);
  const seeded: Seeded = { ...shared, dataDir: copySeed(shared) };
  const disk = dirBytes(seeded.dataDir);
  log(
    `store: ${FAMILIES} families, ${seeded.rows} rows, ${(disk / 2 ** 20).toFixed(1)} MiB on disk (seeded or copied in ${((nowMs() - t0) / 1000).toFixed(1)} s)`,
  );
  try {
    const rows: Row[] = [];
    const loads: number[] = [];
    let store: LowdbStore | null = null;
    for (let i = 0; i < 3; i++) {
      const s = nowMs();
      store = await openStore({ dataDir: seeded.dataDir, dataKey: seeded.dataKey });
      loads.push(nowMs() - s);
      if (i < 2) await store.close();
    }
    if (!store) throw new Error('store did not open');
    rows.push(
      info(
        `store start-up load (${FAMILIES} families, ${seeded.rows} rows, ${(disk / 2 ** 20).toFixed(0)} MiB)`,
        median(loads),
        'ms',
        `median of ${loads.length} opens`,
      ),
    );

    const writes = await durableWrites(store, seeded, WRITE_SECONDS * 1000, 64);
    rows.push(
      atLeast(
        'store logical writes/s (durable, group commit, 64 writers)',
        writes.perSecond,
        'writes/s',
        200,
        `${writes.done} writes, ${writes.flushes} physical commits, mean ${(writes.done / Math.max(1, writes.flushes)).toFixed(1)} writes per commit`,
      ),
    );

    const mixed = await mixedLoad(store, seeded, WRITE_SECONDS * 1000);
    rows.push(
      atMost(
        'store p99 event-loop delay (mixed read/write load)',
        mixed.p99,
        'ms',
        50,
        `max ${mixed.max.toFixed(1)} ms; ${mixed.reads} reads, ${mixed.writes} durable writes in ${WRITE_SECONDS} s`,
      ),
    );
    await store.close();

    const enc = await encryptCost(seeded);
    rows.push(
      atMost(
        'store encrypt+write / plain write of the same bytes',
        enc.ratio,
        'ratio',
        1.5,
        `${(enc.bytes / 2 ** 20).toFixed(2)} MiB shard; median ${enc.encrypted.toFixed(2)} ms vs ${enc.plain.toFixed(2)} ms (both temp file + fsync + rename)`,
      ),
    );
    if (POSTGRES) rows.push(...(await onPostgres(shared, log)));
    return rows;
  } finally {
    rmSync(seeded.dataDir, { recursive: true, force: true });
  }
}

/**
 * The same season moved onto PostgreSQL with the copy command's own function (its rows/s is a
 * figure of its own), then the same durable writes and the same mixed load as on lowdb, through
 * the same Store interface, in the same process.
 */
async function onPostgres(seed: Seeded, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  log(`store (PostgreSQL): copying the ${FAMILIES}-family season into a new database ...`);
  const t = nowMs();
  const { url, report } = await copySeedIntoPostgres(seed, 'bench_store');
  const total = (nowMs() - t) / 1000;
  rows.push(
    info(
      `store:copy rows/s into PostgreSQL (${FAMILIES} families, ${report.rows} rows)`,
      report.rows / (report.copyMs / 1000),
      'rows/s',
      `${(report.copyMs / 1000).toFixed(1)} s for the copy (${report.photos} photo files, rows in one transaction); ${total.toFixed(1)} s with the final check (counts, every row read back and compared, audit chain, balances)`,
    ),
  );
  log(
    `store (PostgreSQL): ${report.rows} rows copied in ${(report.copyMs / 1000).toFixed(1)} s, checked in ${(total - report.copyMs / 1000).toFixed(1)} s`,
  );
  const store = await openPgStore({ url, dataKey: seed.dataKey });
  try {
    const writes = await durableWrites(store, seed, WRITE_SECONDS * 1000, 64);
    rows.push(
      atLeast(
        'store logical writes/s, PostgreSQL (durable: committed, synchronous_commit on, 64 writers)',
        writes.perSecond,
        'writes/s',
        200,
        `${writes.done} writes; pool of 10 connections; fsync on`,
      ),
    );
    const mixed = await mixedLoad(store, seed, WRITE_SECONDS * 1000);
    rows.push(
      atMost(
        'store p99 event-loop delay, PostgreSQL (mixed read/write load)',
        mixed.p99,
        'ms',
        50,
        `max ${mixed.max.toFixed(1)} ms; ${mixed.reads} reads, ${mixed.writes} durable writes in ${WRITE_SECONDS} s`,
      ),
    );
  } finally {
    await store.close();
  }
  return rows;
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + (f.endsWith('.db') ? statSync(join(dir, f)).size : 0), 0);
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

/** One logical write, as a request handler would do it, across the file groups. */
async function logicalWrite(store: Store, seeded: Seeded, i: number): Promise<void> {
  const fam = pick(seeded.families);
  const now = Date.now();
  switch (i % 4) {
    case 0: // a purchase credited
      await store.ledger.insert({
        id: randomUUID(),
        accountId: fam.accountId,
        kind: 'grant',
        seconds: 60,
        ref: `bench:${randomUUID()}`,
        callId: null,
        at: now,
        note: null,
      });
      break;
    case 1: // a profile edit
      await store.profiles.update(fam.profileIds[0] ?? '', { behaviorNotes: `note ${i}`, updatedAt: now });
      break;
    case 2: // a sign-in recorded
      await store.logins.insert({
        id: randomUUID(),
        accountId: fam.accountId,
        at: now,
        success: true,
        uaFamily: 'Chrome',
      });
      break;
    default: // a session opened
      await store.sessions.insert({
        id: randomUUID(),
        accountId: fam.accountId,
        tokenHash: randomUUID(),
        createdAt: now,
        expiresAt: now + 1000,
        revokedAt: null,
      });
  }
}

async function durableWrites(store: Store, seeded: Seeded, ms: number, writers: number) {
  let done = 0;
  let flushes = 0;
  let lastFlush = store.status().lastFlushAt;
  const until = nowMs() + ms;
  const start = nowMs();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let i = w;
      while (nowMs() < until) {
        await logicalWrite(store, seeded, i);
        await store.flush();
        const f = store.status().lastFlushAt;
        if (f !== lastFlush) {
          lastFlush = f;
          flushes++;
        }
        done++;
        i += writers;
      }
    }),
  );
  return { done, flushes, perSecond: done / ((nowMs() - start) / 1000) };
}

/** Reads the way request handlers do (credit state, profile lists) while durable writes run. */
async function mixedLoad(store: Store, seeded: Seeded, ms: number) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  await sleep(50);
  h.enable();
  let reads = 0;
  let writes = 0;
  const until = nowMs() + ms;
  const readers = Array.from({ length: 16 }, async () => {
    while (nowMs() < until) {
      const fam = pick(seeded.families);
      creditState(await store.ledger.findBy('accountId', fam.accountId));
      await store.profiles.findBy('accountId', fam.accountId);
      await store.accounts.get(fam.accountId);
      reads += 3;
      await new Promise<void>((r) => setImmediate(r));
    }
  });
  const writers = Array.from({ length: 16 }, async (_, w) => {
    let i = w;
    while (nowMs() < until) {
      await logicalWrite(store, seeded, i);
      await store.flush();
      writes++;
      i += 16;
    }
  });
  await Promise.all([...readers, ...writers]);
  h.disable();
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, reads, writes };
}

/** The biggest ledger shard, written sealed and plain, alternating, with the same atomic procedure. */
async function encryptCost(seeded: Seeded) {
  const key = Buffer.from(seeded.dataKey, 'hex');
  const files = readdirSync(seeded.dataDir).filter((f) => f.startsWith('ledger-') && f.endsWith('.db'));
  const biggest = files
    .map((f) => ({ f, size: statSync(join(seeded.dataDir, f)).size }))
    .sort((a, b) => b.size - a.size)[0];
  if (!biggest) throw new Error('no ledger shard');
  const plain = decrypt(key, readFileSync(join(seeded.dataDir, biggest.f)), biggest.f);
  const sealedPath = join(seeded.dataDir, 'bench-sealed.db');
  const plainPath = join(seeded.dataDir, 'bench-plain.db');
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 40; i++) {
    let s = nowMs();
    await atomicWrite(sealedPath, encrypt(key, plain, 'bench-sealed.db'));
    a.push(nowMs() - s);
    s = nowMs();
    await atomicWrite(plainPath, plain);
    b.push(nowMs() - s);
  }
  return { ratio: median(a) / median(b), encrypted: median(a), plain: median(b), bytes: plain.length };
}
