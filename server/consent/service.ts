import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { AppError, conflict, invalid } from '../core/errors.js';
import { DAY_MS, toIso, toIsoOrNull } from '../../shared/units.js';
import type { Policy, PublishPolicyBody } from '../../shared/schemas/policy.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import type { ConsentRow, PolicyRow, Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import { INITIAL_POLICY } from './initial-policy.js';
import { removeAllOfAccount } from '../store/remove-all.js';
import { oldestFirst } from '../core/order.js';

export const MATERIAL_NOTICE_DAYS = 30;

export interface ConsentState {
  version: string;
  at: number;
  verified: boolean;
}

/** Why a call may not start yet, from the consent side; null when it may. */
export type ConsentBlock = 'consent_required' | 'consent_unverified' | 'consent_outdated' | null;

/** A completed card payment, as the payments module reports it. */
export interface CardPayment {
  paidAt: number;
  /** Paid with the dev provider: a simulated card transaction. */
  simulated: boolean;
}

export interface ConsentDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  /** The payments module owns the payments table: consent asks it for the parent's first payment. */
  payments: { firstCompleted(accountId: string): Promise<CardPayment | null> };
}

/**
 * The one rule of verification by payment: a completed card payment verifies the parent
 * (COPPA's card-transaction method), as of when it was paid.
 */
function cardPaymentVerification(payment: CardPayment): { verifiedAt: number; verifiedBy: string } {
  return { verifiedAt: payment.paidAt, verifiedBy: payment.simulated ? 'card_payment_simulated' : 'card_payment' };
}

/** Policy versions and parental consent (P5, P18). */
export class ConsentService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;

  constructor(private readonly deps: ConsentDeps) {
    ({ store: this.store, clock: this.clock, audit: this.audit } = deps);
  }

  /** Seed the first policy so a new installation can take consent at once. */
  async ensureInitialPolicy(): Promise<void> {
    if ((await this.store.policies.count()) > 0) return;
    await this.store.policies.insert({
      id: INITIAL_POLICY.version,
      version: INITIAL_POLICY.version,
      material: INITIAL_POLICY.material,
      effectiveAt: INITIAL_POLICY.effectiveAt,
      publishedAt: INITIAL_POLICY.effectiveAt,
      text: { ...INITIAL_POLICY.text },
    });
  }

  private async versions(): Promise<PolicyRow[]> {
    const rows: PolicyRow[] = [];
    for await (const batch of this.store.policies.scan()) rows.push(...batch);
    return rows.sort((a, b) => a.effectiveAt - b.effectiveAt || a.publishedAt - b.publishedAt);
  }

  /** The version in force now, and the next one announced, if any. */
  async currentAndUpcoming(): Promise<{ current: PolicyRow; upcoming: PolicyRow | null }> {
    const now = this.clock.now();
    const all = await this.versions();
    const inForce = all.filter((p) => p.effectiveAt <= now);
    const current = inForce[inForce.length - 1] ?? all[0];
    if (!current) throw new Error('no policy version in the store');
    const upcoming = all.find((p) => p.effectiveAt > now && p !== current) ?? null;
    return { current, upcoming };
  }

  async policyView(): Promise<Policy> {
    const { current, upcoming } = await this.currentAndUpcoming();
    const view = (p: PolicyRow) => ({
      version: p.version,
      effectiveAt: toIso(p.effectiveAt),
      material: p.material,
      publishedAt: toIso(p.publishedAt),
      text: { ...p.text },
    });
    return { ...view(current), upcoming: upcoming ? view(upcoming) : null };
  }

  /** Explicit consent to the current (or announced upcoming) version. */
  async give(accountId: string, policyVersion: string, method = 'explicit_checkbox'): Promise<ConsentRow> {
    const { current, upcoming } = await this.currentAndUpcoming();
    if (policyVersion !== current.version && policyVersion !== upcoming?.version) {
      throw conflict('conflict', `Policy version ${policyVersion} is not the current one (${current.version})`);
    }
    const previous = await this.store.consents.findBy('accountId', accountId);
    // Verification belongs to the parent, not the version: it carries over, and a card
    // payment completed before the first consent counts as soon as consent is given.
    const paid = previous.some((c) => c.verifiedAt !== null)
      ? null
      : await this.deps.payments.firstCompleted(accountId);
    const verified = previous.find((c) => c.verifiedAt !== null) ?? (paid ? cardPaymentVerification(paid) : null);
    const row: ConsentRow = {
      id: newId(),
      accountId,
      policyVersion,
      at: this.clock.now(),
      method,
      verifiedAt: verified?.verifiedAt ?? null,
      verifiedBy: verified?.verifiedBy ?? null,
    };
    await this.store.consents.insert(row);
    await this.audit.record(`account:${accountId}`, 'consent.given', accountId, { policyVersion, method });
    return row;
  }

  /**
   * A card payment completed: it verifies the parent's consent, if consent was given and not
   * yet verified (a payment before consent counts when consent is given). Idempotent.
   */
  async cardPaymentCompleted(accountId: string, payment: CardPayment): Promise<boolean> {
    const { verifiedAt, verifiedBy } = cardPaymentVerification(payment);
    return this.markVerified(accountId, verifiedBy, verifiedAt);
  }

  /** Verify the parent by `method` (a card payment, or a test's stand-in). Idempotent: only the first counts. */
  async markVerified(accountId: string, method: string, at: number = this.clock.now()): Promise<boolean> {
    const rows = await this.store.consents.findBy('accountId', accountId);
    if (rows.length === 0 || rows.some((c) => c.verifiedAt !== null)) return false;
    // The first row is the decision: of webhooks racing on other connections (PostgreSQL) the one
    // whose conditional update lands verifies and audits; the others find it done.
    const [first, ...rest] = rows;
    if (
      !(await this.store.consents.update(
        first!.id,
        { verifiedAt: at, verifiedBy: method },
        { if: (c) => c.verifiedAt === null },
      ))
    )
      return false;
    for (const c of rest)
      await this.store.consents.update(
        c.id,
        { verifiedAt: at, verifiedBy: method },
        { if: (row) => row.verifiedAt === null },
      );
    await this.audit.record('system', 'consent.verified', accountId, { method });
    return true;
  }

  async state(accountId: string): Promise<ConsentState | null> {
    const rows = (await this.store.consents.findBy('accountId', accountId)).sort((a, b) => a.at - b.at);
    const latest = rows[rows.length - 1];
    if (!latest) return null;
    return { version: latest.policyVersion, at: latest.at, verified: rows.some((c) => c.verifiedAt !== null) };
  }

  async history(accountId: string): Promise<ConsentRow[]> {
    return (await this.store.consents.findBy('accountId', accountId)).sort((a, b) => a.at - b.at);
  }

  /** May this account store child data? Any recorded consent is enough. */
  async requireConsent(accountId: string): Promise<void> {
    if (!(await this.state(accountId))) {
      throw new AppError('consent_required', 403, 'Give consent to the privacy policy before adding a child');
    }
  }

  /**
   * Before a call: consent recorded, verified, and given to the version in force or to a
   * later one. After a material change takes effect the parent accepts it again.
   */
  async callBlock(accountId: string): Promise<ConsentBlock> {
    const state = await this.state(accountId);
    if (!state) return 'consent_required';
    if (!state.verified) return 'consent_unverified';
    const all = await this.versions();
    const { current } = await this.currentAndUpcoming();
    const consented = all.find((p) => p.version === state.version);
    if (!consented) return 'consent_outdated';
    // Every material version in force after the consented one needs fresh consent.
    const missed = all.filter(
      (p) => p.material && p.effectiveAt > consented.effectiveAt && p.effectiveAt <= current.effectiveAt,
    );
    return missed.length ? 'consent_outdated' : null;
  }

  /** One published version (a notice fan-out resumed after a crash finds its policy here). */
  async policy(version: string): Promise<PolicyRow | undefined> {
    return this.store.policies.findOne('version', version);
  }

  /** The account's part of the data export (P11): every consent given, oldest first. */
  async exportFor(accountId: string): Promise<ExportDocument['consents']> {
    const rows = await this.store.consents.findBy('accountId', accountId);
    return rows.sort(oldestFirst('at')).map((c) => ({
      policyVersion: c.policyVersion,
      at: toIso(c.at),
      method: c.method,
      verifiedAt: toIsoOrNull(c.verifiedAt),
      verifiedBy: c.verifiedBy,
    }));
  }

  /** The purge of a closed account (P10): its consent records go. Returns how many. */
  async removeAllForAccount(accountId: string): Promise<number> {
    return removeAllOfAccount(this.store.consents, accountId);
  }

  /** Publish a version; a material change takes effect no sooner than 30 days later. */
  async publish(body: PublishPolicyBody): Promise<PolicyRow> {
    const now = this.clock.now();
    const effectiveAt = Date.parse(body.effectiveAt);
    if (body.material && effectiveAt < now + MATERIAL_NOTICE_DAYS * DAY_MS) {
      throw new AppError(
        'policy_notice_too_short',
        400,
        `A material change takes effect at least ${MATERIAL_NOTICE_DAYS} days after it is published`,
        {
          effectiveAt: `At least ${MATERIAL_NOTICE_DAYS} days from now`,
        },
      );
    }
    if (effectiveAt < now) throw invalid('effectiveAt is in the past', { effectiveAt: 'In the past' });
    if (await this.store.policies.findOne('version', body.version)) {
      throw conflict('policy_version_exists', `Policy version ${body.version} already exists`);
    }
    const row: PolicyRow = {
      id: body.version,
      version: body.version,
      material: body.material,
      effectiveAt,
      publishedAt: now,
      text: { ...body.text },
    };
    await this.store.policies.insert(row);
    await this.audit.record('admin', 'policy.published', null, {
      version: body.version,
      material: body.material,
      effectiveAt,
    });
    return row;
  }
}
