/**
 * The server URL a parent may type in settings. Tokens, passwords and child profiles travel
 * to it, so it must be https; plain http is allowed only for this computer (localhost,
 * 127.0.0.0/8, ::1), which is how the embedded default and the tests run.
 */
export type ServerUrlProblem = 'empty' | 'invalid' | 'insecure' | 'has_path';

export type ServerUrlResult = { ok: true; url: string } | { ok: false; problem: ServerUrlProblem };

/** The address the extension knows before the parent sets one: the embedded server's. */
export const FALLBACK_SERVER_URL = 'http://localhost:8787';

/**
 * The built-in default: `npm start` builds the extension with WXT_DEFAULT_SERVER_URL set to
 * the server it is about to start (PORT included), so the two agree; any build without it,
 * or with an address that would not pass Settings, gets the embedded server's.
 */
export function builtInServerUrl(raw: string | undefined): string {
  if (!raw) return FALLBACK_SERVER_URL;
  const checked = validateServerUrl(raw);
  return checked.ok ? checked.url : FALLBACK_SERVER_URL;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1') return true;
  return /^127(\.\d{1,3}){3}$/.test(host);
}

/** Validates and normalises a server URL to its origin (no trailing slash). */
export function validateServerUrl(raw: string): ServerUrlResult {
  let text = raw.trim();
  if (!text) return { ok: false, problem: 'empty' };
  // "localhost:8811" or "santa.example.com": a parent need not type the scheme. This
  // computer gets http (what the embedded server speaks), anything else https.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const host = text.startsWith('[') ? text.slice(0, text.indexOf(']') + 1) : (text.split(/[/:?#@]/)[0] ?? '');
    text = `${isLoopbackHost(host) ? 'http' : 'https'}://${text}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'invalid' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'invalid' };
  if (url.username || url.password) return { ok: false, problem: 'invalid' };
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return { ok: false, problem: 'insecure' };
  // The API lives at /api on the server's root; a path, query or fragment would be silently dropped.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    return { ok: false, problem: 'has_path' };
  return { ok: true, url: url.origin };
}

declare global {
  interface ImportMetaEnv {
    readonly WXT_DEFAULT_SERVER_URL?: string;
  }
}

export const DEFAULT_SERVER_URL = builtInServerUrl(import.meta.env.WXT_DEFAULT_SERVER_URL);
