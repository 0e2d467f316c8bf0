import type { Account, Policy } from '../../shared/index.js';

/**
 * Whether the side panel must ask for consent before anything else: none given yet (no child
 * data may be stored before it), or a material policy change has taken effect since (a call
 * would be refused with consent_outdated until the parent accepts it again).
 */
export function needsConsent(
  account: Pick<Account, 'consent'>,
  policy: Pick<Policy, 'version' | 'material'> | null,
): boolean {
  if (!account.consent) return true;
  return policy !== null && account.consent.version !== policy.version && policy.material;
}
