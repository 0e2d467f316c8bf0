import type { StoreLock } from './types.js';

/**
 * Named locks inside one process: a holder at a time per name, waiters served in arrival
 * order. The whole of Store.lock on lowdb (one process per data directory), and the first
 * step of it on PostgreSQL (an advisory lock is re-entrant within a session, so two holders
 * in one process would otherwise both get it).
 */
export class LocalLocks {
  /** Held names, each with the waiters to hand it to next. */
  private readonly held = new Map<string, (() => void)[]>();

  async acquire(name: string, wait: boolean): Promise<StoreLock | null> {
    const waiters = this.held.get(name);
    if (waiters) {
      if (!wait) return null;
      // Handed over by release(): the name stays held, so nobody slips in between.
      await new Promise<void>((resolve) => waiters.push(resolve));
    } else {
      this.held.set(name, []);
    }
    let released = false;
    return {
      lost: new AbortController().signal,
      release: async () => {
        if (released) return;
        released = true;
        const next = this.held.get(name)?.shift();
        if (next) next();
        else this.held.delete(name);
      },
    };
  }

  isHeld(name: string): boolean {
    return this.held.has(name);
  }
}
