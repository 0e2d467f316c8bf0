import { describe, expect, it } from 'vitest';
import type { CallRecord, Profile } from '../../shared/index.js';
import { localDayKey, usageByChild } from './usage.js';

const profile = (id: string, name: string): Profile => ({
  id,
  name,
  age: 6,
  wishList: [],
  behaviorNotes: '',
  preferences: '',
  language: 'en',
  photoId: null,
  dailyMinutes: null,
  quietHours: null,
  timeZone: null,
});

const call = (profileId: string | null, startedAt: Date, seconds: number): CallRecord => ({
  id: `c-${Math.random()}`,
  profileId,
  startedAt: startedAt.toISOString(),
  endedAt: startedAt.toISOString(),
  seconds,
  reason: 'hangup',
});

describe('usage per child per day', () => {
  const now = new Date(2026, 11, 20, 18, 0, 0);
  const day = (daysAgo: number) => new Date(2026, 11, 20 - daysAgo, 12, 0, 0);

  it('covers the last 30 local days, ending today', () => {
    const usage = usageByChild([], [], now);
    expect(usage.days).toHaveLength(30);
    expect(usage.days[29]).toBe(localDayKey(now));
    expect(usage.days[0]).toBe(localDayKey(day(29)));
  });

  it('sums seconds per child and day, in the order the children are listed', () => {
    const kids = [profile('a', 'Emma'), profile('b', 'Oskar')];
    const usage = usageByChild(
      [call('b', day(0), 90), call('a', day(0), 60), call('a', day(0), 30), call('a', day(2), 300)],
      kids,
      now,
    );
    expect(usage.series.map((s) => s.name)).toEqual(['Emma', 'Oskar']);
    expect(usage.series[0]!.seconds[29]).toBe(90);
    expect(usage.series[0]!.seconds[27]).toBe(300);
    expect(usage.series[0]!.totalSeconds).toBe(390);
    expect(usage.series[1]!.totalSeconds).toBe(90);
    expect(usage.totalSeconds).toBe(480);
  });

  it('leaves out calls older than 30 days and calls that never connected', () => {
    const usage = usageByChild([call('a', day(30), 600), call('a', day(1), 0)], [profile('a', 'Emma')], now);
    expect(usage.series).toEqual([]);
    expect(usage.totalSeconds).toBe(0);
  });

  it('groups calls of deleted children together, without a name', () => {
    const usage = usageByChild([call(null, day(0), 60), call('gone', day(1), 60)], [profile('a', 'Emma')], now);
    expect(usage.series).toHaveLength(1);
    expect(usage.series[0]).toMatchObject({ profileId: null, name: null, totalSeconds: 120 });
  });
});
