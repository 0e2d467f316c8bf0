import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, testCluster } from '../support/postgres.js';

describe('the test run has its own PostgreSQL', () => {
  it('a throwaway cluster on 127.0.0.1 answers, and each test gets a database of its own', async () => {
    const { url } = testCluster();
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const a = await freshDatabase();
    const b = await freshDatabase();
    expect(a).not.toBe(b);
    const client = new pg.Client({ connectionString: a });
    await client.connect();
    try {
      const r = await client.query<{ db: string; v: string }>(
        "SELECT current_database() AS db, current_setting('server_version_num') AS v",
      );
      expect(r.rows[0]?.db).toBe(new URL(a).pathname.slice(1));
      expect(Number(r.rows[0]?.v)).toBeGreaterThanOrEqual(130000);
    } finally {
      await client.end();
    }
  });
});
