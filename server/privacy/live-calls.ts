import type { CallEndReason } from '../../shared/schemas/calls.js';

/**
 * What privacy, retention and admin need from the calls module: end every live call of an
 * account (closed or restricted) and end one call by id (admin). app.ts passes the calls
 * service, which settles each ended call's credit exactly once.
 */
export interface LiveCalls {
  /** Ends every live call of the account; returns how many were ended. */
  endAllForAccount(accountId: string, reason: CallEndReason): Promise<number>;
  /** Ends one live call; false when no such live call exists. */
  endCall(callId: string, reason: CallEndReason): Promise<boolean>;
}

/**
 * The stand-in used until a calls service is wired: calls are rows in the store, and ending
 * one marks the open row ended (conditionally, so an end that races a real one changes
 * nothing). It cannot hang up a provider session, which only a calls service holds.
 */
export function storeLiveCalls(
  store: { calls: { findBy(field: 'accountId', value: string): Promise<CallRowLike[]>; get(id: string): Promise<CallRowLike | undefined>; update(id: string, patch: Partial<CallRowLike>, opts: { if: (c: CallRowLike) => boolean }): Promise<unknown> } },
  clock: { now(): number },
): LiveCalls {
  const end = async (row: CallRowLike, reason: CallEndReason) =>
    (await store.calls.update(row.id, { endedAt: clock.now(), reason }, { if: (c) => c.endedAt === null })) !== undefined;
  return {
    async endAllForAccount(accountId, reason) {
      let n = 0;
      for (const row of await store.calls.findBy('accountId', accountId)) if (row.endedAt === null && (await end(row, reason))) n++;
      return n;
    },
    async endCall(callId, reason) {
      const row = await store.calls.get(callId);
      return !!row && row.endedAt === null && (await end(row, reason));
    },
  };
}

interface CallRowLike {
  id: string;
  endedAt: number | null;
  reason: CallEndReason | null;
}
