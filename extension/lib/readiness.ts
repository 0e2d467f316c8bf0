import type { CallBlock, CallReadiness } from '../../shared/index.js';
import type { ApiClient } from './api.js';
import { intlLocale, t, type MessageKey } from './i18n.js';

/**
 * What stands between a child and a call, said on the child's button before any window opens
 * (the side panel and the popup ask GET /api/calls/readiness, which runs call:start's checks).
 */
export type ChildReadiness = CallReadiness['profiles'][number];

export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The readiness for this browser's time zone, or null when it cannot be known (the call start still checks). */
export async function loadReadiness(api: ApiClient): Promise<CallReadiness | null> {
  try {
    return await api.callReadiness(localTimeZone());
  } catch {
    return null;
  }
}

/**
 * The short line on a child's button: "Quiet time until 07:00", "No call time left", "Ada is on
 * a call". With two siblings on calls, the time is held by both: both are named.
 */
export function blockLabel(
  r: ChildReadiness,
  nameOf: (profileId: string) => string | null,
  live: readonly { profileId: string }[] = [],
): string {
  const block = r.block as CallBlock;
  if (block === 'quiet_hours') return t('readiness.quiet_hours', { until: r.until ?? '' });
  if (block === 'credit_held') {
    const callers = [...new Set(live.map((c) => c.profileId))].filter((id) => id !== r.profileId);
    const names = callers.map(nameOf).filter((n): n is string => n !== null);
    if (callers.length > 1 && names.length === callers.length)
      return t('readiness.credit_held_many', {
        names: new Intl.ListFormat(intlLocale(), { type: 'conjunction' }).format(names),
      });
    return t('readiness.credit_held', { name: (r.liveProfileId && nameOf(r.liveProfileId)) || t('live.yourChild') });
  }
  return t(`readiness.${block}` as MessageKey);
}

/** How the parent fixes it, where there is something to do (admin-granted time with unverified consent says what is missing). */
export function blockHelp(block: CallBlock, hasCredit: boolean): string | null {
  if (block === 'consent_unverified')
    return hasCredit ? t('readiness.help.consent_unverified_gift') : t('readiness.help.consent_unverified');
  if (block === 'insufficient_credit' || block === 'credit_owed') return t('readiness.help.buy');
  if (block === 'processing_restricted') return t('readiness.help.restricted');
  if (block === 'consent_required' || block === 'consent_outdated') return t('readiness.help.consent');
  return null;
}

/** Seconds live calls hold from the balance, shown beside the one credit figure (what a call may use now). */
export function heldSeconds(credit: { balanceSeconds: number; availableSeconds: number }): number {
  return Math.max(0, credit.balanceSeconds - credit.availableSeconds);
}
