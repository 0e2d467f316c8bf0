import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { toIso, toIsoOrNull } from '../../shared/units.js';
import type { Notice } from '../../shared/schemas/account.js';
import type { PublishPolicyBody } from '../../shared/schemas/policy.js';
import type { NoticeRow, PolicyRow, Store } from '../store/types.js';
import type { AccountsService } from '../accounts/service.js';
import type { ConsentService } from '../consent/service.js';
import type { Notifier } from '../sockets/hub.js';
import type { MailService } from '../mail/service.js';
import { policyUpdateMail } from '../mail/templates.js';
import { JOBS, type JobsService } from '../jobs/service.js';
import { removeAllOfAccount } from '../store/remove-all.js';
import { newestFirst, oldestFirst } from '../core/order.js';

export function noticeView(r: NoticeRow): Notice {
  return {
    id: r.id,
    kind: r.kind,
    policyVersion: r.policyVersion,
    effectiveAt: toIsoOrNull(r.effectiveAt),
    createdAt: toIso(r.createdAt),
    readAt: toIsoOrNull(r.readAt),
  };
}

const fanOutKey = (version: string) => `policy-fanout:${version}`;
export const policyMailTemplate = (version: string) => `policy_update:${version}`;

export interface NoticesOptions {
  /** Base URL of the public policy page in emails (PUBLIC_URL). */
  publicUrl: string;
  batchSize?: number;
}

export interface NoticesDeps {
  store: Store;
  clock: Clock;
  consent: Pick<ConsentService, 'publish' | 'policy'>;
  accounts: Pick<AccountsService, 'get' | 'openAccountIds'>;
  mail: Pick<MailService, 'forAccount' | 'queueEssential'>;
  notifier: Pick<Notifier, 'toAccount'>;
  /** A fan-out runs on one process at a time, however many share the store. */
  jobs: Pick<JobsService, 'runExclusive'>;
  options: NoticesOptions;
  logger?: Logger;
}

/**
 * Policy notices (P18): publishing a version tells every open account in the app (a stored
 * notice, pushed live as the `notice` socket event) and by email (an essential outbox mail,
 * sent even to parents who opted out of marketing). The fan-out is resumable: its progress
 * is data in the store (a meta row until done, and per account the notice and the mail are
 * each checked before they are made), so a crash mid-way is finished at the next start. Fan-outs
 * run under one job lock (`notices.fanout`): two processes never check-then-insert for the same
 * account at once, which is what keeps a resumed fan-out from sending anything twice.
 */
export class NoticesService {
  private readonly batchSize: number;

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly consent: NoticesDeps['consent'];
  private readonly accounts: NoticesDeps['accounts'];
  private readonly mail: NoticesDeps['mail'];
  private readonly notifier: Pick<Notifier, 'toAccount'>;
  private readonly jobs: Pick<JobsService, 'runExclusive'>;
  private readonly options: NoticesOptions;
  private readonly logger: Logger | undefined;

  constructor(deps: NoticesDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.consent = deps.consent;
    this.accounts = deps.accounts;
    this.mail = deps.mail;
    this.notifier = deps.notifier;
    this.jobs = deps.jobs;
    this.options = deps.options;
    this.logger = deps.logger;
    const { options } = deps;
    this.batchSize = options.batchSize ?? 200;
  }

  /** Publish a version (the 30-day rule for material changes is ConsentService's) and notify everyone. */
  async publishPolicy(body: PublishPolicyBody): Promise<{ policy: PolicyRow; notified: number }> {
    const policy = await this.consent.publish(body);
    await this.store.meta.insert({
      id: fanOutKey(policy.version),
      value: { done: false },
      updatedAt: this.clock.now(),
    });
    // Waits for a fan-out running elsewhere (a resumed one), then does its own.
    const outcome = await this.jobs.runExclusive(JOBS.policyFanOut, () => this.fanOut(policy), { wait: true });
    return { policy, notified: outcome.ran ? outcome.value : 0 };
  }

  /**
   * Finish any fan-out a crash interrupted (run at start-up, and on a timer so a process that
   * died mid-way is finished by one that stays up). Skipped while another process fans out:
   * that one finishes its own. Returns how many accounts were notified now.
   */
  async resumeFanOuts(): Promise<number> {
    const outcome = await this.jobs.runExclusive(JOBS.policyFanOut, () => this.resumeLocked());
    return outcome.ran ? outcome.value : 0;
  }

  private async resumeLocked(): Promise<number> {
    let notified = 0;
    const pending: PolicyRow[] = [];
    for await (const batch of this.store.meta.scan()) {
      for (const row of batch) {
        if (!row.id.startsWith('policy-fanout:')) continue;
        const value = row.value as { done?: boolean } | null;
        if (value?.done) continue;
        const policy = await this.consent.policy(row.id.slice('policy-fanout:'.length));
        if (policy) pending.push(policy);
      }
    }
    for (const policy of pending) notified += await this.fanOut(policy);
    return notified;
  }

  private async fanOut(policy: PolicyRow): Promise<number> {
    let notified = 0;
    const ids = await this.accounts.openAccountIds(policy.publishedAt);
    for (let i = 0; i < ids.length; i += this.batchSize) {
      for (const id of ids.slice(i, i + this.batchSize)) if (await this.notifyAccount(id, policy)) notified++;
      // Yield between batches so a fan-out to every family never stalls live calls.
      await new Promise<void>((r) => setImmediate(r));
    }
    await this.store.meta.update(fanOutKey(policy.version), {
      value: { done: true, notified },
      updatedAt: this.clock.now(),
    });
    this.logger?.info({ version: policy.version, notified }, 'policy notice fan-out done');
    return notified;
  }

  /** One account: mail first, then the notice, each only if missing (a resumed fan-out sends no duplicates). */
  private async notifyAccount(accountId: string, policy: PolicyRow): Promise<boolean> {
    const account = await this.accounts.get(accountId);
    if (!account || account.status !== 'active') return false;
    const template = policyMailTemplate(policy.version);
    const mails = await this.mail.forAccount(accountId);
    if (!mails.some((m) => m.template === template)) {
      const content = policyUpdateMail(account.locale, {
        name: account.name,
        version: policy.version,
        effectiveAt: policy.effectiveAt,
        material: policy.material,
        policyUrl: `${this.options.publicUrl}/policy?lang=${account.locale}`,
      });
      await this.mail.queueEssential(account, template, content);
    }
    const notices = await this.store.notices.findBy('accountId', accountId);
    if (notices.some((n) => n.kind === 'policy_update' && n.policyVersion === policy.version)) return false;
    const row: NoticeRow = {
      id: newId(),
      accountId,
      kind: 'policy_update',
      policyVersion: policy.version,
      effectiveAt: policy.effectiveAt,
      createdAt: this.clock.now(),
      readAt: null,
    };
    await this.store.notices.insert(row);
    this.notifier.toAccount(accountId, 'notice', noticeView(row));
    return true;
  }

  /** The account's notices, newest first (GET /api/me `notices`). */
  async forAccount(accountId: string): Promise<Notice[]> {
    return (await this.rows(accountId)).map(noticeView);
  }

  async rows(accountId: string): Promise<NoticeRow[]> {
    return (await this.store.notices.findBy('accountId', accountId)).sort(newestFirst('createdAt'));
  }

  /** The account's part of the data export (P11): every notice, oldest first. */
  async exportFor(accountId: string): Promise<Notice[]> {
    return (await this.store.notices.findBy('accountId', accountId)).sort(oldestFirst('createdAt')).map(noticeView);
  }

  /** The purge of a closed account (P10): its notices go. Returns how many. */
  async removeAllForAccount(accountId: string): Promise<number> {
    return removeAllOfAccount(this.store.notices, accountId);
  }

  /** Mark one of the account's notices read; another account's id is a 404 and changes nothing. */
  async markRead(accountId: string, noticeId: string): Promise<Notice> {
    const row = await this.store.notices.get(noticeId);
    if (!row || row.accountId !== accountId) throw notFound('No such notice');
    if (row.readAt !== null) return noticeView(row);
    const updated = await this.store.notices.update(
      noticeId,
      { readAt: this.clock.now() },
      { if: (c) => c.accountId === accountId },
    );
    if (!updated) throw notFound('No such notice');
    return noticeView(updated);
  }
}
