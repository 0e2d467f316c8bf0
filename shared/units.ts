// Call time is the currency: integer seconds everywhere, minutes:seconds only at display.

export type Seconds = number;

export function formatSeconds(total: Seconds): string {
  const safe = Math.max(0, Math.trunc(total));
  const minutes = Math.trunc(safe / 60);
  const seconds = safe % 60;
  return `${minutes}:${seconds.toString().padStart(2, '0')}`;
}

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export function toIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** For a time that may not have happened (not ended, not read, not paid): null stays null. */
export function toIsoOrNull(epochMs: number | null): string | null {
  return epochMs === null ? null : toIso(epochMs);
}
