import { storage } from 'wxt/utils/storage';
import { LOCALES, type Locale } from '../../shared/locales.js';
import { DEFAULT_SERVER_URL, validateServerUrl } from './server-url.js';

/**
 * Everything the extension keeps, in `storage.local` through wxt/storage. Nothing here is
 * a child's data: the session token, where the server is, and the parent's preferences.
 */
export type LocaleSetting = 'auto' | Locale;

export interface PinRecord {
  /** PBKDF2-SHA-256 of the PIN; the PIN itself is never stored. */
  hash: string;
  salt: string;
  iterations: number;
}

export const tokenItem = storage.defineItem<string | null>('local:token', { fallback: null });
export const serverUrlItem = storage.defineItem<string>('local:serverUrl', { fallback: DEFAULT_SERVER_URL });
export const localeItem = storage.defineItem<LocaleSetting>('local:locale', { fallback: 'auto' });
export const pinItem = storage.defineItem<PinRecord | null>('local:parentPin', { fallback: null });
/** Wrong PINs in a row and until when the next try must wait (ms since the epoch); reset by the right PIN. */
export interface PinAttempts {
  failures: number;
  waitUntil: number;
}
export const pinAttemptsItem = storage.defineItem<PinAttempts>('local:parentPinAttempts', {
  fallback: { failures: 0, waitUntil: 0 },
});
export const cameraPreviewItem = storage.defineItem<boolean>('local:cameraPreview', { fallback: false });

export function isLocaleSetting(value: unknown): value is LocaleSetting {
  return value === 'auto' || (typeof value === 'string' && (LOCALES as readonly string[]).includes(value));
}

/** The stored server URL, re-validated: a value that no longer passes falls back to the default. */
export async function getServerUrl(): Promise<string> {
  const stored = await serverUrlItem.getValue();
  const checked = validateServerUrl(stored);
  return checked.ok ? checked.url : DEFAULT_SERVER_URL;
}

/** Saves a server URL only if it is valid; a changed server signs the parent out (the token belongs to the old one). */
export async function setServerUrl(raw: string): Promise<ReturnType<typeof validateServerUrl>> {
  const checked = validateServerUrl(raw);
  if (!checked.ok) return checked;
  const before = await getServerUrl();
  await serverUrlItem.setValue(checked.url);
  if (before !== checked.url) await tokenItem.setValue(null);
  return checked;
}

export async function getLocaleSetting(): Promise<LocaleSetting> {
  const value = await localeItem.getValue();
  return isLocaleSetting(value) ? value : 'auto';
}
