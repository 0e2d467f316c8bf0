import { randomBytes } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/lowdb-store.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { StoreConflictError } from '../../server/store/errors.js';
import type { CallRow, LedgerRow, ProfileRow, Store } from '../../server/store/types.js';
import { accountRow } from '../../server/store/test-support.js';
import { tempDataDir } from '../support/server.js';
import { freshDatabase } from '../support/postgres.js';

const DATA_KEY = randomBytes(32).toString('hex');

/** Where a store keeps its data: a lowdb directory or a PostgreSQL database, opened as often as a test likes. */
interface Kind {
  name: 'lowdb' | 'postgres';
  /** A new, empty place. */
  place(): Promise<string>;
  open(place: string): Promise<Store>;
  /** What a crash right now would leave, opened: a copy of the files (lowdb), or a second store on the same database. */
  afterCrash(place: string): Promise<Store>;
}

const opened: Store[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const track = (s: Store): Store => {
  opened.push(s);
  return s;
};

const KINDS: Kind[] = [
  {
    name: 'lowdb',
    place: async () => {
      const d = tempDataDir('callsanta-contract-');
      dirs.push(d);
      return d;
    },
    open: async (dataDir) => track(await openStore({ dataDir, dataKey: DATA_KEY, commitDelayMs: 5 })),
    afterCrash: async (dataDir) => {
      const copy = tempDataDir('callsanta-contract-crash-');
      dirs.push(copy);
      cpSync(dataDir, copy, { recursive: true, filter: (src) => !src.endsWith('/LOCK') });
      return track(await openStore({ dataDir: copy, dataKey: DATA_KEY }));
    },
  },
  {
    name: 'postgres',
    place: () => freshDatabase('contract'),
    open: async (url) => track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 4 })),
    afterCrash: async (url) => track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2 })),
  },
];

function ledgerRow(accountId: string, over: Partial<LedgerRow> = {}): LedgerRow {
  return {
    id: randomBytes(8).toString('hex'),
    accountId,
    kind: 'purchase',
    seconds: 600,
    ref: `ref-${randomBytes(6).toString('hex')}`,
    callId: null,
    at: 1,
    note: null,
    ...over,
  };
}

function profileRow(accountId: string, over: Partial<ProfileRow> = {}): ProfileRow {
  return {
    id: randomBytes(8).toString('hex'),
    accountId,
    name: 'Elsa',
    age: 6,
    wishList: ['a sled', 'a red scarf'],
    behaviorNotes: 'kind to her brother',
    preferences: 'likes reindeer',
    language: 'en',
    photoId: null,
    dailyMinutes: null,
    quietHours: { from: '19:00', to: '07:00' },
    createdAt: 1,
    updatedAt: 1,
    ...over,
  };
}

function callRow(accountId: string, profileId: string, over: Partial<CallRow> = {}): CallRow {
  return {
    id: randomBytes(8).toString('hex'),
    accountId,
    profileId,
    provider: 'simulated',
    providerCallId: null,
    heldSeconds: 300,
    startedAt: 1,
    meteredSeconds: 0,
    checkpointAt: 1,
    endedAt: null,
    reason: null,
    settledAt: null,
    ownerId: null,
    leaseUntil: 0,
    limitReason: null,
    endRequest: null,
    window: null,
    ...over,
  };
}

/** What a credit hold checks: the account's balance in seconds stays at or above zero. */
const balance = (rows: LedgerRow[]) => rows.reduce((s, r) => s + (r.kind === 'purchase' ? r.seconds : -r.seconds), 0);

describe.each(KINDS)('the Store contract on $name', (kind) => {
  it('keeps what was written across a close and reopen, every table and the photo bytes', async () => {
    const place = await kind.place();
    const a = await kind.open(place);
    const acc = accountRow();
    const prof = profileRow(acc.id);
    await a.accounts.insert(acc);
    await a.profiles.insert(prof);
    await a.photoFiles.put('photo-1', Buffer.from('jpeg bytes'));
    await a.meta.insert({ id: 'k', value: { nested: [1, 2] }, updatedAt: 3 });
    await a.flush();
    await a.close();
    const b = await kind.open(place);
    expect(await b.accounts.get(acc.id)).toEqual(acc);
    expect(await b.profiles.findBy('accountId', acc.id)).toEqual([prof]);
    expect(await b.photoFiles.get('photo-1')).toEqual(Buffer.from('jpeg bytes'));
    expect(await b.photoFiles.list()).toEqual(['photo-1']);
    expect((await b.meta.get('k'))?.value).toEqual({ nested: [1, 2] });
    expect(b.status()).toMatchObject({ kind: kind.name, ok: true });
  });

  it('refuses a duplicate id or unique field with StoreConflictError naming the field, and changes nothing', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    await expect(s.accounts.insert(accountRow({ id: acc.id }))).rejects.toMatchObject({
      name: 'StoreConflictError',
      field: 'id',
    });
    const dup = s.accounts.insert(accountRow({ email: acc.email }));
    await expect(dup).rejects.toBeInstanceOf(StoreConflictError);
    await expect(dup).rejects.toMatchObject({ table: 'accounts', field: 'email' });
    const other = await s.accounts.insert(accountRow());
    await expect(s.accounts.update(other.id, { email: acc.email })).rejects.toMatchObject({ field: 'email' });
    expect((await s.accounts.get(other.id))?.email).toBe(other.email);
    await s.ledger.insert(ledgerRow(acc.id, { ref: 'r1' }));
    await expect(s.ledger.insert(ledgerRow(acc.id, { ref: 'r1' }))).rejects.toMatchObject({
      table: 'ledger',
      field: 'ref',
    });
    expect(await s.accounts.count()).toBe(2);
    expect(await s.ledger.count()).toBe(1);
    // A removed row frees its unique value.
    expect(await s.accounts.remove(acc.id)).toBe(true);
    expect(await s.accounts.remove(acc.id)).toBe(false);
    await s.accounts.insert(accountRow({ email: acc.email }));
  });

  it('looks rows up by indexed, unique and null values; an update moves them between lookups', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    const p = await s.profiles.insert(profileRow(acc.id));
    const open = await s.calls.insert(callRow(acc.id, p.id));
    const ended = await s.calls.insert(callRow(acc.id, p.id, { endedAt: 50, reason: 'parent' }));
    expect((await s.calls.findBy('endedAt', null)).map((c) => c.id)).toEqual([open.id]);
    expect((await s.calls.findBy('profileId', p.id)).map((c) => c.id)).toEqual([open.id, ended.id]);
    expect((await s.accounts.findOne('email', acc.email))?.id).toBe(acc.id);
    expect(await s.accounts.findOne('email', 'nobody@example.test')).toBeUndefined();
    expect((await s.accounts.findBy('status', 'active')).map((a) => a.id)).toEqual([acc.id]);
    await s.calls.update(open.id, { endedAt: 60 });
    expect(await s.calls.findBy('endedAt', null)).toEqual([]);
    expect((await s.calls.findBy('endedAt', 60)).map((c) => c.id)).toEqual([open.id]);
    await s.accounts.update(acc.id, { status: 'closed', closedAt: 9, purgeBy: 99 });
    expect(await s.accounts.findBy('status', 'active')).toEqual([]);
    expect((await s.accounts.findBy('status', 'closed'))[0]).toMatchObject({ id: acc.id, purgeBy: 99 });
    // A field without an index still answers (by reading the table), as on every store.
    expect((await s.calls.findBy('reason', 'parent')).map((c) => c.id)).toEqual([ended.id]);
  });

  it('insertIf decides atomically: of 20 holds racing for credit that covers 3, exactly 3 land', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    await s.ledger.insert(ledgerRow(acc.id, { seconds: 900 }));
    // As a credit hold does, the condition sets the row's seconds from what it found: the row lands as the condition left it.
    const attempts = Array.from({ length: 20 }, (_, i) => {
      const row = ledgerRow(acc.id, { kind: 'hold', seconds: 0, ref: `hold:${i}` });
      return s.ledger.insertIf(row, { field: 'accountId', value: acc.id }, (rows) => {
        if (balance(rows) < 300) return false;
        row.seconds = 300;
        return true;
      });
    });
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r !== null).map((r) => r!.seconds)).toEqual([300, 300, 300]);
    expect(balance(await s.ledger.findBy('accountId', acc.id))).toBe(0);
    // A refusal writes nothing.
    expect(await s.ledger.count()).toBe(4);
  });

  it('conditional update: only the update whose condition holds on the current row lands', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    const p = await s.profiles.insert(profileRow(acc.id));
    const c = await s.calls.insert(callRow(acc.id, p.id));
    const endOnce = (reason: 'parent' | 'credit_exhausted') =>
      s.calls.update(c.id, { endedAt: 10, reason }, { if: (row) => row.endedAt === null });
    const [first, second] = await Promise.all([endOnce('parent'), endOnce('credit_exhausted')]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect((await s.calls.get(c.id))?.reason).toBe((first ?? second)?.reason);
    expect(await s.calls.update('missing', { endedAt: 1 })).toBeUndefined();
    // Unconditional patches on one row all land (none is lost to another).
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.meta.insert({ id: `m${i}`, value: i, updatedAt: 0 })));
    const bumps = Array.from({ length: 10 }, () =>
      s.calls.get(c.id).then(() => s.calls.update(c.id, { meteredSeconds: 1 })),
    );
    await Promise.all(bumps);
    expect((await s.calls.get(c.id))?.meteredSeconds).toBe(1);
  });

  it('any string is a key: a NUL, quotes or emoji in an id or a looked-up value answer like any other value', async () => {
    const s = await kind.open(await kind.place());
    for (const odd of ['\u0000', 'a\u0000b', 'o\'brien"; DROP TABLE x --', '🎅']) {
      expect(await s.profiles.get(odd)).toBeUndefined();
      expect(await s.profiles.findBy('accountId', odd)).toEqual([]);
      expect(await s.profiles.update(odd, { age: 5 })).toBeUndefined();
      expect(await s.profiles.remove(odd)).toBe(false);
      const row = await s.profiles.insert(profileRow(odd, { id: `${odd}-p` }));
      expect(await s.profiles.get(row.id)).toEqual(row);
      expect(await s.profiles.findBy('accountId', odd)).toEqual([row]);
      expect(await s.profiles.remove(row.id)).toBe(true);
    }
    await expect(s.photoFiles.get('../x')).rejects.toThrow('invalid blob id');
  });

  it('scans every row once, in batches, including rows added before the scan', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    for (let i = 0; i < 25; i++)
      await s.logins.insert({
        id: `l${String(i).padStart(2, '0')}`,
        accountId: acc.id,
        at: i,
        success: true,
        uaFamily: 'Chrome',
      });
    const batches: number[] = [];
    const seen = new Set<string>();
    for await (const batch of s.logins.scan(10)) {
      batches.push(batch.length);
      for (const r of batch) seen.add(r.id);
    }
    expect(batches).toEqual([10, 10, 5]);
    expect(seen.size).toBe(25);
    expect(await s.logins.count()).toBe(25);
  });

  it('rows are copies both ways: changing what was inserted, patched or read changes nothing stored', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    const row = profileRow(acc.id);
    const returned = await s.profiles.insert(row);
    row.wishList.push('changed after insert');
    returned.wishList.push('changed the returned row');
    const patch = { wishList: ['one'] };
    const updated = await s.profiles.update(row.id, patch);
    patch.wishList.push('changed the patch');
    updated!.wishList.push('changed the update result');
    const read = await s.profiles.get(row.id);
    read!.quietHours!.from = '00:00';
    expect(await s.profiles.get(row.id)).toMatchObject({
      wishList: ['one'],
      quietHours: { from: '19:00', to: '07:00' },
    });
  });

  it('flush resolves once every write made before it is durable: what a crash right after it leaves holds all of them', async () => {
    const place = await kind.place();
    const a = await kind.open(place);
    const acc = await a.accounts.insert(accountRow());
    // Writes started and not awaited: flush must still cover them.
    const writes = Array.from({ length: 30 }, (_, i) => a.ledger.insert(ledgerRow(acc.id, { ref: `w${i}` })));
    void writes;
    await a.flush();
    expect(a.status().pendingWrites).toBe(0);
    const b = await kind.afterCrash(place);
    expect(await b.ledger.count()).toBe(30);
  });

  it('compact resolves after a delete, and the store goes on working (reads, writes, reopen)', async () => {
    const place = await kind.place();
    const s = await kind.open(place);
    const acc = await s.accounts.insert(accountRow());
    const p = await s.profiles.insert(profileRow(acc.id));
    await s.photoFiles.put('ph', Buffer.from('x'));
    expect(await s.profiles.remove(p.id)).toBe(true);
    expect(await s.photoFiles.remove('ph')).toBe(true);
    await s.compact();
    await s.compact(); // nothing new removed: still fine
    expect(await s.profiles.get(p.id)).toBeUndefined();
    expect(await s.photoFiles.get('ph')).toBeUndefined();
    const p2 = await s.profiles.insert(profileRow(acc.id));
    await s.close();
    const again = await kind.open(place);
    expect((await again.profiles.findBy('accountId', acc.id)).map((r) => r.id)).toEqual([p2.id]);
  });

  it('atomically: the writes inside land together', async () => {
    const place = await kind.place();
    const s = await kind.open(place);
    await s.atomically(async (t) => {
      await t.audit.insert({
        id: 'a1',
        seq: 1,
        at: 1,
        actor: 'system',
        action: 'x',
        subject: null,
        details: {},
        prevHash: '0',
        hash: 'h1',
      });
      await t.meta.insert({ id: 'audit.head', value: { seq: 1 }, updatedAt: 1 });
    });
    await expect(
      s.atomically(async (t) => {
        await t.audit.insert({
          id: 'a2',
          seq: 1,
          at: 2,
          actor: 'system',
          action: 'x',
          subject: null,
          details: {},
          prevHash: 'h1',
          hash: 'h2',
        });
        await t.meta.update('audit.head', { value: { seq: 2 } });
      }),
    ).rejects.toBeInstanceOf(StoreConflictError);
    await s.close();
    const again = await kind.open(place);
    expect(await again.audit.count()).toBe(1);
    expect((await again.meta.get('audit.head'))?.value).toEqual({ seq: 1 });
  });
});

describe('the PostgreSQL store across connections', () => {
  it("two stores on two connection pools race for one profile's only call slot: exactly one call starts", async () => {
    const url = await freshDatabase('race');
    const one = track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2 }));
    const two = track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2 }));
    const acc = await one.accounts.insert(accountRow());
    const p = await one.profiles.insert(profileRow(acc.id));
    for (let round = 0; round < 10; round++) {
      const start = (s: Store) =>
        s.calls.insertIf(callRow(acc.id, p.id), { field: 'profileId', value: p.id }, (rows) =>
          rows.every((r) => r.endedAt !== null),
        );
      const results = await Promise.all([start(one), start(two), start(one), start(two)]);
      const won = results.filter((r): r is CallRow => r !== null);
      expect(won).toHaveLength(1);
      await one.calls.update(won[0]!.id, { endedAt: round + 1 });
    }
    expect(await two.calls.count()).toBe(10);
  });

  it('refuses another DATA_KEY with a clear message', async () => {
    const url = await freshDatabase('key');
    await track(await openPgStore({ url, dataKey: DATA_KEY })).close();
    await expect(openPgStore({ url, dataKey: randomBytes(32).toString('hex') })).rejects.toThrow(
      /DATA_KEY does not open this database/,
    );
  });
});
