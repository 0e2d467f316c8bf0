import { describe, expect, it } from 'vitest';
import { needsConsent } from './consent.js';

const given = (version: string) => ({ consent: { version, at: '2026-11-01T00:00:00.000Z', verified: true } });

describe('when the side panel asks for consent', () => {
  it('asks before anything else when no consent was ever given', () => {
    expect(needsConsent({ consent: null }, { version: '1', material: false })).toBe(true);
    expect(needsConsent({ consent: null }, null)).toBe(true);
  });

  it('does not ask again while the consented version is the current one', () => {
    expect(needsConsent(given('2'), { version: '2', material: true })).toBe(false);
  });

  it('asks again once a material change is in force', () => {
    expect(needsConsent(given('1'), { version: '2', material: true })).toBe(true);
  });

  it('does not ask again for a minor change', () => {
    expect(needsConsent(given('1'), { version: '1.1', material: false })).toBe(false);
  });
});
