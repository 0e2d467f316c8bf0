import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { notFound, tooMany } from '../core/errors.js';
import { DAY_MS, HOUR_MS, toIso, toIsoOrNull } from '../../shared/units.js';
import type { SupportBody, SupportRequest } from '../../shared/schemas/privacy.js';
import type { SupportRow, Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import { memoryRateLimits, type AttemptCounter, type RateLimits } from '../core/rate-limit.js';
import { sweepUpTo, type SweepOptions } from '../store/sweep.js';
import { pageAfterCursor } from '../core/paging.js';
import { removeAllOfAccount } from '../store/remove-all.js';
import { newestFirst, oldestFirst } from '../core/order.js';

/** Closed support requests and feedback are kept this long as communication data, then deleted. */
export const SUPPORT_RETENTION_DAYS = 180;

export function supportView(r: SupportRow): SupportRequest {
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    message: r.message,
    status: r.closedAt === null ? 'open' : 'closed',
    createdAt: toIso(r.createdAt),
    closedAt: toIsoOrNull(r.closedAt),
    deleteAfter: toIsoOrNull(r.deleteAfter),
  };
}

export interface SupportOptions {
  retentionDays?: number;
  perHour?: number;
}

export interface SupportDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  options?: SupportOptions;
  /** Where the request limit is counted; default: in this process. */
  limits?: RateLimits;
}

/** Support requests and feedback from parents; read and closed by an admin. */
export class SupportService {
  private readonly limiter: AttemptCounter;
  private readonly retentionMs: number;

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;

  constructor(deps: SupportDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    const { clock, options = {} } = deps;
    this.limiter = (deps.limits ?? memoryRateLimits(clock)).attempts(
      'support-requests',
      options.perHour ?? 10,
      HOUR_MS,
    );
    this.retentionMs = (options.retentionDays ?? SUPPORT_RETENTION_DAYS) * DAY_MS;
  }

  async create(accountId: string, body: SupportBody): Promise<SupportRow> {
    const wait = await this.limiter.take(accountId);
    if (wait > 0) throw tooMany(wait, 'Too many messages; try again later');
    const row: SupportRow = {
      id: newId(),
      accountId,
      kind: body.kind,
      subject: body.subject,
      message: body.message,
      createdAt: this.clock.now(),
      closedAt: null,
      deleteAfter: null,
    };
    await this.store.support.insert(row);
    await this.audit.record(`account:${accountId}`, 'support.created', accountId, {
      requestId: row.id,
      kind: row.kind,
    });
    return row;
  }

  async forAccount(accountId: string): Promise<SupportRow[]> {
    return (await this.store.support.findBy('accountId', accountId)).sort(newestFirst('createdAt'));
  }

  /** The account's part of the data export (P11): every request it sent, oldest first. */
  async exportFor(accountId: string): Promise<SupportRequest[]> {
    return (await this.store.support.findBy('accountId', accountId)).sort(oldestFirst('createdAt')).map(supportView);
  }

  /** The purge of a closed account (P10): its support requests go. Returns how many. */
  async removeAllForAccount(accountId: string): Promise<number> {
    return removeAllOfAccount(this.store.support, accountId);
  }

  /** One of the account's own requests; another account's id is a 404. */
  async getOwn(accountId: string, id: string): Promise<SupportRow> {
    const row = await this.store.support.get(id);
    if (!row || row.accountId !== accountId) throw notFound('No such request');
    return row;
  }

  /** Admin list, newest first; reading it is an admin read of personal data and is audited by the caller. */
  async page(opts: {
    status: 'open' | 'closed' | 'all';
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ rows: SupportRow[]; nextCursor: string | null }> {
    const rows: SupportRow[] = [];
    for await (const batch of this.store.support.scan()) {
      for (const r of batch) {
        if (opts.status === 'open' && r.closedAt !== null) continue;
        if (opts.status === 'closed' && r.closedAt === null) continue;
        rows.push(r);
      }
    }
    rows.sort(newestFirst('createdAt'));
    const { page, nextCursor } = pageAfterCursor(rows, opts);
    return { rows: page, nextCursor };
  }

  async openCount(): Promise<number> {
    let n = 0;
    for await (const batch of this.store.support.scan()) for (const r of batch) if (r.closedAt === null) n++;
    return n;
  }

  /** Close a request: from now its retention runs. Closing twice keeps the first date. */
  async close(id: string, actor: string): Promise<SupportRow> {
    const now = this.clock.now();
    const updated = await this.store.support.update(
      id,
      { closedAt: now, deleteAfter: now + this.retentionMs },
      { if: (c) => c.closedAt === null },
    );
    if (updated) {
      await this.audit.record(actor, 'support.closed', updated.accountId, { requestId: id });
      return updated;
    }
    const existing = await this.store.support.get(id);
    if (!existing) throw notFound('No such request');
    return existing;
  }

  /** Retention: closed requests past their stated retention are deleted. Returns how many. */
  async deleteExpired(now: number, opts: SweepOptions): Promise<number> {
    return sweepUpTo(
      this.store.support,
      'deleteAfter',
      now,
      async (r) => r.closedAt !== null && this.store.support.remove(r.id),
      opts,
    );
  }
}
