import pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { StoreOpenError } from '../errors.js';
import { namedLockKey } from './locks.js';

/**
 * Who may share one PostgreSQL database. A process without REDIS_URL keeps its socket rooms
 * and rate limits to itself, so it must be the only server on the database (the guarantee
 * lowdb's LOCK file gives a data directory): it holds the advisory lock below exclusively.
 * Processes with REDIS_URL share those through Redis and hold the same lock shared: any number
 * of them together, never beside one without REDIS_URL, whichever of the two starts first.
 *
 * The lock lives on a connection of its own, held for the life of the process; PostgreSQL
 * releases it when that session ends, so a process that is killed lets the next one start.
 */
const LOCK_NAME = 'server.processes';

/** How long a start waits for the lock: a process killed a moment ago may still hold it until PostgreSQL sees its connection gone. */
const START_WAIT_MS = 3000;
const POLL_MS = 100;

export type ProcessMode = 'alone' | 'shared';

export interface ProcessLock {
  release(): Promise<void>;
}

function refusal(mode: ProcessMode): string {
  return mode === 'alone'
    ? 'Another Call Santa server already runs on this database: a server without REDIS_URL keeps its rate limits and socket rooms in its own memory, so it must be the only one. Stop the other server, or set REDIS_URL (the same Redis) on every server to run several.'
    : 'A Call Santa server without REDIS_URL runs on this database and must be the only one there; stop it, or restart it with REDIS_URL, before starting servers with REDIS_URL.';
}

async function tryTake(client: pg.Client, mode: ProcessMode, key: string): Promise<boolean> {
  const fn = mode === 'alone' ? 'pg_try_advisory_lock' : 'pg_try_advisory_lock_shared';
  const r = await client.query<{ ok: boolean }>(`SELECT ${fn}($1) AS ok`, [key]);
  return r.rows[0]?.ok === true;
}

/**
 * Takes the processes lock in `mode`, waiting up to a few seconds; refuses the start with a
 * StoreOpenError that says why when it stays held. If the lock's connection is lost later,
 * it is taken again (and said in the log when it cannot be).
 */
export async function holdProcessLock(
  url: string,
  mode: ProcessMode,
  logger: Logger,
  opts: { waitMs?: number } = {},
): Promise<ProcessLock> {
  const key = namedLockKey(LOCK_NAME);
  let closed = false;
  let client: pg.Client | null = null;

  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url, application_name: 'callsanta-process-lock' });
    await c.connect();
    return c;
  };
  const watch = (c: pg.Client) => {
    const lost = () => {
      if (closed || client !== c) return;
      client = null;
      logger.warn('the database connection holding the server lock was lost; taking it again');
      void retake();
    };
    c.on('error', lost);
    c.on('end', lost);
  };
  const retake = async (): Promise<void> => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        const c = await connect();
        if (await tryTake(c, mode, key)) {
          if (closed) {
            await c.end();
            return;
          }
          client = c;
          watch(c);
          logger.info('server lock taken again');
          return;
        }
        await c.end();
        logger.error(refusal(mode));
      } catch {
        // The database is away: try again.
      }
      await new Promise((r) => setTimeout(r, Math.min(1000 * (attempt + 1), 5000)).unref());
    }
  };

  const c = await connect();
  // Real time, not the injected clock: this waits on another process's PostgreSQL session.
  const deadline = Date.now() + (opts.waitMs ?? START_WAIT_MS);
  try {
    while (!(await tryTake(c, mode, key))) {
      if (Date.now() >= deadline) throw new StoreOpenError(refusal(mode));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } catch (err) {
    await c.end().catch(() => undefined);
    throw err;
  }
  client = c;
  watch(c);
  return {
    async release() {
      closed = true;
      const held = client;
      client = null;
      // Ending the session releases the lock.
      await held?.end().catch(() => undefined);
    },
  };
}
