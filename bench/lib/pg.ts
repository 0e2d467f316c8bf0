import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startPgCluster, type PgCluster } from '../../test/support/pg-cluster.js';
import { openStore } from '../../server/store/lowdb-store.js';
import { openPgStore } from '../../server/store/pg-store.js';
import { copyStore, type CopyReport } from '../../server/store/copy.js';
import { copySeed, type Seeded } from './seed.js';

/**
 * The bench's own PostgreSQL: a throwaway cluster (test/support/pg-cluster.ts) started once
 * per bench run, removed when the bench exits. Unlike the tests' cluster it is durable
 * (fsync, full-page writes, synchronous commit on, as docs/OPERATIONS.md asks of production),
 * so "durable writes/s" means the same on both stores.
 */
let cluster: Promise<PgCluster> | null = null;

export function benchCluster(): Promise<PgCluster> {
  cluster ??= startPgCluster({
    settings: {
      fsync: 'on',
      full_page_writes: 'on',
      synchronous_commit: 'on',
      shared_buffers: "'256MB'",
      // A 10,000-family copy writes about a GB of WAL: checkpoints by time, not a storm of them by size.
      max_wal_size: "'2GB'",
      min_wal_size: "'80MB'",
    },
  }).then((c) => {
    process.once('exit', () => c.stop());
    return c;
  });
  return cluster;
}

let databases = 0;
/** A new empty database in the bench cluster: its URL. */
export async function benchDatabase(prefix: string): Promise<string> {
  const c = await benchCluster();
  const name = `${prefix}_${++databases}`;
  const admin = new pg.Client({ connectionString: c.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(c.url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The seeded lowdb store copied into a new database, as `npm run store:copy` does it (the same function, the same checks). */
export async function copySeedIntoPostgres(seed: Seeded, prefix: string): Promise<{ url: string; report: CopyReport }> {
  const url = await benchDatabase(prefix);
  const dir = copySeed(seed); // opening a data directory writes to it: the shared seed stays as it was
  const source = await openStore({ dataDir: dir, dataKey: seed.dataKey });
  const target = await openPgStore({ url, dataKey: seed.dataKey });
  try {
    const report = await copyStore(source, target);
    if (!report.ok)
      throw new Error(
        `the copy into PostgreSQL did not check out: ${JSON.stringify({ counts: report.counts.filter((c) => c.source !== c.target), rows: report.rowMismatches.slice(0, 5), audit: report.audit })}`,
      );
    return { url, report };
  } finally {
    await target.close();
    await source.close();
  }
}

/**
 * The cluster's next transaction id: the difference between two readings is the number of
 * transactions that wrote something (each is given an id; read-only ones are not), plus one
 * for the first reading itself. Those are the commits that wait for a WAL flush.
 */
export async function nextTransactionId(c: PgCluster): Promise<number> {
  const client = new pg.Client({ connectionString: c.url });
  await client.connect();
  try {
    const r = await client.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
    return Number(r.rows[0]?.x ?? 0);
  } finally {
    await client.end();
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system, µs) of the cluster's postmaster and every process under it: PostgreSQL's side of a figure. */
export function postgresCpuMicros(c: PgCluster): number {
  const postmaster = Number(readFileSync(join(c.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const procs: { pid: number; ppid: number; ticks: number }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({
        pid: Number(d),
        ppid: Number(rest[1]),
        ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]),
      });
    } catch {
      // the process ended while we listed
    }
  }
  const inside = new Set([postmaster]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) {
      if (inside.has(p.pid) || !inside.has(p.ppid)) continue;
      inside.add(p.pid);
      grew = true;
    }
  }
  // utime + stime, plus the children's already reaped (cutime + cstime): backends that exited count too.
  return procs.filter((p) => inside.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) * (1e6 / CLK_TCK);
}
