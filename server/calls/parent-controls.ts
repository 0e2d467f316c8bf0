import type { QuietHours } from '../../shared/schemas/profile.js';
import { DAY_MS, MINUTE_MS } from '../../shared/units.js';

/**
 * Parent controls on the server clock (DESIGN.md §4).
 *
 * Time zone rule: quiet hours and the "day" of the daily cap are wall-clock ideas of the
 * family, so they are read in the IANA time zone the parent stored with them (the profile's
 * `timeZone`); without one they are read in UTC. A zone the caller sends is never used: it
 * could move quiet hours anywhere.
 * The instant itself always comes from the server clock, never from the browser. The zone
 * only turns that instant into a local time of day, and an unknown zone is refused.
 */

export const UTC = 'UTC';

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall clock in `tz` at `at`, as if it were UTC (so plain arithmetic works on it). */
function wallAsUtc(at: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const whole = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return whole + (((at % 1000) + 1000) % 1000);
}

/** Offset of `tz` from UTC at `at`, in ms. */
function offsetAt(at: number, tz: string): number {
  return wallAsUtc(at, tz) - at;
}

/** Minutes since local midnight in `tz`. */
export function localMinuteOfDay(at: number, tz: string): number {
  const wall = wallAsUtc(at, tz);
  return Math.floor((((wall % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS);
}

/** The instant local midnight began in `tz` (corrected once for a DST change that day). */
export function startOfLocalDay(at: number, tz: string): number {
  const wall = wallAsUtc(at, tz);
  const wallMidnight = wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
  const guess = wallMidnight - offsetAt(at, tz);
  return wallMidnight - offsetAt(guess, tz);
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/**
 * Is `minute` (of the local day) inside the quiet hours? `from` is inclusive, `to` exclusive;
 * a window whose `from` is after its `to` runs over midnight (19:00-07:00). Equal ends mean
 * an empty window: a parent who wants no calls at all removes the child's profile instead.
 */
export function inQuietHours(quiet: QuietHours, minute: number): boolean {
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from === to) return false;
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** Whole seconds from `at` until quiet hours next begin (at most a day), or null without a window. */
export function secondsUntilQuiet(quiet: QuietHours | null, at: number, tz: string): number | null {
  if (!quiet || quiet.from === quiet.to) return null;
  const wall = wallAsUtc(at, tz);
  const sinceMidnightMs = ((wall % DAY_MS) + DAY_MS) % DAY_MS;
  let untilMs = minutesOf(quiet.from) * MINUTE_MS - sinceMidnightMs;
  if (untilMs <= 0) untilMs += DAY_MS;
  return Math.floor(untilMs / 1000);
}
