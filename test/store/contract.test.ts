import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { cpSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../server/store/lowdb-store.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { StoreConflictError } from '../../server/store/errors.js';
import type { CallRow, LedgerRow, ProfileRow, Store } from '../../server/store/types.js';
import { accountRow } from '../../server/store/test-support.js';
import { tempDataDir } from '../support/server.js';
import { freshDatabase } from '../support/postgres.js';
import { testCallRow } from '../support/call-rows.js';

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
  return testCallRow({
    id: randomBytes(8).toString('hex'),
    accountId,
    profileId,
    heldSeconds: 300,
    startedAt: 1,
    ...over,
  });
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

  it('findUpTo: rows whose field is at most the bound (never a null), by field then id, in batches that see each once', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    const p = await s.profiles.insert(profileRow(acc.id));
    // endedAt 0..9 twice each (ties broken by id), some above the bound, some open (null).
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `c${String(29 - i).padStart(2, '0')}`;
      ids.push(id);
      await s.calls.insert(callRow(acc.id, p.id, { id, endedAt: i < 20 ? i % 10 : i < 25 ? 100 + i : null }));
    }
    const expected = (await Promise.all(ids.map((id) => s.calls.get(id))))
      .filter((c): c is CallRow => c !== undefined && c.endedAt !== null && c.endedAt <= 9)
      .sort((a, b) => a.endedAt! - b.endedAt! || (a.id < b.id ? -1 : 1))
      .map((c) => c.id);
    expect(expected).toHaveLength(20);
    expect((await s.calls.findUpTo('endedAt', 9)).map((c) => c.id)).toEqual(expected);
    expect((await s.calls.findUpTo('endedAt', 0)).map((c) => c.endedAt)).toEqual([0, 0]);
    expect(await s.calls.findUpTo('endedAt', -1)).toEqual([]);

    // Batches of 7 from where the last one ended; deleting what a batch returned (a sweep) skips nothing.
    const seen: string[] = [];
    let after: CallRow | undefined;
    for (;;) {
      const batch = await s.calls.findUpTo('endedAt', 9, { limit: 7, ...(after ? { after } : {}) });
      if (!batch.length) break;
      expect(batch.length).toBeLessThanOrEqual(7);
      seen.push(...batch.map((c) => c.id));
      for (const c of batch.filter((_, i) => i % 2 === 0)) await s.calls.remove(c.id);
      after = batch[batch.length - 1];
    }
    expect(seen).toEqual(expected);
    // Copies: changing a result changes nothing stored.
    const [first] = await s.calls.findUpTo('endedAt', 9, { limit: 1 });
    first!.meteredSeconds = 999;
    expect((await s.calls.get(first!.id))?.meteredSeconds).toBe(0);
    // A field that moves out of the range leaves it; one that moves in joins it.
    await s.calls.update(first!.id, { endedAt: 50 });
    await s.calls.update('c00', { endedAt: 3 });
    const now = (await s.calls.findUpTo('endedAt', 9)).map((c) => c.id);
    expect(now).not.toContain(first!.id);
    expect(now).toContain('c00');
  });

  it('findUpTo over the swept fields of every kind of row: revoked sessions, used resets, old mail, old ledger entries', async () => {
    const s = await kind.open(await kind.place());
    const acc = await s.accounts.insert(accountRow());
    const session = (id: string, revokedAt: number | null) =>
      s.sessions.insert({ id, accountId: acc.id, tokenHash: `h-${id}`, createdAt: 1, expiresAt: 1000, revokedAt });
    await session('s1', null);
    await session('s2', 5);
    await session('s3', 50);
    expect((await s.sessions.findUpTo('revokedAt', 10)).map((r) => r.id)).toEqual(['s2']);
    expect((await s.sessions.findUpTo('expiresAt', 1000)).map((r) => r.id)).toEqual(['s1', 's2', 's3']);
    await s.passwordResets.insert({
      id: 'r1',
      accountId: acc.id,
      tokenHash: 't1',
      createdAt: 1,
      expiresAt: 99,
      usedAt: 7,
    });
    await s.passwordResets.insert({
      id: 'r2',
      accountId: acc.id,
      tokenHash: 't2',
      createdAt: 1,
      expiresAt: 99,
      usedAt: null,
    });
    expect((await s.passwordResets.findUpTo('usedAt', 10)).map((r) => r.id)).toEqual(['r1']);
    await s.ledger.insert(ledgerRow(acc.id, { id: 'e1', at: 3 }));
    await s.ledger.insert(ledgerRow(acc.id, { id: 'e2', at: 30 }));
    expect((await s.ledger.findUpTo('at', 10)).map((r) => r.id)).toEqual(['e1']);
    const mail = (id: string, createdAt: number) =>
      s.outbox.insert({
        id,
        accountId: acc.id,
        to: 'a@example.test',
        kind: 'essential',
        template: 't',
        locale: 'en',
        subject: 's',
        body: 'b',
        createdAt,
        sentAt: null,
        attempts: 0,
      });
    await mail('m1', 40);
    await mail('m2', 4);
    expect((await s.outbox.findUpTo('createdAt', 10)).map((r) => r.id)).toEqual(['m2']);
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

  it('a data key destroyed by one process is cleared from the files by the next compaction on any process, also after the first one died', async () => {
    const url = await freshDatabase('shred');
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    try {
      const filenode = async () =>
        (await sql.query<{ f: string }>("SELECT pg_relation_filenode('data_keys')::text AS f")).rows[0]!.f;
      const pending = async () => Number((await sql.query('SELECT count(*) AS n FROM pending_shreds')).rows[0].n);
      // Process A destroys a key and would compact only much later (as if it died right after).
      const a = track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2, shredCompactMs: 3_600_000 }));
      const b = track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2, shredCompactMs: 3_600_000 }));
      const acc = await a.accounts.insert(accountRow());
      await a.profiles.insert(profileRow(acc.id));
      expect(await a.accounts.remove(acc.id)).toBe(true);
      expect(await pending()).toBe(1);
      const before = await filenode();
      // VACUUM FULL writes data_keys into a new file: the old one, with the key's bytes, is unlinked.
      await b.compact();
      expect(await filenode()).not.toBe(before);
      expect(await pending()).toBe(0);
      // Nothing pending: a compaction has nothing to rewrite.
      const quiet = await filenode();
      await b.compact();
      expect(await filenode()).toBe(quiet);

      // A destroys another key and dies before compacting; a process that opens the store clears it by itself.
      const acc2 = await a.accounts.insert(accountRow());
      expect(await a.accounts.remove(acc2.id)).toBe(true);
      const left = await filenode();
      track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2, shredCompactMs: 10 }));
      await expect.poll(filenode, { timeout: 10_000 }).not.toBe(left);
      await expect.poll(pending, { timeout: 10_000 }).toBe(0);
    } finally {
      await sql.end();
    }
  });

  it('columns a migration added are filled in from the rows written before it, once, at the next start', async () => {
    const url = await freshDatabase('backfill');
    const first = track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2 }));
    const acc = await first.accounts.insert(accountRow());
    await first.sessions.insert({
      id: 'revoked',
      accountId: acc.id,
      tokenHash: 'h',
      createdAt: 1,
      expiresAt: 1000,
      revokedAt: 5,
    });
    await first.close();
    // As the rows of a database from before migration 002: the new columns are empty.
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    try {
      await sql.query('UPDATE sessions SET revoked_at = NULL');
      await sql.query("DELETE FROM store_info WHERE name LIKE 'backfill:%'");
      const before = track(await openPgStore({ url, dataKey: DATA_KEY, poolSize: 2 }));
      expect((await before.sessions.findUpTo('revokedAt', 10)).map((r) => r.id)).toEqual(['revoked']);
      const markers = await sql.query("SELECT name FROM store_info WHERE name LIKE 'backfill:%' ORDER BY name");
      expect(markers.rows.map((r) => r.name)).toContain('backfill:sessions.revoked_at');
    } finally {
      await sql.end();
    }
  });

  it('refuses another DATA_KEY with a clear message', async () => {
    const url = await freshDatabase('key');
    await track(await openPgStore({ url, dataKey: DATA_KEY })).close();
    await expect(openPgStore({ url, dataKey: randomBytes(32).toString('hex') })).rejects.toThrow(
      /DATA_KEY does not open this database/,
    );
  });
});
