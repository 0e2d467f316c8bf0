import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  checkPin,
  clearPin,
  hasPin,
  isValidPin,
  PIN_FREE_TRIES,
  PIN_LOCK_AFTER,
  PIN_LOCK_MS,
  PIN_SLOW_WAIT_MS,
  pinWaitUntil,
  setPin,
  tryPin,
} from './pin.js';

describe('parent PIN', () => {
  beforeEach(() => {
    fakeBrowser.reset();
  });

  it('lets every call through while no PIN is set', async () => {
    expect(await hasPin()).toBe(false);
    expect(await checkPin('')).toBe(true);
  });

  it('accepts the right PIN and refuses a wrong one', async () => {
    await setPin('2468');
    expect(await hasPin()).toBe(true);
    expect(await checkPin('2468')).toBe(true);
    expect(await checkPin('2469')).toBe(false);
    expect(await checkPin('')).toBe(false);
  });

  it('never stores the PIN itself, only a salted hash', async () => {
    await setPin('13579');
    const stored = JSON.stringify(await fakeBrowser.storage.local.get(null));
    expect(stored).not.toContain('13579');
    expect(stored).toMatch(/"hash":"[0-9a-f]{64}"/);
  });

  it('only takes 4 to 8 digits', async () => {
    expect(isValidPin('123')).toBe(false);
    expect(isValidPin('123456789')).toBe(false);
    expect(isValidPin('12a4')).toBe(false);
    expect(isValidPin('0000')).toBe(true);
    await expect(setPin('12')).rejects.toThrow();
    expect(await hasPin()).toBe(false);
  });

  it('removing the PIN lets calls through again', async () => {
    await setPin('1234');
    await clearPin();
    expect(await checkPin('')).toBe(true);
  });
});

describe('wrong PINs', () => {
  beforeEach(() => {
    fakeBrowser.reset();
  });

  it('are slowed down after three and locked for five minutes from the sixth; even the right PIN waits', async () => {
    await setPin('2468');
    let now = 1_000_000;
    for (let i = 1; i < PIN_FREE_TRIES; i++)
      expect(await tryPin('0000', now)).toEqual({ ok: false, failures: i, waitUntil: null });
    expect(await tryPin('0001', now)).toEqual({ ok: false, failures: 3, waitUntil: now + PIN_SLOW_WAIT_MS });
    // While waiting, no PIN is checked, the right one included, and the count does not move.
    expect(await tryPin('2468', now + 1000)).toEqual({ ok: false, failures: 3, waitUntil: now + PIN_SLOW_WAIT_MS });
    expect(await pinWaitUntil(now + 1000)).toBe(now + PIN_SLOW_WAIT_MS);
    for (let f = 4; f < PIN_LOCK_AFTER; f++) {
      now += PIN_SLOW_WAIT_MS;
      expect(await tryPin('0002', now)).toEqual({ ok: false, failures: f, waitUntil: now + PIN_SLOW_WAIT_MS });
    }
    now += PIN_SLOW_WAIT_MS;
    expect(await tryPin('0003', now)).toEqual({ ok: false, failures: PIN_LOCK_AFTER, waitUntil: now + PIN_LOCK_MS });
    expect(await tryPin('2468', now + PIN_LOCK_MS - 1)).toMatchObject({ ok: false });
    expect(await tryPin('2468', now + PIN_LOCK_MS)).toEqual({ ok: true });
    // The right PIN starts the count again.
    expect(await tryPin('0000', now + PIN_LOCK_MS)).toEqual({ ok: false, failures: 1, waitUntil: null });
  });

  it('count across popups: the count is stored, not kept in the page', async () => {
    await setPin('2468');
    for (let i = 0; i < PIN_FREE_TRIES; i++) await tryPin('1111', 5000);
    expect(JSON.stringify(await fakeBrowser.storage.local.get('parentPinAttempts'))).toContain('"failures":3');
    expect(await pinWaitUntil(5000)).toBe(5000 + PIN_SLOW_WAIT_MS);
  });
});
