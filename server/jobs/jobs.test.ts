import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/clock.js';
import { DAY_MS } from '../../shared/units.js';
import { openStore } from '../store/lowdb-store.js';
import { openPgStore } from '../store/pg-store.js';
import type { OutboxRow, Store } from '../store/types.js';
import { freshDatabase } from '../../test/support/postgres.js';
import { startTestServer, tempDataDir, type TestServer } from '../../test/support/server.js';
import { scriptedFamily, expectStatus, admin } from '../privacy/test-helpers.js';
import { MailService, type MailTransport, type OutgoingMail } from '../mail/service.js';
import { RetentionScheduler } from '../retention/scheduler.js';
import { emptyCounts, type SweepResult } from '../retention/service.js';
import { retentionOn } from '../retention/test-helpers.js';
import { JOBS, JobsService } from './service.js';

const DATA_KEY = randomBytes(32).toString('hex');
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function lowdb(): Promise<Store> {
  const dataDir = tempDataDir('callsanta-jobs-');
  const store = await openStore({ dataDir, dataKey: DATA_KEY, commitDelayMs: 2 });
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.push(() => store.close());
  return store;
}

/** Two stores on one database, as two server processes would open it. */
async function twoPgStores(): Promise<[Store, Store, string]> {
  const url = await freshDatabase('jobs');
  const a = await openPgStore({ url, dataKey: DATA_KEY, poolSize: 3 });
  cleanup.push(() => a.close());
  const b = await openPgStore({ url, dataKey: DATA_KEY, poolSize: 3 });
  cleanup.push(() => b.close());
  return [a, b, url];
}

/** A promise and the function that settles it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('runExclusive on one store (both kinds)', () => {
  it.each([
    ['lowdb', lowdb],
    ['postgres', async () => (await twoPgStores())[0]],
  ] as const)('%s: a second caller is skipped while the job runs, or waits for it with wait', async (_kind, open) => {
    const jobs = new JobsService({ store: await open() });
    const release = gate();
    const order: string[] = [];
    const first = jobs.runExclusive(JOBS.retentionSweep, async () => {
      order.push('first:start');
      await release.opened;
      order.push('first:end');
      return 1;
    });
    await expect.poll(() => order).toContain('first:start');
    expect(await jobs.runExclusive(JOBS.retentionSweep, async () => 2)).toEqual({ ran: false });
    // Another job is not held up by this one.
    expect(await jobs.runExclusive(JOBS.outboxDelivery, async () => 3)).toEqual({ ran: true, value: 3 });
    const waiting = jobs.runExclusive(
      JOBS.retentionSweep,
      async () => {
        order.push('waiter');
        return 4;
      },
      { wait: true },
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['first:start']);
    release.open();
    expect(await first).toEqual({ ran: true, value: 1 });
    expect(await waiting).toEqual({ ran: true, value: 4 });
    expect(order).toEqual(['first:start', 'first:end', 'waiter']);
    // A job that throws lets the next one in.
    await expect(
      jobs.runExclusive(JOBS.retentionSweep, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await jobs.runExclusive(JOBS.retentionSweep, async () => 5)).toEqual({ ran: true, value: 5 });
  });
});

describe('jobs across processes on one PostgreSQL', () => {
  it('two stores on one database: the job runs on one of them at a time; a waiter runs once the holder is done', async () => {
    const [a, b] = await twoPgStores();
    const onA = new JobsService({ store: a });
    const onB = new JobsService({ store: b });
    const release = gate();
    let started = false;
    const held = onA.runExclusive(JOBS.outboxDelivery, async () => {
      started = true;
      await release.opened;
    });
    await expect.poll(() => started).toBe(true);
    expect(await onB.runExclusive(JOBS.outboxDelivery, async () => 'b')).toEqual({ ran: false });
    const waiter = onB.runExclusive(JOBS.outboxDelivery, async () => 'b', { wait: true });
    release.open();
    await held;
    expect(await waiter).toEqual({ ran: true, value: 'b' });
  });

  it('a process that dies (its lock connection gone) loses the lock at once: its job is told, and another process takes over', async () => {
    const [a, b, url] = await twoPgStores();
    const onA = new JobsService({ store: a });
    const onB = new JobsService({ store: b });
    const release = gate();
    let signal: AbortSignal | null = null;
    const held = onA.runExclusive(JOBS.retentionSweep, async (job) => {
      signal = job.signal;
      await release.opened;
      return job.signal.aborted;
    });
    await expect.poll(() => signal).not.toBeNull();
    expect(await onB.runExclusive(JOBS.retentionSweep, async () => 'b')).toEqual({ ran: false });

    // What a kill -9 of process A does to its sessions: PostgreSQL ends them.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()",
      );
    } finally {
      await admin.end();
    }
    await expect.poll(() => signal?.aborted).toBe(true);
    await expect.poll(() => onB.runExclusive(JOBS.retentionSweep, async () => 'b')).toEqual({ ran: true, value: 'b' });
    release.open();
    expect(await held).toEqual({ ran: true, value: true });
    // A's store makes a new lock connection for its next job.
    expect(await onA.runExclusive(JOBS.retentionSweep, async () => 'a again')).toEqual({
      ran: true,
      value: 'a again',
    });
  });

  it('retention: two schedulers on two processes never sweep at the same time; runNow on either waits and runs', async () => {
    const [a, b] = await twoPgStores();
    let active = 0;
    let mostAtOnce = 0;
    let sweeps = 0;
    const sweep = async (): Promise<SweepResult> => {
      active++;
      sweeps++;
      mostAtOnce = Math.max(mostAtOnce, active);
      await new Promise((r) => setTimeout(r, 20));
      active--;
      return { startedAt: 0, finishedAt: 0, counts: emptyCounts() };
    };
    const clock = new FakeClock();
    const schedulers = [a, b].map(
      (store) =>
        new RetentionScheduler({ service: { sweep }, jobs: new JobsService({ store }), clock, intervalMs: DAY_MS }),
    );
    for (const s of schedulers) cleanup.push(() => s.stop());
    await Promise.all(schedulers.flatMap((s) => [s.runNow(), s.runNow(), s.runNow()]));
    expect(sweeps).toBe(6);
    expect(mostAtOnce).toBe(1);
    // The timers: whichever process fires while another sweeps skips its turn, and nothing overlaps.
    for (const s of schedulers) s.start();
    for (let i = 0; i < 5; i++) {
      clock.advance(DAY_MS);
      await Promise.all(schedulers.map((s) => s.idle()));
    }
    expect(mostAtOnce).toBe(1);
    expect(sweeps).toBeGreaterThan(6);
  });

  it('the outbox: two processes delivering at once send each mail exactly once', async () => {
    const [a, b] = await twoPgStores();
    const clock = new FakeClock();
    const sent: string[] = [];
    const transport: MailTransport = {
      async send(m: OutgoingMail) {
        await new Promise((r) => setTimeout(r, 2));
        sent.push(m.subject);
      },
    };
    const mails = [a, b].map(
      (store) =>
        new MailService({
          store,
          clock,
          // Every mail here is essential and belongs to no account: accounts are never asked.
          accounts: { get: async () => undefined },
          transport,
          jobs: new JobsService({ store }),
          options: { from: 'santa@test' },
        }),
    );
    for (const m of mails) cleanup.push(() => m.idle());
    for (let i = 0; i < 30; i++) {
      const row: OutboxRow = {
        id: `mail-${i}`,
        accountId: null,
        to: `p${i}@example.test`,
        kind: 'essential',
        template: 'notice',
        locale: 'en',
        subject: `mail ${i}`,
        body: 'hello',
        createdAt: clock.now(),
        sentAt: null,
        attempts: 0,
      };
      await a.outbox.insert(row);
    }
    await Promise.all(mails.flatMap((m) => [m.deliverPending(), m.deliverPending()]));
    // The process that found the other sending looks again a moment later, and finds nothing left.
    clock.advance(10_000);
    await Promise.all(mails.map((m) => m.idle()));
    for (const m of mails) m.stop();
    expect(sent.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `mail ${i}`).sort());
    for (let i = 0; i < 30; i++) expect(await b.outbox.get(`mail-${i}`)).toMatchObject({ attempts: 1 });
  });
});

describe('a sweep stopped half-way', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a sweep whose job lock is lost stops at its next item, and the next run finishes the work, counting nothing twice', async () => {
    server = await startTestServer({ env: { RETENTION_INTERVAL_MS: String(10 * 365 * DAY_MS) } });
    const families = [];
    for (let i = 0; i < 4; i++) families.push(await scriptedFamily(server));
    for (const f of families) expectStatus(await server.api.delete('/api/me', { password: f.password }, f.token), 202);
    server.clock.advance(31 * DAY_MS);

    const svc = server.app.services;
    const lost = new AbortController();
    let items = 0;
    const interrupted = retentionOn(server, {
      // The lock goes after the second purge, as when the database connection holding it breaks.
      onItem: () => ++items === 2 && lost.abort(new Error('lock lost')),
    });
    await expect(interrupted.sweep(lost.signal)).rejects.toThrow('lock lost');
    const partial = (await svc.audit.all()).find((e) => e.action === 'retention.sweep_failed');
    expect(partial?.details.accountsPurged).toBe(2);
    expect(items).toBe(2);

    const res = await admin(server.api).post('/admin/retention/run');
    expectStatus(res, 200);
    expect(res.body.counts.accountsPurged).toBe(2);
    for (const f of families) expect(await server.app.store.accounts.get(f.accountId)).toBeUndefined();
    const audit = await svc.audit.all();
    for (const f of families)
      expect(audit.filter((e) => e.action === 'account.purged' && e.subject === f.accountId)).toHaveLength(1);
    expect((await admin(server.api).get('/admin/audit/verify')).body.ok).toBe(true);
  });
});
