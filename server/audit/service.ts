import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import type { AuditRow, Store } from '../store/types.js';

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

/**
 * Append-only, hash-chained audit log. Each entry's hash covers the previous entry's
 * hash, so editing, removing or reordering any entry breaks verification from there on.
 * Entries carry ids and counts only, never personal text.
 */
export class AuditService {
  private tail: Promise<unknown> = Promise.resolve();
  private head: { seq: number; hash: string } | null = null;

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
    // The entry and the head anchor land together or not at all (one transaction on
    // PostgreSQL, one commit on lowdb): a crash keeps both or neither. The insert goes first,
    // as it is the write that can fail (a duplicate seq), and then nothing was written.
    await this.store.atomically(async (t) => {
      await t.audit.insert(row);
      if (!(await t.meta.update(HEAD_KEY, anchor))) await t.meta.insert(anchor);
    });
    this.head = { seq: row.seq, hash: row.hash };
    return row;
  }

  private async loadHead(): Promise<{ seq: number; hash: string }> {
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

  /** Runs between appends, so the entries and the head anchor are read as one state. */
  verifyChain(): Promise<ChainCheck> {
    const run = this.tail.then(() => this.verify());
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async verify(): Promise<ChainCheck> {
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
    const anchor = (await this.store.meta.get(HEAD_KEY))?.value as { seq?: number; hash?: string } | undefined;
    if (anchor && (anchor.seq !== rows.length || anchor.hash !== prev)) {
      return { ok: false, entries: rows.length, brokenAt: Math.min(rows.length, anchor.seq ?? 0) + 1 };
    }
    return { ok: true, entries: rows.length };
  }
}
