import { toIso, toIsoOrNull } from '../../shared/units.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import type { Store } from '../store/types.js';
import { oldestFirst } from '../core/order.js';

export interface CallRecordsDeps {
  store: Store;
}

/**
 * The calls table as the other modules need it when no live call is involved: the export, the
 * anonymising done when a profile or an account goes, a count for the metrics. The calls
 * module owns the table; this is its door for them (live calls, their ends and recovery stay
 * in CallsService). It needs only the store, so profiles can be built before the calls service.
 */
export class CallRecords {
  private readonly store: Store;

  constructor(deps: CallRecordsDeps) {
    this.store = deps.store;
  }

  /** The account's call records for the data export (P11), oldest first. */
  async exportFor(accountId: string): Promise<ExportDocument['calls']> {
    const rows = await this.store.calls.findBy('accountId', accountId);
    return rows.sort(oldestFirst('startedAt')).map((c) => ({
      id: c.id,
      profileId: c.profileId,
      provider: c.provider,
      startedAt: toIso(c.startedAt),
      endedAt: toIsoOrNull(c.endedAt),
      seconds: c.meteredSeconds,
      reason: c.reason,
    }));
  }

  /** A deleted profile (P9): its past calls keep only an anonymous reference (profileId null). */
  async detachProfile(profileId: string): Promise<void> {
    for (const call of await this.store.calls.findBy('profileId', profileId)) {
      await this.store.calls.update(call.id, { profileId: null }, { if: (c) => c.profileId === profileId });
    }
  }

  /**
   * A purged account (P10): its call records stay as anonymous usage data until their own
   * retention limit, with neither the account nor the child. Returns how many were changed.
   */
  async anonymiseAccount(accountId: string): Promise<number> {
    let n = 0;
    for (const c of await this.store.calls.findBy('accountId', accountId)) {
      if (await this.store.calls.update(c.id, { accountId: null, profileId: null })) n++;
    }
    return n;
  }
}
