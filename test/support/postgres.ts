import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The run's cluster (test/support/postgres-global-setup.ts); fails with how to install PostgreSQL when there is none. */
export function testCluster(): { url: string; dataDir: string } {
  const provided = inject('postgres');
  if (!provided)
    throw new Error(
      'no PostgreSQL cluster was provided: run the tests through vitest.config.ts (its globalSetup starts one)',
    );
  if ('error' in provided) throw new Error(provided.error);
  return provided;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A new, empty database in the run's cluster: its URL. Each test file (or test) gets its own. */
export async function freshDatabase(prefix = 'callsanta'): Promise<string> {
  const { url } = testCluster();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return withDatabase(url, name);
}
