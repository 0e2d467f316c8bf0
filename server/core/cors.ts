/** Decides whether a browser origin may call the API. Requests without an Origin (curl, server) pass. */
export type CorsCheck = (origin: string | undefined) => boolean;

/** The development default only: production must name its origins (config refuses to start without EXTENSION_ORIGINS). */
const DEV_ORIGINS =
  /^(chrome-extension:\/\/[a-p]{32}|moz-extension:\/\/[0-9a-f-]{36}|https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?)$/;

/**
 * '*' allows every origin: safe because the API authenticates with bearer tokens a page must
 * hold, never with cookies a browser would attach on its own.
 */
export function corsCheck(allowlist: string[] | '*' | null): CorsCheck {
  if (allowlist === '*') return () => true;
  if (allowlist) {
    const allowed = new Set(allowlist);
    return (origin) => origin === undefined || allowed.has(origin);
  }
  return (origin) => origin === undefined || DEV_ORIGINS.test(origin);
}
