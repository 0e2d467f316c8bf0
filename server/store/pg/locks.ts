import { createHash } from 'node:crypto';
import pg from 'pg';
import { LocalLocks } from '../local-locks.js';
import type { StoreLock } from '../types.js';

/** How often a waiting lock asks again: a job's lock is held for seconds, so a short poll costs nothing. */
const WAIT_POLL_MS = 100;

/** The 64-bit advisory lock key of a named lock (its own namespace: no table-scope lock hashes the same text). */
export function namedLockKey(name: string): string {
  return createHash('sha256').update(`call-santa/lock/${name}`).digest().readBigInt64BE(0).toString();
}

/**
 * Named locks across processes: session advisory locks, all held on one connection of their
 * own (not the pool's, whose connections come and go). PostgreSQL releases them when that
 * session ends, so a process that is killed, or whose connection breaks, lets the next holder
 * in at once; the holders in this process are told through `lost`. Within the process a name
 * is first taken in LocalLocks, because a session may take its own advisory lock twice.
 */
export class PgLocks {
  private readonly local = new LocalLocks();
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  /** The holders on the current connection, told when it goes. */
  private readonly holders = new Set<AbortController>();
  private closed = false;

  constructor(private readonly url: string) {}

  async acquire(name: string, wait: boolean): Promise<StoreLock | null> {
    if (this.closed) throw new Error('store is closed');
    const local = await this.local.acquire(name, wait);
    if (!local) return null;
    const key = namedLockKey(name);
    let client: pg.Client;
    try {
      for (;;) {
        client = await this.connection();
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key]);
        if (r.rows[0]?.ok) break;
        if (!wait) {
          await local.release();
          return null;
        }
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS).unref());
        if (this.closed) throw new Error('store is closed');
      }
    } catch (err) {
      await local.release();
      throw err;
    }
    const holder = new AbortController();
    this.holders.add(holder);
    let released = false;
    return {
      lost: holder.signal,
      release: async () => {
        if (released) return;
        released = true;
        this.holders.delete(holder);
        // A lost lock went with its session: there is nothing to unlock, and this connection
        // may be a newer one that holds the name for someone else.
        if (!holder.signal.aborted && this.client === client)
          await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        await local.release();
      },
    };
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const c = new pg.Client({ connectionString: this.url });
      const gone = () => this.lose(c);
      c.on('error', gone);
      c.on('end', gone);
      try {
        await c.connect();
      } catch (err) {
        c.removeAllListeners();
        throw err;
      }
      this.client = c;
      return c;
    })().finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** The lock connection ended: every lock on it is gone, and its holders are told. */
  private lose(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = null;
    for (const h of this.holders) h.abort(new Error('the database connection that held the lock was lost'));
    this.holders.clear();
  }

  /** Ends the lock connection (every lock on it is released by PostgreSQL). */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    if (c) {
      this.lose(c);
      await c.end().catch(() => undefined);
    }
  }
}
