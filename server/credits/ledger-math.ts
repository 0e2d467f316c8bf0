import type { LedgerRow } from '../store/types.js';

export interface CreditState {
  /** Seconds owned: purchases and grants less what calls used and what refunds took back. Never negative. */
  balanceSeconds: number;
  /** Balance less the holds of live calls: what a new call may use. Never negative. */
  availableSeconds: number;
  /** Seconds refunded or disputed after they were already spent: no call starts until settled. */
  owesSeconds: number;
  /** Seconds held by calls that have not settled. */
  heldSeconds: number;
}

/** Derives an account's credit from its ledger entries alone; nothing else is the truth. */
export function creditState(entries: readonly LedgerRow[]): CreditState {
  let raw = 0;
  const held = new Map<string, number>();
  for (const e of entries) {
    switch (e.kind) {
      case 'purchase':
      case 'grant':
      case 'reinstate':
        raw += e.seconds;
        break;
      case 'refund':
      case 'reversal':
        raw -= e.seconds;
        break;
      case 'capture':
        raw -= e.seconds;
        if (e.callId) held.set(e.callId, (held.get(e.callId) ?? 0) - e.seconds);
        break;
      case 'hold':
        if (e.callId) held.set(e.callId, (held.get(e.callId) ?? 0) + e.seconds);
        break;
      case 'release':
        if (e.callId) held.set(e.callId, (held.get(e.callId) ?? 0) - e.seconds);
        break;
    }
  }
  let heldSeconds = 0;
  for (const v of held.values()) heldSeconds += Math.max(0, v);
  const balanceSeconds = Math.max(0, raw);
  return {
    balanceSeconds,
    availableSeconds: Math.max(0, raw - heldSeconds),
    owesSeconds: Math.max(0, -raw),
    heldSeconds,
  };
}
