import type { Clock } from '../core/clock.js';
import { AppError, notFound } from '../core/errors.js';
import { DAY_MS, toIso, toIsoOrNull } from '../../shared/units.js';
import type { AdminAccount, AdminStats } from '../../shared/schemas/privacy.js';
import type { AdminGrantBody } from '../../shared/schemas/admin.js';
import type { PublishPolicyBody } from '../../shared/schemas/policy.js';
import type { AccountsService } from '../accounts/service.js';
import type { AuditService } from '../audit/service.js';
import { noSuchCall, type CallsService } from '../calls/service.js';
import type { ConsentService } from '../consent/service.js';
import type { CreditsService } from '../credits/service.js';
import type { MailService } from '../mail/service.js';
import type { NoticesService } from '../notices/service.js';
import type { PaymentsService } from '../payments/service.js';
import type { ProfilesService } from '../profiles/service.js';
import type { RetentionScheduler } from '../retention/scheduler.js';
import { supportView, type SupportService } from '../support/service.js';

/** Every admin action is recorded under this actor. */
const ACTOR = 'admin';

export interface AdminDeps {
  clock: Clock;
  audit: Pick<AuditService, 'record' | 'page' | 'verifyChain'>;
  accounts: Pick<AccountsService, 'get' | 'findByEmail' | 'census'>;
  profiles: Pick<ProfilesService, 'listRows'>;
  consent: Pick<ConsentService, 'state' | 'policyView'>;
  credits: Pick<CreditsService, 'state' | 'grant' | 'soldSeconds'>;
  payments: Pick<PaymentsService, 'paidTotals'>;
  calls: Pick<CallsService, 'endCall' | 'usage'>;
  notices: Pick<NoticesService, 'publishPolicy'>;
  retention: Pick<RetentionScheduler, 'runNow'>;
  mail: Pick<MailService, 'pendingCount' | 'page' | 'sending'>;
  support: Pick<SupportService, 'openCount' | 'page' | 'close'>;
}

/**
 * What the admin API does: dashboard counts, the minimal account lookup, credit grants, ending
 * a call, the audit log, policy publication, a retention run, the outbox and support queues.
 * Each table is read through the service that owns it; every read of personal data and every
 * change is audited here, so the routes only parse and answer.
 */
export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  /** Counts only, no personal data: nothing to audit. Usage of restricted accounts is left out. */
  async stats(): Promise<AdminStats> {
    const { accounts, calls, credits, payments, mail, support, clock } = this.deps;
    const census = await accounts.census();
    const now = clock.now();
    // Restricted processing (P12): a restricted account's usage is kept but not aggregated.
    const usage = await calls.usage({ since: now - (now % DAY_MS), leaveOut: new Set(census.restrictedIds) });
    const paid = await payments.paidTotals();
    return {
      accounts: { active: census.active, closed: census.closed, restricted: census.restrictedIds.length },
      calls: {
        today: usage.callsSince,
        live: usage.live,
        minutesToday: Math.floor(usage.secondsSince / 60),
        minutesTotal: Math.floor(usage.secondsTotal / 60),
      },
      creditSold: { seconds: await credits.soldSeconds(), payments: paid.payments, amounts: paid.amounts },
      outbox: { pending: await mail.pendingCount() },
      support: { open: await support.openCount() },
    };
  }

  /** Minimal fields for one account, by email. Every lookup is an admin read of personal data and is audited, found or not. */
  async lookup(email: string): Promise<AdminAccount | null> {
    const row = await this.deps.accounts.findByEmail(email);
    // The email itself never goes into the audit log: only the id that was revealed, if any.
    await this.deps.audit.record(ACTOR, 'admin.account_lookup', row?.id ?? null, { found: row !== undefined });
    if (!row) return null;
    const [consent, credit, profiles] = await Promise.all([
      this.deps.consent.state(row.id),
      this.deps.credits.state(row.id),
      this.deps.profiles.listRows(row.id),
    ]);
    return {
      id: row.id,
      status: row.status,
      restricted: row.restricted,
      createdAt: toIso(row.createdAt),
      purgeBy: toIsoOrNull(row.purgeBy),
      consent: consent ? { version: consent.version, verified: consent.verified } : null,
      profiles: profiles.length,
      balanceSeconds: credit.balanceSeconds,
      availableSeconds: credit.availableSeconds,
    };
  }

  /** Call time given to an open account (the ledger audits the grant with its reason). */
  async grant(accountId: string, body: AdminGrantBody) {
    const account = await this.deps.accounts.get(accountId);
    if (!account || account.status !== 'active') throw notFound('No such open account');
    await this.deps.credits.grant(accountId, body.seconds, body.reason, ACTOR);
    const state = await this.deps.credits.state(accountId);
    return {
      accountId,
      grantedSeconds: body.seconds,
      balanceSeconds: state.balanceSeconds,
      availableSeconds: state.availableSeconds,
    };
  }

  /** End one call through the calls module's closing path; audited once, when it ended. */
  async endCall(callId: string): Promise<{ ok: true; callId: string }> {
    const ended = await this.deps.calls.endCall(callId, 'admin');
    if (!ended) throw noSuchCall();
    await this.deps.audit.record(ACTOR, 'admin.call_end', callId, {});
    return { ok: true, callId };
  }

  async auditPage(limit: number, cursor: string | undefined) {
    const before = cursor !== undefined ? Number(cursor) : undefined;
    if (before !== undefined && !Number.isInteger(before))
      throw new AppError('invalid_request', 400, 'Invalid cursor', { cursor: 'Not a cursor' });
    const page = await this.deps.audit.page(limit, before);
    return {
      entries: page.entries.map((e) => ({
        seq: e.seq,
        id: e.id,
        at: toIso(e.at),
        actor: e.actor,
        action: e.action,
        subject: e.subject,
        details: e.details,
        prevHash: e.prevHash,
        hash: e.hash,
      })),
      nextCursor: page.nextCursor,
    };
  }

  verifyAudit() {
    return this.deps.audit.verifyChain();
  }

  async publishPolicy(body: PublishPolicyBody) {
    const { notified } = await this.deps.notices.publishPolicy(body);
    return { policy: await this.deps.consent.policyView(), notified };
  }

  async runRetention() {
    const result = await this.deps.retention.runNow();
    return { startedAt: toIso(result.startedAt), finishedAt: toIso(result.finishedAt), counts: result.counts };
  }

  /** The outbox holds addresses: reading it is audited (with how many entries, not which). */
  async outbox(q: Parameters<MailService['page']>[0]) {
    const page = await this.deps.mail.page(q);
    await this.deps.audit.record(ACTOR, 'admin.outbox_read', null, { entries: page.entries.length, status: q.status });
    return { sending: this.deps.mail.sending, ...page };
  }

  /** Support requests hold what parents wrote: reading them is audited. */
  async supportRequests(q: Parameters<SupportService['page']>[0]) {
    const page = await this.deps.support.page(q);
    await this.deps.audit.record(ACTOR, 'admin.support_read', null, { entries: page.rows.length, status: q.status });
    return {
      requests: page.rows.map((row) => ({ ...supportView(row), accountId: row.accountId })),
      nextCursor: page.nextCursor,
    };
  }

  async closeSupport(id: string) {
    const row = await this.deps.support.close(id, ACTOR);
    return { ...supportView(row), accountId: row.accountId };
  }
}
