import { describe, expect, it } from 'vitest';
import { inQuietHours, isTimeZone, localMinuteOfDay, secondsUntilQuiet, startOfLocalDay } from './parent-controls.js';

const at = (iso: string) => Date.parse(iso);

describe('parent controls read the server clock in the family time zone', () => {
  it('reads the local time of day in the given zone, UTC by default', () => {
    expect(localMinuteOfDay(at('2026-12-01T18:30:00Z'), 'UTC')).toBe(18 * 60 + 30);
    expect(localMinuteOfDay(at('2026-12-01T18:30:00Z'), 'Europe/Copenhagen')).toBe(19 * 60 + 30);
    expect(localMinuteOfDay(at('2026-07-01T18:30:00Z'), 'Europe/Copenhagen')).toBe(20 * 60 + 30);
    expect(localMinuteOfDay(at('2026-12-01T02:00:00Z'), 'America/New_York')).toBe(21 * 60);
  });

  it('finds local midnight, also on a day the clocks change', () => {
    expect(startOfLocalDay(at('2026-12-01T18:30:00Z'), 'UTC')).toBe(at('2026-12-01T00:00:00Z'));
    expect(startOfLocalDay(at('2026-12-01T18:30:00Z'), 'Europe/Copenhagen')).toBe(at('2026-11-30T23:00:00Z'));
    expect(startOfLocalDay(at('2026-12-01T23:30:00Z'), 'Europe/Copenhagen')).toBe(at('2026-12-01T23:00:00Z'));
    // 29 March 2026: Copenhagen moves from +01:00 to +02:00 at 02:00 local time.
    expect(startOfLocalDay(at('2026-03-29T20:00:00Z'), 'Europe/Copenhagen')).toBe(at('2026-03-28T23:00:00Z'));
  });

  it('treats quiet hours as from-inclusive, to-exclusive, across midnight too', () => {
    const evening = { from: '19:00', to: '07:00' };
    expect(inQuietHours(evening, 19 * 60)).toBe(true);
    expect(inQuietHours(evening, 23 * 60 + 59)).toBe(true);
    expect(inQuietHours(evening, 0)).toBe(true);
    expect(inQuietHours(evening, 6 * 60 + 59)).toBe(true);
    expect(inQuietHours(evening, 7 * 60)).toBe(false);
    expect(inQuietHours(evening, 18 * 60 + 59)).toBe(false);
    const nap = { from: '13:00', to: '14:30' };
    expect(inQuietHours(nap, 13 * 60)).toBe(true);
    expect(inQuietHours(nap, 14 * 60 + 29)).toBe(true);
    expect(inQuietHours(nap, 14 * 60 + 30)).toBe(false);
    expect(inQuietHours({ from: '10:00', to: '10:00' }, 10 * 60)).toBe(false);
  });

  it('counts the seconds until quiet hours begin', () => {
    expect(secondsUntilQuiet({ from: '19:00', to: '07:00' }, at('2026-12-01T18:58:30Z'), 'UTC')).toBe(90);
    expect(secondsUntilQuiet({ from: '19:00', to: '07:00' }, at('2026-12-01T17:58:30Z'), 'Europe/Copenhagen')).toBe(90);
    expect(secondsUntilQuiet({ from: '08:00', to: '09:00' }, at('2026-12-01T10:00:00Z'), 'UTC')).toBe(22 * 3600);
    expect(secondsUntilQuiet(null, at('2026-12-01T10:00:00Z'), 'UTC')).toBeNull();
  });

  it('knows real IANA zones from made-up ones', () => {
    expect(isTimeZone('Europe/Stockholm')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});
