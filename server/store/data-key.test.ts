import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openStore } from './lowdb-store.js';
import { dataKeyFrom, isRawDataKey, parseKey } from './crypto.js';
import { FakeClock } from '../core/clock.js';
import { accountRow, storeFixtures } from './test-support.js';

const { dir, open } = storeFixtures('callsanta-datakey-');
const account = accountRow;

describe('DATA_KEY', () => {
  it('a store written with a passphrase reopens with the same passphrase and with no other', async () => {
    const d = dir();
    const s = await open(d, 'test-key');
    const row = await s.accounts.insert(account());
    await s.close();
    await expect(openStore({ dataDir: d, dataKey: 'test-kez' })).rejects.toThrow(/Cannot decrypt .*wrong DATA_KEY/);
    const again = await open(d, 'test-key');
    expect((await again.accounts.get(row.id))?.email).toBe(row.email);
  });

  it('derives the passphrase key with fixed parameters: the same passphrase gives the same key on every build', () => {
    // Pinned: a change of salt or cost would lock every passphrase-keyed data directory out.
    expect(dataKeyFrom('test-key').toString('hex')).toBe(
      '73b1337903210683c3442bd3f2c76f81c5347e8029b0eb73f59f76295b9052c2',
    );
    expect(dataKeyFrom('  test-key\n').equals(dataKeyFrom('test-key'))).toBe(true);
    expect(dataKeyFrom('test-key2').equals(dataKeyFrom('test-key'))).toBe(false);
    expect(isRawDataKey('test-key')).toBe(false);
  });

  it('uses 64 hex characters and base64 of 32 bytes as the key itself, as before: existing data opens with the same key', async () => {
    const bytes = randomBytes(32);
    for (const text of [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ]) {
      expect(dataKeyFrom(text).equals(bytes), text).toBe(true);
      expect(parseKey(text).equals(bytes), text).toBe(true);
      expect(isRawDataKey(text), text).toBe(true);
    }
    const d = dir();
    const s = await open(d, bytes.toString('hex'));
    const row = await s.accounts.insert(account());
    await s.close();
    const again = await open(d, bytes.toString('base64'));
    expect((await again.accounts.get(row.id))?.email).toBe(row.email);
  });

  it('refuses an empty DATA_KEY rather than deriving a key from nothing', () => {
    expect(() => dataKeyFrom('   ')).toThrow(/DATA_KEY is empty/);
  });

  it('the key file is still read as 32 bytes only: a damaged key file is an error, not a passphrase', () => {
    expect(() => parseKey('test-key')).toThrow(/32 bytes/);
  });
});

describe('store status', () => {
  it('reports no flush before the first commit, then the injected clock time of the last one', async () => {
    const clock = new FakeClock();
    const s = await open(dir(), undefined, { clock });
    expect(s.status().lastFlushAt).toBeNull();
    clock.advance(90_000);
    await s.accounts.insert(account());
    await s.flush();
    expect(s.status().lastFlushAt).toBe(clock.now());
  });
});
