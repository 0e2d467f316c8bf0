import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { checkPin, clearPin, hasPin, isValidPin, setPin } from './pin.js';

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
