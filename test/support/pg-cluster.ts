import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** How to get PostgreSQL where it is missing: the project's own setup script. */
export const INSTALL_HINT =
  'PostgreSQL server binaries were not found (looked in $PG_BIN and /usr/lib/postgresql/<major>/bin). ' +
  'Install them with `node scripts/setup-services.mjs` (Debian: apt-get install postgresql), or point PG_BIN at the folder holding initdb and pg_ctl.';

/** The folder with initdb and pg_ctl: $PG_BIN, else the newest Debian major version, else null. */
export function findPostgresBin(): string | null {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'bin', 'initdb')) && existsSync(join(root, d, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : null;
}

function postgresIds(): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export interface PgCluster {
  /** Superuser URL of the cluster's `postgres` database, on 127.0.0.1. */
  url: string;
  port: number;
  /** The cluster's data directory (heap files under base/, WAL under pg_wal/). */
  dataDir: string;
  bin: string;
  stop(): void;
}

/**
 * A throwaway PostgreSQL cluster: initdb in a temp dir, started with pg_ctl on a free loopback
 * port, trust authentication for the `postgres` superuser over 127.0.0.1 only. initdb refuses
 * to run as root, so as root every server command runs as the `postgres` user (runuser), in a
 * folder that user owns. `stop()` stops the server and removes the folder.
 */
export async function startPgCluster(opts: { settings?: Record<string, string> } = {}): Promise<PgCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(INSTALL_HINT);
  const root = mkdtempSync(join(tmpdir(), 'callsanta-pg-'));
  const dataDir = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? postgresIds() : null;
  if (asRoot && !ids)
    throw new Error(
      "running as root, but there is no `postgres` user to run the cluster as (it comes with Debian's postgresql package: node scripts/setup-services.mjs)",
    );
  if (ids) {
    chownSync(root, ids.uid, ids.gid);
    chmodSync(root, 0o700);
  }
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = ids ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: root });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  run('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ]);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "'127.0.0.1'",
    port: String(port),
    unix_socket_directories: `'${root}'`,
    // A throwaway cluster on a shared machine: no fsync, small memory, few checkpoints' worth of WAL.
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: "'32MB'",
    max_connections: '200',
    // Deleted WAL segments are unlinked, not renamed for reuse with their old bytes (docs/PRIVACY-PROMISES.md).
    wal_recycle: 'off',
    min_wal_size: "'32MB'",
    max_wal_size: "'64MB'",
    logging_collector: 'off',
    ...opts.settings,
  };
  writeFileSync(
    join(dataDir, 'postgresql.auto.conf'),
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  if (ids) chownSync(join(dataDir, 'postgresql.auto.conf'), ids.uid, ids.gid);
  run('pg_ctl', ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    bin,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
