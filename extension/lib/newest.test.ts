import { describe, expect, it } from 'vitest';
import { newestOnly } from './newest.js';

/** A load whose answers the test releases in any order. */
function controlledLoad() {
  const pending: Array<{ resolve: (v: string) => void; reject: (e: Error) => void }> = [];
  const load = () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject }));
  return { load, pending };
}

describe('newestOnly: only the newest answer counts', () => {
  it('an older answer that lands after a newer call started is not the newest; the newer one is', async () => {
    const { load, pending } = controlledLoad();
    const next = newestOnly(load);
    const older = next();
    const newer = next();
    pending[1]!.resolve('new');
    pending[0]!.resolve('old');
    expect(await newer).toEqual({ value: 'new', newest: true });
    expect(await older).toEqual({ value: 'old', newest: false });
  });

  it('a newer call that fails still makes the older answer stale, and rejects as the load did', async () => {
    const { load, pending } = controlledLoad();
    const next = newestOnly(load);
    const older = next();
    const newer = next();
    pending[0]!.resolve('old');
    pending[1]!.reject(new Error('offline'));
    expect(await older).toEqual({ value: 'old', newest: false });
    await expect(newer).rejects.toThrow('offline');
  });

  it('calls one after the other are each the newest', async () => {
    let n = 0;
    const next = newestOnly(async () => ++n);
    expect(await next()).toEqual({ value: 1, newest: true });
    expect(await next()).toEqual({ value: 2, newest: true });
  });
});
