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
