import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { tempDataDir } from '../../test/support/server.js';
import { openStore, type LowdbStore, type LowdbStoreOptions } from './lowdb-store.js';
import type { AccountRow } from './types.js';

/**
 * Temp data directories and open stores for one store test file: every store is closed and
 * every directory removed after each test, also when the test failed half-way.
 */
export function storeFixtures(prefix: string) {
  const dirs: string[] = [];
  const stores: LowdbStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const track = (s: LowdbStore): LowdbStore => {
    stores.push(s);
    return s;
  };
  return {
    dir(): string {
      const d = tempDataDir(prefix);
      dirs.push(d);
      return d;
    },
    async open(
      dataDir: string,
      dataKey?: string,
      options: Omit<LowdbStoreOptions, 'dataDir' | 'dataKey'> = {},
    ): Promise<LowdbStore> {
      return track(await openStore({ ...options, dataDir, dataKey }));
    },
    /** A store the test opened itself, closed with the others. */
    track,
  };
}

/** An account row with unique id and email. */
export function accountRow(over: Partial<AccountRow> = {}): AccountRow {
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
