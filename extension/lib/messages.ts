import { ERROR_CODES, type CallEndReason, type SafetyCategory } from '../../shared/index.js';
import { ApiError, CLIENT_ERROR_CODES } from './api.js';
import { t, type MessageKey } from './i18n.js';

/**
 * Error codes, call end reasons and safety categories are stable codes on the wire; the
 * words for them live here and in the locale files. The coverage test checks that every
 * code in shared/ has a message in every language.
 */

/** Codes the call session reports when a call cannot start or breaks on this side. */
export const CALL_CLIENT_CODES = ['mic_denied', 'mic_missing', 'ice_timeout', 'connection_failed'] as const;

const KNOWN = new Set<string>([...ERROR_CODES, ...CLIENT_ERROR_CODES, ...CALL_CLIENT_CODES]);

export function errorKey(code: string): MessageKey {
  return (KNOWN.has(code) ? `errors.${code}` : 'errors.unknown') as MessageKey;
}

export function errorText(code: string): string {
  return t(errorKey(code));
}

/** The server could not be reached at all (as opposed to answering with an error). */
export function isOffline(err: unknown): boolean {
  return err instanceof ApiError && err.code === 'network_error';
}

/** How often a page that could not reach the server looks again by itself. */
export const RECHECK_MS = 4000;

/** The words for whatever went wrong: an ApiError's code, or a generic message. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return errorText(err.code);
  return errorText('unknown');
}

/** The child's end screen: a warm title and a line for each reason. */
export function endTitleKey(reason: CallEndReason): MessageKey {
  return `ended.${reason}.title` as MessageKey;
}

export function endBodyKey(reason: CallEndReason): MessageKey {
  return `ended.${reason}.body` as MessageKey;
}

/** The parent's one-line summary in the side panel. */
export function endSummaryKey(reason: CallEndReason): MessageKey {
  return `ended.${reason}.parent` as MessageKey;
}

export function safetyKey(category: SafetyCategory | undefined): MessageKey {
  return (category ? `safety.${category}` : 'safety.unknown') as MessageKey;
}
