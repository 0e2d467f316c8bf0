import type { CallRow } from '../../server/store/types.js';

type Given = Pick<CallRow, 'id' | 'accountId' | 'startedAt'> & Partial<CallRow>;

/**
 * A call record a test writes straight into a store: a Simulated Santa call that no process
 * owns, not ended and nothing metered yet, unless `given` says otherwise. The test names what
 * it is about; the other columns are set here once, so a new column is added in one place.
 */
export function testCallRow(given: Given): CallRow {
  return {
    profileId: null,
    provider: 'simulated',
    providerCallId: null,
    heldSeconds: 0,
    meteredSeconds: 0,
    checkpointAt: given.startedAt,
    endedAt: null,
    reason: null,
    settledAt: null,
    ownerId: null,
    leaseUntil: 0,
    limitReason: null,
    endRequest: null,
    window: null,
    ...given,
  };
}

/** A call the child hung up after `seconds`, metered and settled at that moment. */
export function endedCallRow(given: Given & { seconds: number }): CallRow {
  const { seconds, ...rest } = given;
  const endedAt = given.startedAt + seconds * 1000;
  return testCallRow({
    meteredSeconds: seconds,
    checkpointAt: endedAt,
    endedAt,
    reason: 'hangup',
    settledAt: endedAt,
    ...rest,
  });
}
