import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { AuditRow, Store } from '../store/types.js';
import { StoreConflictError } from '../store/errors.js';

export type AuditDetails = AuditRow['details'];

const GENESIS = '0'.repeat(64);
/** The chain's head is also kept in another file (ops group), so cutting off the newest entries is detected too. */
const HEAD_KEY = 'audit.head';

function entryHash(e: Omit<AuditRow, 'hash'>): string {
  // A canonical encoding: field order fixed, details keys sorted.
  const details = Object.keys(e.details)
    .sort()
    .map((k) => [k, e.details[k]]);
  const canonical = JSON.stringify([e.id, e.seq, e.at, e.actor, e.action, e.subject, details, e.prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface ChainCheck {
  ok: boolean;
  entries: number;
  /** The first sequence number where the chain breaks, when it does. */
  brokenAt?: number;
}

export interface AuditDeps {
  store: Store;
  clock: Clock;
}

/** How often an append retries after another process took the sequence number it meant to use. */
const MAX_APPEND_ATTEMPTS = 100;

type Head = { seq: number; hash: string };

function anchorHead(row: { value: unknown } | undefined): Head | null {
  const v = row?.value as { seq?: unknown; hash?: unknown } | null | undefined;
  return v && typeof v.seq === 'number' && typeof v.hash === 'string' ? { seq: v.seq, hash: v.hash } : null;
}

/** Thrown inside the append transaction to roll it back when the head moved under it. */
class HeadMoved extends Error {}

/**
 * Append-only, hash-chained audit log. Each entry's hash covers the previous entry's
 * hash, so editing, removing or reordering any entry breaks verification from there on.
 * Entries carry ids and counts only, never personal text.
 *
 * Several processes may append to one store: the head this process last wrote is only a
 * guess. Each append inserts seq head+1 and moves the anchor in one transaction; the audit
 * table's unique seq (and the anchor's conditional update) refuse an append whose head another
 * process moved meanwhile, and the append re-reads the head and tries again. So the chain
 * stays one line, with no duplicate or missing seq, however many processes write to it.
 */
export class AuditService {
  private tail: Promise<unknown> = Promise.resolve();
  private head: Head | null = null;

  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: AuditDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  /** Appends in order; concurrent callers are serialised so the chain stays linear. */
  record(actor: string, action: string, subject: string | null, details: AuditDetails = {}): Promise<AuditRow> {
    const next = this.tail.then(() => this.append(actor, action, subject, details));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async append(
    actor: string,
    action: string,
    subject: string | null,
    details: AuditDetails,
  ): Promise<AuditRow> {
    for (let attempt = 1; ; attempt++) {
      const head = this.head ?? (await this.loadHead());
      const base: Omit<AuditRow, 'hash'> = {
        id: newId(),
        seq: head.seq + 1,
        at: this.clock.now(),
        actor,
        action,
        subject,
        details,
        prevHash: head.hash,
      };
      const row: AuditRow = { ...base, hash: entryHash(base) };
      const anchor = { id: HEAD_KEY, value: { seq: row.seq, hash: row.hash }, updatedAt: row.at };
      try {
        // The entry and the head anchor land together or not at all (one transaction on
        // PostgreSQL, one commit on lowdb): a crash keeps both or neither. The insert goes
        // first, as it is the write that can fail (seq is unique: on PostgreSQL a second
        // process's insert of the same seq waits for the first to commit, then fails), and
        // then nothing was written.
        await this.store.atomically(async (t) => {
          await t.audit.insert(row);
          const moved = await t.meta.update(
            HEAD_KEY,
            { value: anchor.value, updatedAt: anchor.updatedAt },
            { if: (cur) => anchorHead(cur)?.seq === head.seq },
          );
          if (moved) return;
          if (anchorHead(await t.meta.get(HEAD_KEY))) throw new HeadMoved('the audit head moved');
          await t.meta.insert(anchor); // the first entry, or a chain written before the anchor existed
        });
        this.head = { seq: row.seq, hash: row.hash };
        return row;
      } catch (err) {
        if (!(err instanceof StoreConflictError) && !(err instanceof HeadMoved)) throw err;
        // Another process appended since this one last looked: read the head again.
        this.head = null;
        if (attempt >= MAX_APPEND_ATTEMPTS) throw new Error(`audit append lost ${attempt} races for the chain's head`);
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  /** The committed head: the anchor, or (a chain written before anchors) the entry with the highest seq. */
  private async loadHead(): Promise<Head> {
    const anchored = anchorHead(await this.store.meta.get(HEAD_KEY));
    if (anchored) return anchored;
    let best: AuditRow | null = null;
    for await (const batch of this.store.audit.scan()) {
      for (const row of batch) if (!best || row.seq > best.seq) best = row;
    }
    return best ? { seq: best.seq, hash: best.hash } : { seq: 0, hash: GENESIS };
  }

  async all(): Promise<AuditRow[]> {
    const rows: AuditRow[] = [];
    for await (const batch of this.store.audit.scan()) rows.push(...batch);
    return rows.sort((a, b) => a.seq - b.seq);
  }

  async page(limit: number, beforeSeq?: number): Promise<{ entries: AuditRow[]; nextCursor: string | null }> {
    const rows = (await this.all()).filter((r) => beforeSeq === undefined || r.seq < beforeSeq).reverse();
    const entries = rows.slice(0, limit);
    const last = entries[entries.length - 1];
    return { entries, nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  /** How many entries the log holds (the metrics). */
  async count(): Promise<number> {
    return this.store.audit.count();
  }

  async forSubject(subject: string): Promise<AuditRow[]> {
    return (await this.store.audit.findBy('subject', subject)).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Runs between this process's appends. The anchor is read before the entries: other processes
   * may append while the entries are read, but never remove, so every entry the anchor counts
   * must be among them, with the anchor's hash where it says.
   */
  verifyChain(): Promise<ChainCheck> {
    const run = this.tail.then(() => this.verify());
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async verify(): Promise<ChainCheck> {
    const anchor = (await this.store.meta.get(HEAD_KEY))?.value as { seq?: number; hash?: string } | undefined;
    const rows = await this.all();
    let prev = GENESIS;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const { hash, ...rest } = row;
      if (row.seq !== i + 1 || row.prevHash !== prev || entryHash(rest) !== hash) {
        return { ok: false, entries: rows.length, brokenAt: i + 1 };
      }
      prev = hash;
    }
    const anchored = anchor ? rows[(anchor.seq ?? 0) - 1] : undefined;
    if (anchor && (!anchored || anchored.hash !== anchor.hash)) {
      return { ok: false, entries: rows.length, brokenAt: Math.min(rows.length, anchor.seq ?? 0) + 1 };
    }
    return { ok: true, entries: rows.length };
  }
}
