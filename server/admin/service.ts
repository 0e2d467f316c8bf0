import type { Clock } from '../core/clock.js';
import { DAY_MS, toIso } from '../../shared/units.js';
import type { AdminAccount, AdminStats } from '../../shared/schemas/privacy.js';
import type { Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { ConsentService } from '../consent/service.js';
import type { CreditsService } from '../credits/service.js';
import type { MailService } from '../mail/service.js';
import type { SupportService } from '../support/service.js';

/** Read-side of the admin API: counts for the dashboard and the minimal, audited account lookup. */
export class AdminService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly consent: ConsentService,
    private readonly credits: Pick<CreditsService, 'state'>,
    private readonly mail: MailService,
    private readonly support: SupportService,
  ) {}

  /** Counts only, no personal data: nothing to audit. Usage of restricted accounts is left out. */
  async stats(): Promise<AdminStats> {
    const active = await this.store.accounts.findBy('status', 'active');
    const closed = await this.store.accounts.findBy('status', 'closed');
    const now = this.clock.now();
    const dayStart = now - (now % DAY_MS); // UTC midnight
    let today = 0;
    let live = 0;
    let secondsToday = 0;
    let secondsTotal = 0;
    // Restricted processing (P12): a restricted account's usage is kept but not aggregated.
    const restricted = new Set(active.filter((a) => a.restricted).map((a) => a.id));
    for await (const batch of this.store.calls.scan()) {
      for (const c of batch) {
        if (c.accountId !== null && restricted.has(c.accountId)) continue;
        secondsTotal += c.meteredSeconds;
        if (c.endedAt === null) live++;
        if (c.startedAt >= dayStart) {
          today++;
          secondsToday += c.meteredSeconds;
        }
      }
    }
    let soldSeconds = 0;
    for (const e of await this.store.ledger.findBy('kind', 'purchase')) soldSeconds += e.seconds;
    let payments = 0;
    const amounts = new Map<string, number>();
    for await (const batch of this.store.payments.scan()) {
      for (const p of batch) {
        if (p.paidAt === null) continue;
        payments++;
        amounts.set(p.currency, (amounts.get(p.currency) ?? 0) + p.amount);
      }
    }
    return {
      accounts: { active: active.length, closed: closed.length, restricted: active.filter((a) => a.restricted).length },
      calls: { today, live, minutesToday: Math.floor(secondsToday / 60), minutesTotal: Math.floor(secondsTotal / 60) },
      creditSold: { seconds: soldSeconds, payments, amounts: [...amounts].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })) },
      outbox: { pending: await this.mail.pendingCount() },
      support: { open: await this.support.openCount() },
    };
  }

  /** Minimal fields for one account, by email. Every lookup is an admin read of personal data and is audited, found or not. */
  async lookup(email: string): Promise<AdminAccount | null> {
    const row = await this.store.accounts.findOne('email', email);
    // The email itself never goes into the audit log: only the id that was revealed, if any.
    await this.audit.record('admin', 'admin.account_lookup', row?.id ?? null, { found: row !== undefined });
    if (!row) return null;
    const [consent, credit, profiles] = await Promise.all([
      this.consent.state(row.id),
      this.credits.state(row.id),
      this.store.profiles.findBy('accountId', row.id),
    ]);
    return {
      id: row.id,
      status: row.status,
      restricted: row.restricted,
      createdAt: toIso(row.createdAt),
      purgeBy: row.purgeBy === null ? null : toIso(row.purgeBy),
      consent: consent ? { version: consent.version, verified: consent.verified } : null,
      profiles: profiles.length,
      balanceSeconds: credit.balanceSeconds,
      availableSeconds: credit.availableSeconds,
    };
  }
}
