import type { Account, Notice } from '../../shared/schemas/account.js';
import { toIso } from '../../shared/units.js';
import type { AccountRow } from '../store/types.js';

/** What other modules know about an account; app.ts wires the real services in. */
export interface AccountFacts {
  consent(accountId: string): Promise<{ version: string; at: number; verified: boolean } | null>;
  credit(accountId: string): Promise<{ balanceSeconds: number; availableSeconds: number; owesSeconds: number }>;
  notices(accountId: string): Promise<Notice[]>;
}

export function makeAccountView(facts: AccountFacts) {
  return async (row: AccountRow): Promise<Account> => {
    const [consent, credit, notices] = await Promise.all([
      facts.consent(row.id),
      facts.credit(row.id),
      facts.notices(row.id),
    ]);
    return {
      id: row.id,
      email: row.email,
      name: row.name,
      locale: row.locale,
      restricted: row.restricted,
      marketingOptIn: row.marketingOptIn,
      consent: consent ? { version: consent.version, at: toIso(consent.at), verified: consent.verified } : null,
      balanceSeconds: credit.balanceSeconds,
      availableSeconds: credit.availableSeconds,
      owesSeconds: credit.owesSeconds,
      deletion: row.purgeBy !== null ? { purgeBy: toIso(row.purgeBy) } : null,
      notices,
      createdAt: toIso(row.createdAt),
    };
  };
}

export type AccountView = ReturnType<typeof makeAccountView>;
