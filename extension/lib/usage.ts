import type { CallRecord, Profile } from '../../shared/index.js';

/**
 * Minutes per child per day over the last 30 days, for the usage chart. Days are the
 * parent's local calendar days; a call counts on the day it started.
 */
export const USAGE_DAYS = 30;

export interface UsageSeries {
  /** Profile id, or null for calls of a child whose profile was deleted. */
  profileId: string | null;
  name: string | null;
  /** Seconds per day, oldest first, aligned with `days`. */
  seconds: number[];
  totalSeconds: number;
}

export interface Usage {
  /** Local dates (YYYY-MM-DD), oldest first, ending today. */
  days: string[];
  series: UsageSeries[];
  totalSeconds: number;
}

export function localDayKey(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

export function usageByChild(calls: CallRecord[], profiles: Profile[], now: Date, days = USAGE_DAYS): Usage {
  const keys: string[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - i);
    keys.push(localDayKey(d));
  }
  const index = new Map(keys.map((k, i) => [k, i]));
  const names = new Map(profiles.map((p) => [p.id, p.name]));
  const byProfile = new Map<string | null, number[]>();
  let totalSeconds = 0;
  for (const call of calls) {
    if (call.seconds <= 0) continue;
    const i = index.get(localDayKey(new Date(call.startedAt)));
    if (i === undefined) continue;
    const id = call.profileId !== null && names.has(call.profileId) ? call.profileId : null;
    const row = byProfile.get(id) ?? new Array<number>(days).fill(0);
    row[i] = (row[i] ?? 0) + call.seconds;
    byProfile.set(id, row);
    totalSeconds += call.seconds;
  }
  // Children in the order the parent sees them, removed children last.
  const order = [...profiles.map((p) => p.id as string | null), null];
  const series = order
    .filter((id) => byProfile.has(id))
    .map((id) => {
      const seconds = byProfile.get(id)!;
      return {
        profileId: id,
        name: id === null ? null : (names.get(id) ?? null),
        seconds,
        totalSeconds: seconds.reduce((a, b) => a + b, 0),
      };
    });
  return { days: keys, series, totalSeconds };
}
