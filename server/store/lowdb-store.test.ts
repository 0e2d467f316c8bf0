import { describe, expect, it } from 'vitest';
import { chmodSync, cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openStore } from './lowdb-store.js';
import { StoreOpenError, StoreConflictError } from './errors.js';
import type { AccountRow, CallRow, LedgerRow, ProfileRow } from './types.js';
import { decrypt, encrypt } from './crypto.js';
import { accountRow, storeFixtures } from './test-support.js';
import { readJournal, journalGeneration } from './journal.js';
import { SHARDS, shardFileName, shardIndex } from './disk-layout.js';
import { decryptDataFiles } from './disk-image.js';
import { SCHEMA_VERSION } from './schema.js';
import { testCallRow } from '../../test/support/call-rows.js';

const { dir, open, track } = storeFixtures('callsanta-store-');
const account = accountRow;

/** The files as a crash at this instant would leave them (no close, no lock), in a new directory. */
function crashCopy(d: string): string {
  const copy = dir();
  cpSync(d, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'), { force: true });
  return copy;
}

function journalOf(d: string): { records: Buffer[] } {
  const name = readdirSync(d).find((n) => journalGeneration(n) !== null)!;
  const key = Buffer.from(readFileSync(join(d, 'data.key'), 'utf8').trim(), 'hex');
  return readJournal(join(d, name), key, journalGeneration(name)!, true);
}

function filesUnder(d: string): string[] {
  return readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('the encrypted lowdb store', () => {
  it('keeps what was written across a close and reopen', async () => {
    const d = dir();
    const s = await open(d);
    const a = account();
    await s.accounts.insert(a);
    await s.close();
    const again = await open(d);
    expect(await again.accounts.get(a.id)).toEqual(a);
    expect(await again.accounts.findOne('email', a.email)).toEqual(a);
  });

  it('holds no plaintext personal data anywhere under DATA_DIR', async () => {
    const d = dir();
    const s = await open(d);
    await s.accounts.insert(account({ email: 'plaintext-canary@example.test', name: 'Canary Person' }));
    await s.photoFiles.put('photo-1', Buffer.from('Canary photo bytes'));
    await s.flush();
    for (const f of filesUnder(d)) {
      const bytes = readFileSync(f);
      expect(bytes.includes('plaintext-canary'), f).toBe(false);
      expect(bytes.includes('Canary'), f).toBe(false);
    }
  });

  it('generates a 0600 key file on first run and reuses it', async () => {
    const d = dir();
    await (await open(d)).close();
    const keyFile = join(d, 'data.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8');
    await (await open(d)).close();
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
  });

  it('refuses a wrong DATA_KEY with a clear message and leaves every file byte-identical', async () => {
    const d = dir();
    const key = randomBytes(32).toString('hex');
    const s = await open(d, key);
    await s.accounts.insert(account());
    await s.close();
    const before = new Map(filesUnder(d).map((f) => [f, readFileSync(f)]));
    await expect(openStore({ dataDir: d, dataKey: randomBytes(32).toString('hex') })).rejects.toThrow(
      /Cannot decrypt .*wrong DATA_KEY/,
    );
    const after = new Map(filesUnder(d).map((f) => [f, readFileSync(f)]));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [f, bytes] of before) expect(after.get(f)?.equals(bytes), f).toBe(true);
    // And the right key still opens it: the failed start took no lock with it.
    await (await open(d, key)).close();
  });

  it('refuses to start on a damaged file and does not overwrite it', async () => {
    const d = dir();
    const s = await open(d);
    await s.accounts.insert(account());
    await s.close();
    const victim = readdirSync(d).find((n) => n.startsWith('people-') && n.endsWith('.db'))!;
    const damaged = readFileSync(join(d, victim));
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 20) ^ 0xff, damaged.length - 20);
    writeFileSync(join(d, victim), damaged);
    await expect(openStore({ dataDir: d })).rejects.toBeInstanceOf(StoreOpenError);
    expect(readFileSync(join(d, victim)).equals(damaged)).toBe(true);
  });

  it('refuses existing data without its key rather than generating a new one', async () => {
    const d = dir();
    const s = await open(d);
    await s.accounts.insert(account());
    await s.close();
    rmSync(join(d, 'data.key'));
    await expect(openStore({ dataDir: d })).rejects.toThrow(/neither DATA_KEY nor data.key/);
  });

  it('refuses a second store on the same data directory, in this process and in another', async () => {
    const d = dir();
    await open(d);
    await expect(openStore({ dataDir: d })).rejects.toThrow(/refusing to start a second one/);

    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('${new URL('./lowdb-store.ts', import.meta.url).pathname}').then(m => m.openStore({ dataDir: process.argv[1] })).then(() => { console.log('opened'); process.exit(0); }, (e) => { console.log(e.message); process.exit(3); })`,
        d,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(3);
    expect(out).toMatch(/in use by another server/);
  });

  it('takes over the lock of a process that died', async () => {
    const d = dir();
    writeFileSync(join(d, 'LOCK'), '999999999');
    chmodSync(join(d, 'LOCK'), 0o600);
    const s = await open(d);
    expect(s.status().ok).toBe(true);
  });

  it('group-commits: many changes become one journal record, and flush makes them durable', async () => {
    const d = dir();
    const s = await openStore({ dataDir: d, commitDelayMs: 50 });
    track(s);
    const owner = account();
    await s.accounts.insert(owner);
    for (let i = 0; i < 200; i++) {
      await s.ledger.insert({
        id: `e${i}`,
        accountId: owner.id,
        kind: 'grant',
        seconds: 1,
        ref: `r${i}`,
        callId: null,
        at: i,
        note: null,
      });
    }
    expect(s.status().pendingWrites).toBe(201);
    await s.flush();
    expect(s.status().pendingWrites).toBe(0);
    expect(journalOf(d).records).toHaveLength(1);
    // Durable without a clean close: the files as a crash would leave them hold every entry.
    const again = await open(crashCopy(d));
    const rows: LedgerRow[] = [];
    for await (const b of again.ledger.scan()) rows.push(...b);
    expect(rows).toHaveLength(200);
  });

  it('a profile edit rewrites no shard when committed, and only a people shard at the checkpoint', async () => {
    const d = dir();
    const s = await open(d);
    const a = account();
    await s.accounts.insert(a);
    await s.ledger.insert({
      id: 'l1',
      accountId: a.id,
      kind: 'grant',
      seconds: 5,
      ref: 'g1',
      callId: null,
      at: 1,
      note: null,
    });
    await s.flush();
    await s.checkpoint();
    const mtimes = () =>
      new Map(
        readdirSync(d)
          .filter((n) => n.endsWith('.db') && n !== 'manifest.db')
          .map((n) => [n, statSync(join(d, n)).mtimeMs]),
      );
    const changedSince = (before: Map<string, number>) =>
      [...mtimes()].filter(([n, t]) => before.get(n) !== t).map(([n]) => n);
    const before = mtimes();
    await new Promise((r) => setTimeout(r, 20));
    await s.accounts.update(a.id, { name: 'Ada King' });
    await s.flush();
    expect(changedSince(before)).toEqual([]);
    await s.checkpoint();
    const changed = changedSince(before);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/^people-/);
  });

  it('a commit that spans many shards is all or nothing after a crash', async () => {
    const d = dir();
    const s = await openStore({ dataDir: d, commitDelayMs: 10_000 });
    track(s);
    const first = account();
    await s.accounts.insert(first);
    await s.flush();
    const beforeSecond = crashCopy(d);
    // One commit touching every group and many shards.
    const many = Array.from({ length: 60 }, () => account());
    for (const a of many) {
      await s.accounts.insert(a);
      await s.ledger.insert({
        id: `g-${a.id}`,
        accountId: a.id,
        kind: 'grant',
        seconds: 60,
        ref: `grant-${a.id}`,
        callId: null,
        at: 2,
        note: null,
      });
    }
    await s.meta.insert({ id: 'head', value: { n: 60 }, updatedAt: 2 });
    await s.flush();
    const whole = crashCopy(d);
    // The same commit torn by a crash halfway through its append.
    const torn = crashCopy(d);
    const journal = readdirSync(torn).find((n) => n.startsWith('journal-'))!;
    const bytes = readFileSync(join(torn, journal));
    writeFileSync(join(torn, journal), bytes.subarray(0, bytes.length - 100));
    for (const name of readdirSync(beforeSecond))
      if (name.endsWith('.db'))
        expect(readFileSync(join(torn, name)).equals(readFileSync(join(beforeSecond, name)))).toBe(true);

    const all = await open(whole);
    expect(await all.accounts.count()).toBe(61);
    expect(await all.ledger.count()).toBe(60);
    expect(await all.meta.get('head')).toBeDefined();
    const none = await open(torn);
    expect(await none.accounts.count()).toBe(1);
    expect(await none.accounts.get(first.id)).toEqual(first);
    expect(await none.ledger.count()).toBe(0);
    expect(await none.meta.get('head')).toBeUndefined();
  });

  it('a crash in the middle of a checkpoint loses nothing and doubles nothing', async () => {
    const d = dir();
    const s = await open(d);
    const owners = Array.from({ length: 40 }, () => account());
    for (const a of owners) await s.accounts.insert(a);
    await s.flush();
    await s.checkpoint();
    for (const a of owners) {
      await s.accounts.update(a.id, { name: `${a.name} II` });
      await s.ledger.insert({
        id: `g-${a.id}`,
        accountId: a.id,
        kind: 'grant',
        seconds: 30,
        ref: `grant-${a.id}`,
        callId: null,
        at: 3,
        note: null,
      });
    }
    await s.accounts.remove(owners[0]!.id);
    await s.flush();
    const beforeCheckpoint = crashCopy(d);
    await s.checkpoint();
    // Some shards rewritten, the others not, the manifest not yet moved on.
    const rewritten = readdirSync(d).filter(
      (n) =>
        /^(people|ledger)-/.test(n) &&
        !(
          existsSync(join(beforeCheckpoint, n)) &&
          readFileSync(join(d, n)).equals(readFileSync(join(beforeCheckpoint, n)))
        ),
    );
    expect(rewritten.length).toBeGreaterThan(4);
    for (const name of rewritten.slice(0, Math.floor(rewritten.length / 2)))
      writeFileSync(join(beforeCheckpoint, name), readFileSync(join(d, name)));

    const reopened = await open(beforeCheckpoint);
    expect(await reopened.accounts.count()).toBe(39);
    expect(await reopened.accounts.get(owners[0]!.id)).toBeUndefined();
    for (const a of owners.slice(1)) expect((await reopened.accounts.get(a.id))?.name).toBe(`${a.name} II`);
    expect(await reopened.ledger.count()).toBe(40);
  });

  it('a checkpoint writes committed rows only: a change not yet committed is in no file', async () => {
    const d = dir();
    const s = await openStore({ dataDir: d, commitDelayMs: 10_000 });
    track(s);
    const committed = account();
    await s.accounts.insert(committed);
    await s.flush();
    const uncommitted = account({ id: 'not-yet', email: 'not-yet@example.test' });
    await s.accounts.insert(uncommitted);
    await s.accounts.update(committed.id, { name: 'Changed Later' });
    await s.checkpoint();
    const copy = crashCopy(d);
    const reopened = await open(copy);
    expect(await reopened.accounts.get(committed.id)).toEqual(committed);
    expect(await reopened.accounts.get('not-yet')).toBeUndefined();
    await s.flush();
    const later = await open(crashCopy(d));
    expect((await later.accounts.get(committed.id))?.name).toBe('Changed Later');
    expect(await later.accounts.get('not-yet')).toBeDefined();
  });

  it('refuses to start on a damaged journal record that is not the torn last one, and changes no file', async () => {
    const d = dir();
    const s = await open(d);
    await s.accounts.insert(account());
    await s.flush();
    await s.accounts.insert(account());
    await s.flush();
    const copy = crashCopy(d);
    const journal = readdirSync(copy).find((n) => n.startsWith('journal-'))!;
    const bytes = readFileSync(join(copy, journal));
    bytes.writeUInt8(bytes.readUInt8(10) ^ 0xff, 10); // inside the first of two records
    writeFileSync(join(copy, journal), bytes);
    const before = new Map(filesUnder(copy).map((f) => [f, readFileSync(f)]));
    await expect(openStore({ dataDir: copy })).rejects.toThrow(/Cannot decrypt record 1 of .*journal-/);
    for (const [f, b] of before) expect(readFileSync(f).equals(b), f).toBe(true);
  });

  it('opens data written with other shard counts and rewrites it in this layout', async () => {
    const d = dir();
    const key = randomBytes(32);
    const old = { people: 16, ledger: 16, usage: 16, audit: 8, ops: 1 } as const;
    const accounts = Array.from({ length: 30 }, () => account());
    const docs = new Map<string, AccountRow[]>();
    for (const a of accounts) {
      const name = shardFileName('people', shardIndex(a.id, old.people), 0);
      docs.set(name, [...(docs.get(name) ?? []), a]);
    }
    for (const [name, rows] of docs)
      writeFileSync(
        join(d, name),
        encrypt(key, Buffer.from(JSON.stringify({ schemaVersion: 1, tables: { accounts: rows } })), name),
      );
    writeFileSync(
      join(d, 'manifest.db'),
      encrypt(key, Buffer.from(JSON.stringify({ schemaVersion: 1, shards: old })), 'manifest.db'),
    );

    const s = await open(d, key.toString('hex'));
    for (const a of accounts) expect(await s.accounts.get(a.id)).toEqual(a);
    const m = JSON.parse(decrypt(key, readFileSync(join(d, 'manifest.db')), 'manifest.db').toString());
    expect(m.shards.people).toBeGreaterThan(16);
    expect(m.epoch).toBe(1);
    expect(readdirSync(d).filter((n) => /^people-\d+\.db$/.test(n))).toEqual([]); // the old layout is gone
    await s.close();
    const again = await open(d, key.toString('hex'));
    expect(await again.accounts.count()).toBe(30);
  });

  it('enforces unique fields and conditional appends atomically', async () => {
    const s = await open(dir());
    const a = account({ email: 'same@example.test' });
    await s.accounts.insert(a);
    await expect(s.accounts.insert(account({ email: 'same@example.test' }))).rejects.toBeInstanceOf(StoreConflictError);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.ledger.insertIf(
          {
            id: `h${i}`,
            accountId: a.id,
            kind: 'hold',
            seconds: 1,
            ref: `hold${i}`,
            callId: `c${i}`,
            at: 1,
            note: null,
          },
          { field: 'accountId', value: a.id },
          (rows) => rows.length < 5,
        ),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(5);
  });

  it('an update keeps indexes, unique fields and shards true: unchanged values stay found, changed ones move, also after a reopen', async () => {
    const key = randomBytes(32).toString('hex');
    const d = dir();
    const s = await open(d, key);
    const a = account({ email: 'first@example.test' });
    const b = account({ email: 'taken@example.test' });
    await s.accounts.insert(a);
    await s.accounts.insert(b);
    const call = testCallRow({ id: 'call-1', accountId: a.id, profileId: 'p1', heldSeconds: 60, startedAt: 1 });
    await s.calls.insert(call);

    // A checkpoint-like update: no indexed value changes, every lookup still finds the row.
    await s.calls.update(call.id, { meteredSeconds: 5, checkpointAt: 5 });
    expect((await s.calls.findBy('accountId', a.id)).map((c) => c.meteredSeconds)).toEqual([5]);
    expect(await s.calls.findBy('profileId', 'p1')).toHaveLength(1);
    expect(await s.calls.findBy('endedAt', null)).toHaveLength(1);
    // Indexed values change: the old ones no longer find it, the new ones do.
    await s.calls.update(call.id, { profileId: null, endedAt: 9 });
    expect(await s.calls.findBy('profileId', 'p1')).toEqual([]);
    expect(await s.calls.findBy('profileId', null)).toHaveLength(1);
    expect(await s.calls.findBy('endedAt', null)).toEqual([]);
    // The shard key changes (usage data detached from its account): the row moves shard.
    await s.calls.update(call.id, { accountId: null });
    expect(await s.calls.findBy('accountId', a.id)).toEqual([]);

    await s.accounts.update(a.id, { name: 'Ada King' });
    expect((await s.accounts.findBy('email', 'first@example.test')).map((r) => r.name)).toEqual(['Ada King']);
    await expect(s.accounts.update(a.id, { email: 'taken@example.test' })).rejects.toBeInstanceOf(StoreConflictError);
    expect((await s.accounts.get(a.id))?.email).toBe('first@example.test');
    await s.accounts.update(a.id, { email: 'second@example.test' });
    expect(await s.accounts.findBy('email', 'first@example.test')).toEqual([]);
    // The old address is free again.
    await s.accounts.insert(account({ email: 'first@example.test' }));
    await s.close();

    const again = await open(d, key);
    expect(await again.calls.findBy('accountId', a.id)).toEqual([]);
    expect((await again.calls.get(call.id))?.accountId).toBeNull();
    expect((await again.accounts.findBy('email', 'second@example.test')).map((r) => r.id)).toEqual([a.id]);
    await again.close();
    // The checkpoint at close wrote the call into exactly one shard file, the one of its new key.
    const holding = [...decryptDataFiles(d, Buffer.from(key, 'hex'))]
      .filter(([name, text]) => name.endsWith('.db') && text.includes('"call-1"'))
      .map(([name]) => name);
    expect(holding).toEqual([shardFileName('usage', shardIndex(call.id, SHARDS.usage), 0)]);
  });

  it('rows are copies both ways: changing what was inserted, patched or read (nested lists and objects too) changes nothing stored', async () => {
    const s = await open(dir());
    const profile: ProfileRow = {
      id: 'p1',
      accountId: 'a1',
      name: 'Ada',
      age: 7,
      wishList: ['a bike'],
      behaviorNotes: '',
      preferences: '',
      language: 'en',
      photoId: null,
      dailyMinutes: null,
      quietHours: { from: '19:00', to: '07:00' },
      createdAt: 1,
      updatedAt: 1,
    };
    const inserted = await s.profiles.insert(profile);
    profile.wishList.push('given list changed');
    profile.quietHours!.from = '00:00';
    inserted.wishList.push('returned list changed');
    const read = await s.profiles.get('p1');
    expect(read).toMatchObject({ wishList: ['a bike'], quietHours: { from: '19:00', to: '07:00' } });
    read!.wishList.push('read list changed');
    (await s.profiles.findBy('accountId', 'a1'))[0]!.quietHours!.to = '00:00';

    const patch = { wishList: ['a sled'], quietHours: { from: '20:00', to: '06:00' } };
    const updated = await s.profiles.update('p1', patch);
    patch.wishList.push('patch changed');
    patch.quietHours.from = '00:00';
    updated!.wishList.push('update result changed');
    await s.profiles.update(
      'p1',
      { name: 'Ada L' },
      { if: (row) => (row.wishList.push('seen by the condition'), true) },
    );
    expect(await s.profiles.get('p1')).toMatchObject({
      name: 'Ada L',
      wishList: ['a sled'],
      quietHours: { from: '20:00', to: '06:00' },
    });
  });

  it('runs pending migrations at open and writes the migrated data back encrypted', async () => {
    const d = dir();
    const s = await open(d);
    await s.accounts.insert(account({ name: 'Before Migration' }));
    await s.close();
    // Pretend the data was written by schema version 0 and a migration to 1 renames people.
    const key = Buffer.from(readFileSync(join(d, 'data.key'), 'utf8').trim(), 'hex');
    const manifestPath = join(d, 'manifest.db');
    const manifest = JSON.parse(decrypt(key, readFileSync(manifestPath), 'manifest.db').toString());
    manifest.schemaVersion = 0;
    writeFileSync(manifestPath, encrypt(key, Buffer.from(JSON.stringify(manifest)), 'manifest.db'));
    const migrated = await openStore({
      dataDir: d,
      migrations: [{ to: 1, up: (t) => t.get('accounts')?.forEach((r) => (r.name = `${String(r.name)} (migrated)`)) }],
    });
    track(migrated);
    const rows = [];
    for await (const b of migrated.accounts.scan()) rows.push(...b);
    expect(rows[0]?.name).toBe('Before Migration (migrated)');
    const m2 = JSON.parse(decrypt(key, readFileSync(manifestPath), 'manifest.db').toString());
    expect(m2.schemaVersion).toBe(SCHEMA_VERSION);
    expect(existsSync(manifestPath)).toBe(true);
  });

  it('migration 2: a call written before leases existed reads as owned by nobody, its lease long passed', async () => {
    const d = dir();
    const s = await open(d);
    const a = account();
    await s.accounts.insert(a);
    // A row as version 1 wrote it: none of the owner and lease fields.
    const before = {
      id: 'call-from-v1',
      accountId: a.id,
      profileId: 'p1',
      provider: 'openai',
      providerCallId: 'rtc_1',
      heldSeconds: 60,
      startedAt: 1,
      meteredSeconds: 7,
      checkpointAt: 8,
      endedAt: null,
      reason: null,
      settledAt: null,
    };
    await s.calls.insert(before as unknown as CallRow);
    await s.close();
    const key = Buffer.from(readFileSync(join(d, 'data.key'), 'utf8').trim(), 'hex');
    const manifestPath = join(d, 'manifest.db');
    const manifest = JSON.parse(decrypt(key, readFileSync(manifestPath), 'manifest.db').toString());
    manifest.schemaVersion = 1;
    writeFileSync(manifestPath, encrypt(key, Buffer.from(JSON.stringify(manifest)), 'manifest.db'));
    const migrated = track(await openStore({ dataDir: d }));
    expect(await migrated.calls.get('call-from-v1')).toEqual({
      ...before,
      ownerId: null,
      leaseUntil: 0,
      limitReason: null,
      endRequest: null,
      window: null,
    });
    expect(await migrated.calls.findBy('ownerId', null)).toHaveLength(1);
  });
});
