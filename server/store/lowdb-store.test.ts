import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openStore, type LowdbStore } from './lowdb-store.js';
import { StoreOpenError, StoreConflictError } from './errors.js';
import type { AccountRow, LedgerRow } from './types.js';
import { tempDataDir } from '../../test/support/server.js';
import { decrypt } from './crypto.js';

const dirs: string[] = [];
const stores: LowdbStore[] = [];
function dir(): string {
  const d = tempDataDir('callsanta-store-');
  dirs.push(d);
  return d;
}
async function open(dataDir: string, dataKey?: string): Promise<LowdbStore> {
  const s = await openStore({ dataDir, dataKey });
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function account(over: Partial<AccountRow> = {}): AccountRow {
  return {
    id: randomBytes(8).toString('hex'),
    email: `ada-${randomBytes(4).toString('hex')}@example.test`,
    name: 'Ada Lovelace',
    locale: 'en',
    passwordHash: 'x',
    restricted: false,
    marketingOptIn: false,
    createdAt: 1,
    passwordChangedAt: 1,
    status: 'active',
    closedAt: null,
    purgeBy: null,
    ...over,
  };
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
    await expect(openStore({ dataDir: d, dataKey: randomBytes(32).toString('hex') })).rejects.toThrow(/Cannot decrypt .*wrong DATA_KEY/);
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

    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${new URL('./lowdb-store.ts', import.meta.url).pathname}').then(m => m.openStore({ dataDir: process.argv[1] })).then(() => { console.log('opened'); process.exit(0); }, (e) => { console.log(e.message); process.exit(3); })`, d], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('group-commits: many changes, few physical writes, and flush makes them durable', async () => {
    const d = dir();
    const s = await openStore({ dataDir: d, commitDelayMs: 50 });
    stores.push(s);
    const owner = account();
    await s.accounts.insert(owner);
    for (let i = 0; i < 200; i++) {
      await s.ledger.insert({ id: `e${i}`, accountId: owner.id, kind: 'grant', seconds: 1, ref: `r${i}`, callId: null, at: i, note: null });
    }
    expect(s.status().pendingWrites).toBeGreaterThan(0);
    expect(s.status().pendingWrites).toBeLessThanOrEqual(2); // one people shard + one ledger shard
    await s.flush();
    expect(s.status().pendingWrites).toBe(0);
    // Durable: a copy of the directory opened elsewhere sees every entry.
    const rows: LedgerRow[] = [];
    await s.close();
    const again = await open(d);
    for await (const b of again.ledger.scan()) rows.push(...b);
    expect(rows).toHaveLength(200);
  });

  it('a profile edit rewrites only a people shard, never the ledger or usage files', async () => {
    const d = dir();
    const s = await open(d);
    const a = account();
    await s.accounts.insert(a);
    await s.ledger.insert({ id: 'l1', accountId: a.id, kind: 'grant', seconds: 5, ref: 'g1', callId: null, at: 1, note: null });
    await s.flush();
    const mtimes = () => new Map(readdirSync(d).filter((n) => n.endsWith('.db')).map((n) => [n, statSync(join(d, n)).mtimeMs]));
    const before = mtimes();
    await new Promise((r) => setTimeout(r, 20));
    await s.accounts.update(a.id, { name: 'Ada King' });
    await s.flush();
    const after = mtimes();
    const changed = [...after.keys()].filter((n) => after.get(n) !== before.get(n));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/^people-/);
  });

  it('enforces unique fields and conditional appends atomically', async () => {
    const s = await open(dir());
    const a = account({ email: 'same@example.test' });
    await s.accounts.insert(a);
    await expect(s.accounts.insert(account({ email: 'same@example.test' }))).rejects.toBeInstanceOf(StoreConflictError);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.ledger.insertIf({ id: `h${i}`, accountId: a.id, kind: 'hold', seconds: 1, ref: `hold${i}`, callId: `c${i}`, at: 1, note: null }, { field: 'accountId', value: a.id }, (rows) => rows.length < 5),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(5);
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
    const { encrypt } = await import('./crypto.js');
    writeFileSync(manifestPath, encrypt(key, Buffer.from(JSON.stringify(manifest)), 'manifest.db'));
    const migrated = await openStore({
      dataDir: d,
      migrations: [{ to: 1, up: (t) => t.get('accounts')?.forEach((r) => (r.name = `${String(r.name)} (migrated)`)) }],
    });
    stores.push(migrated);
    const rows = [];
    for await (const b of migrated.accounts.scan()) rows.push(...b);
    expect(rows[0]?.name).toBe('Before Migration (migrated)');
    const m2 = JSON.parse(decrypt(key, readFileSync(manifestPath), 'manifest.db').toString());
    expect(m2.schemaVersion).toBe(1);
    expect(existsSync(manifestPath)).toBe(true);
  });
});
