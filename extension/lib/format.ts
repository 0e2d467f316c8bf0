import { formatSeconds, type Price } from '../../shared/index.js';
import { intlLocale, tn } from './i18n.js';

/**
 * Localized numbers, dates and durations (Intl, in the active language). Call time stays in
 * integer seconds until here; only display turns it into minutes.
 */

/** 754 -> "12:34" (the time-left clock). */
export function formatClock(seconds: number): string {
  return formatSeconds(seconds);
}

/** Whole minutes, rounded down: "12 minutes" / "12 minutter" / "12 minuter". */
export function formatMinutes(seconds: number): string {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  return new Intl.NumberFormat(intlLocale(), { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(minutes);
}

interface DurationFormatLike {
  format(duration: { minutes?: number; seconds?: number; hours?: number }): string;
}
type DurationFormatCtor = new (locale: string, opts: { style: 'short' | 'long' | 'narrow' }) => DurationFormatLike;

/**
 * 150 -> "2 min, 30 sec" (Intl.DurationFormat where the browser has it, unit formats otherwise).
 * Use `long` inside sentences: short units end in a period in some languages ("45 sek.").
 */
export function formatDuration(seconds: number, style: 'short' | 'long' = 'short'): string {
  const total = Math.max(0, Math.trunc(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const DurationFormat = (Intl as unknown as { DurationFormat?: DurationFormatCtor }).DurationFormat;
  if (DurationFormat) {
    const parts: { hours?: number; minutes?: number; seconds?: number } = {};
    if (hours) parts.hours = hours;
    if (minutes || hours) parts.minutes = minutes;
    if (secs || total === 0) parts.seconds = secs;
    return new DurationFormat(intlLocale(), { style }).format(parts);
  }
  const unit = (value: number, u: 'hour' | 'minute' | 'second') =>
    new Intl.NumberFormat(intlLocale(), { style: 'unit', unit: u, unitDisplay: style }).format(value);
  const out: string[] = [];
  if (hours) out.push(unit(hours, 'hour'));
  if (minutes || hours) out.push(unit(minutes, 'minute'));
  if (secs || total === 0) out.push(unit(secs, 'second'));
  return new Intl.ListFormat(intlLocale(), { style: 'narrow', type: 'unit' }).format(out);
}

export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDate(iso: string | Date): string {
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'long' }).format(
    typeof iso === 'string' ? new Date(iso) : iso,
  );
}

/** Day label for the usage chart ("3 Dec"). */
export function formatDay(date: Date): string {
  return new Intl.DateTimeFormat(intlLocale(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(date);
}

/** Minor units to a localized price: { amount: 4900, currency: 'dkk' } -> "49,00 kr." */
export function formatPrice(price: Price): string {
  const nf = new Intl.NumberFormat(intlLocale(), { style: 'currency', currency: price.currency.toUpperCase() });
  const digits = nf.resolvedOptions().maximumFractionDigits ?? 2;
  return nf.format(price.amount / 10 ** digits);
}

/** "3 children" style counts go through the plural messages. */
export function formatAge(age: number): string {
  return tn('children.ageYears', age);
}

/** A time of day in the active language (a PIN wait's end). */
export function formatTime(at: number): string {
  return new Intl.DateTimeFormat(intlLocale(), { timeStyle: 'short' }).format(new Date(at));
}
