import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestServer, signUpParent, type TestServer } from '../../test/support/server.js';
import { creditsUpdatedEventSchema, type CreditsUpdatedEvent } from '../../shared/schemas/credits.js';
import type { LedgerRow, Store, Table } from '../store/types.js';
import { CreditsService } from './service.js';
import { creditState } from './ledger-math.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

const credits = () => server.app.services.credits;
const ledgerOf = async (accountId: string) => server.app.store.ledger.findBy('accountId', accountId);

/** Seconds bought less seconds held, from the raw entries: never clamped, so it can show an overdraw. */
function unclampedAvailable(entries: LedgerRow[]): number {
  const s = creditState(entries);
  const raw = entries.reduce((sum, e) => {
    if (e.kind === 'purchase' || e.kind === 'grant') return sum + e.seconds;
    if (e.kind === 'refund' || e.kind === 'reversal' || e.kind === 'capture') return sum - e.seconds;
    return sum;
  }, 0);
  return raw - s.heldSeconds;
}

/** The app's store, with the ledger's insert failing once for the first reference that matches. */
function storeFailingOnce(store: Store, failRef: RegExp): Store {
  let armed = true;
  const ledger = new Proxy(store.ledger, {
    get(target, prop) {
      if (prop === 'insert') {
        return async (row: LedgerRow) => {
          if (armed && failRef.test(row.ref)) {
            armed = false;
            throw new Error('simulated crash before the write');
          }
          return target.insert(row);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Table<LedgerRow>;
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'ledger') return ledger;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('credit holds', () => {
  it('50 concurrent holds against credit for 3 calls: exactly 3 succeed and available credit never goes below zero', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 3 * 600, 'cs_test_three_calls');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => credits().hold(accountId, `call-${i}`, { min: 600, max: 600 })),
    );
    expect(results.filter((r) => r !== null)).toEqual([600, 600, 600]);
    const entries = await ledgerOf(accountId);
    expect(entries.filter((e) => e.kind === 'hold')).toHaveLength(3);
    expect(unclampedAvailable(entries)).toBe(0);
    expect(await credits().state(accountId)).toMatchObject({
      balanceSeconds: 1800,
      availableSeconds: 0,
      heldSeconds: 1800,
      owesSeconds: 0,
    });
  });

  it('takes as much as is available up to the maximum, and refuses below the minimum', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 1000, 'cs_test_1000');
    expect(await credits().hold(accountId, 'a', { min: 60, max: 700 })).toBe(700);
    expect(await credits().hold(accountId, 'b', { min: 60, max: 700 })).toBe(300);
    expect(await credits().hold(accountId, 'c', { min: 60, max: 700 })).toBeNull();
    expect(unclampedAvailable(await ledgerOf(accountId))).toBe(0);
  });

  it('holds once for the same call, even when two starts race', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 1200, 'cs_test_1200');
    const [a, b] = await Promise.all([
      credits().hold(accountId, 'same-call', { min: 60, max: 600 }),
      credits().hold(accountId, 'same-call', { min: 60, max: 600 }),
    ]);
    expect(a).toBe(600);
    expect(b).toBe(600);
    expect((await ledgerOf(accountId)).filter((e) => e.kind === 'hold')).toHaveLength(1);
    expect((await credits().state(accountId)).availableSeconds).toBe(600);
  });

  it("never lends another account's hold to a caller that names its call id", async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    await credits().purchase(a.accountId, 600, 'cs_test_a');
    expect(await credits().hold(a.accountId, 'call-of-a', { min: 60, max: 600 })).toBe(600);
    expect(await credits().hold(b.accountId, 'call-of-a', { min: 60, max: 600 })).toBeNull();
    expect(await ledgerOf(b.accountId)).toEqual([]);
  });
});

describe('settlement', () => {
  it('settling a call twice changes the ledger once and answers the first settlement', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 600, 'cs_test_600');
    await credits().hold(accountId, 'call-1', { min: 60, max: 600 });
    expect(await credits().settle('call-1', 100)).toEqual({ capturedSeconds: 100, releasedSeconds: 500 });
    expect(await credits().settle('call-1', 300)).toEqual({ capturedSeconds: 100, releasedSeconds: 500 });
    const both = await Promise.all([credits().settle('call-1', 50), credits().settle('call-1', 500)]);
    expect(both).toEqual([
      { capturedSeconds: 100, releasedSeconds: 500 },
      { capturedSeconds: 100, releasedSeconds: 500 },
    ]);
    expect(await credits().state(accountId)).toMatchObject({
      balanceSeconds: 500,
      availableSeconds: 500,
      heldSeconds: 0,
    });
    const entries = await ledgerOf(accountId);
    expect(entries.filter((e) => e.kind === 'capture')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'release')).toHaveLength(1);
    expect(await credits().isSettled('call-1')).toBe(true);
  });

  it('a capture never exceeds the hold, and a negative reading captures nothing', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 2000, 'cs_test_2000');
    await credits().hold(accountId, 'long', { min: 60, max: 600 });
    expect(await credits().settle('long', 10_000)).toEqual({ capturedSeconds: 600, releasedSeconds: 0 });
    await credits().hold(accountId, 'odd', { min: 60, max: 600 });
    expect(await credits().settle('odd', -5)).toEqual({ capturedSeconds: 0, releasedSeconds: 600 });
    expect(await credits().state(accountId)).toMatchObject({
      balanceSeconds: 1400,
      availableSeconds: 1400,
      heldSeconds: 0,
    });
    expect(await credits().settle('no-such-call', 10)).toBeNull();
  });

  it('a settlement cut off between capture and release completes from the recorded capture, with nothing left held', async () => {
    const { accountId } = await signUpParent(server.api);
    const { store, clock } = server.app;
    const flaky = new CreditsService({
      store: storeFailingOnce(store, /^release:/),
      clock,
      audit: server.app.services.audit,
      notifier: null,
      packs: server.config.packs,
    });
    await flaky.purchase(accountId, 600, 'cs_test_flaky');
    await flaky.hold(accountId, 'cut-off', { min: 60, max: 600 });
    await expect(flaky.settle('cut-off', 100)).rejects.toThrow(/simulated crash/);
    // Recovery settles again from a checkpoint that metered a different number of seconds.
    expect(await flaky.settle('cut-off', 250)).toEqual({ capturedSeconds: 100, releasedSeconds: 500 });
    expect(await flaky.state(accountId)).toMatchObject({ balanceSeconds: 500, availableSeconds: 500, heldSeconds: 0 });
  });

  it('holds and settlements survive a restart, and settle exactly once across it', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 900, 'cs_test_900');
    await credits().hold(accountId, 'across', { min: 60, max: 600 });
    server = await server.restart();
    expect(await credits().state(accountId)).toMatchObject({
      balanceSeconds: 900,
      availableSeconds: 300,
      heldSeconds: 600,
    });
    expect(await credits().settle('across', 120)).toEqual({ capturedSeconds: 120, releasedSeconds: 480 });
    server = await server.restart();
    expect(await credits().settle('across', 400)).toEqual({ capturedSeconds: 120, releasedSeconds: 480 });
    expect(await credits().state(accountId)).toMatchObject({
      balanceSeconds: 780,
      availableSeconds: 780,
      heldSeconds: 0,
    });
  });
});

describe('purchases and take-backs', () => {
  it('a purchase applies once per payment reference', async () => {
    const { accountId } = await signUpParent(server.api);
    expect(await credits().purchase(accountId, 600, 'cs_test_once')).toBe(true);
    expect(await credits().purchase(accountId, 600, 'cs_test_once')).toBe(false);
    expect((await credits().state(accountId)).balanceSeconds).toBe(600);
  });

  it('reverses a payment up to a running target: only the new share, in any order, never more than was bought', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 600, 'cs_test_pay');
    expect(await credits().reverseUpTo(accountId, 'cs_test_pay', 150, 'refund', 'ch_1:1225')).toBe(150);
    expect(await credits().reverseUpTo(accountId, 'cs_test_pay', 150, 'refund', 'ch_1:1225')).toBe(0);
    expect(await credits().reverseUpTo(accountId, 'cs_test_pay', 450, 'refund', 'ch_1:3675')).toBe(300);
    // An older, smaller running total arriving late takes nothing.
    expect(await credits().reverseUpTo(accountId, 'cs_test_pay', 300, 'refund', 'ch_1:2450')).toBe(0);
    // A dispute reverses what is left, and nothing more.
    expect(await credits().reverseUpTo(accountId, 'cs_test_pay', 600, 'reversal', 'dispute')).toBe(150);
    expect(await credits().reverseUpTo(accountId, 'cs_test_pay', 900, 'refund', 'ch_1:9999')).toBe(0);
    expect(await credits().state(accountId)).toMatchObject({ balanceSeconds: 0, owesSeconds: 0 });
    // Nothing to reverse for a payment that was never credited.
    expect(await credits().reverseUpTo(accountId, 'cs_test_unpaid', 600, 'refund', 'ch_2:4900')).toBe(0);
  });

  it('a refund after half the credit was used leaves the rest owed: no negative balance, and no call can start', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 600, 'cs_test_half');
    await credits().hold(accountId, 'used-half', { min: 60, max: 600 });
    await credits().settle('used-half', 300);
    expect(await credits().reverseUpTo(accountId, 'cs_test_half', 600, 'refund', 'ch_h:4900')).toBe(600);
    expect(await credits().state(accountId)).toEqual({
      balanceSeconds: 0,
      availableSeconds: 0,
      owesSeconds: 300,
      heldSeconds: 0,
    });
    expect(await credits().hold(accountId, 'next', { min: 1, max: 600 })).toBeNull();
    // A later purchase pays what is owed first.
    await credits().purchase(accountId, 600, 'cs_test_again');
    expect(await credits().state(accountId)).toMatchObject({
      balanceSeconds: 300,
      availableSeconds: 300,
      owesSeconds: 0,
    });
  });

  it('concurrent take-backs of one payment never take more than was bought', async () => {
    const { accountId } = await signUpParent(server.api);
    await credits().purchase(accountId, 600, 'cs_test_race');
    const taken = await Promise.all([
      credits().reverseUpTo(accountId, 'cs_test_race', 300, 'refund', 'ch_r:2450'),
      credits().reverseUpTo(accountId, 'cs_test_race', 600, 'refund', 'ch_r:4900'),
      credits().reverseUpTo(accountId, 'cs_test_race', 600, 'reversal', 'dispute'),
    ]);
    expect(taken.reduce((a, b) => a + b, 0)).toBe(600);
    expect(await credits().state(accountId)).toMatchObject({ balanceSeconds: 0, owesSeconds: 0 });
  });
});

describe('history', () => {
  it('pages newest first through balance-moving entries only, and refuses a cursor it does not hold', async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    for (let i = 0; i < 5; i++) {
      await credits().purchase(a.accountId, 60, `cs_test_h${i}`);
      server.clock.advance(1000);
    }
    await credits().hold(a.accountId, 'h-call', { min: 60, max: 120 });
    server.clock.advance(1000);
    await credits().settle('h-call', 30);
    await credits().purchase(b.accountId, 60, 'cs_test_other');

    const first = await credits().history(a.accountId, 4);
    expect(first.entries.map((e) => e.kind)).toEqual(['capture', 'purchase', 'purchase', 'purchase']);
    expect(first.entries[0]).toMatchObject({ ref: 'h-call', seconds: 30 });
    expect(first.entries[1]).toMatchObject({ ref: 'cs_test_h4', seconds: 60 });
    expect(first.nextCursor).toBe(first.entries[3]?.id);
    const second = await credits().history(a.accountId, 4, first.nextCursor ?? undefined);
    expect(second.entries.map((e) => e.ref)).toEqual(['cs_test_h1', 'cs_test_h0']);
    expect(second.nextCursor).toBeNull();

    const otherEntry = (await credits().history(b.accountId, 10)).entries[0]!;
    await expect(credits().history(a.accountId, 4, otherEntry.id)).rejects.toMatchObject({
      code: 'invalid_request',
      status: 400,
    });
  });
});

describe('credits:updated', () => {
  let sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets) s.disconnect();
    sockets = [];
  });

  async function listen(token: string): Promise<CreditsUpdatedEvent[]> {
    const socket = connect(server.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const seen: CreditsUpdatedEvent[] = [];
    socket.on('credits:updated', (payload: unknown) => seen.push(creditsUpdatedEventSchema.parse(payload)));
    return seen;
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(check()).toBe(true);
  }

  it("reaches the account's own sockets when the balance changes, and no other account's", async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const seenByA = await listen(a.token);
    const seenByB = await listen(b.token);
    await credits().purchase(a.accountId, 600, 'cs_test_socket');
    await until(() => seenByA.length === 1);
    expect(seenByA[0]).toEqual({ balanceSeconds: 600, availableSeconds: 600 });
    await credits().hold(a.accountId, 'socket-call', { min: 60, max: 600 });
    await until(() => seenByA.length === 2);
    expect(seenByA[1]).toEqual({ balanceSeconds: 600, availableSeconds: 0 });
    await credits().settle('socket-call', 90);
    await until(() => seenByA.length === 3);
    expect(seenByA[2]).toEqual({ balanceSeconds: 510, availableSeconds: 510 });
    // A replayed purchase changes nothing and says nothing.
    await credits().purchase(a.accountId, 600, 'cs_test_socket');
    await new Promise((r) => setTimeout(r, 50));
    expect(seenByA).toHaveLength(3);
    expect(seenByB).toEqual([]);
  });
});
