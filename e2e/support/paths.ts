import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = realpathSync(join(import.meta.dirname, '..', '..'));
export const CHROME_BUILD = join(ROOT, '.output', 'chrome-mv3');
export const FIREFOX_BUILD = join(ROOT, '.output', 'firefox-mv2');
/** `wxt build -b firefox --mode e2e`: the background opens the side panel page in a tab. */
export const FIREFOX_E2E_BUILD = join(ROOT, '.output', 'firefox-mv2-e2e');
export const ARTIFACTS = join(ROOT, 'e2e', 'artifacts');
export const CHROMIUM_BIN = '/usr/bin/chromium';
export const FIREFOX_BIN = '/usr/bin/firefox-esr';

export function artifactDir(run: string): string {
  const dir = join(ARTIFACTS, run);
  mkdirSync(dir, { recursive: true });
  return dir;
}
