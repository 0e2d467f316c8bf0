import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROME_BUILD, CHROMIUM_BIN } from '../../e2e/support/paths.js';

export { launchChromium } from '../../e2e/support/chromium.js';
export { CHROME_BUILD };

/** Why the browser benchmarks cannot run here, or null. */
export function browserMissing(): string | null {
  if (!existsSync(CHROMIUM_BIN)) return `${CHROMIUM_BIN} is missing: run node scripts/setup-browsers.mjs`;
  if (!existsSync(`${CHROME_BUILD}/manifest.json`)) return `${CHROME_BUILD} is missing: run npm run build`;
  return null;
}

/**
 * A new tab that runs `script` before any of the page's own code, then loads `url`. Playwright's
 * addInitScript does not reach chrome-extension:// pages; the DevTools protocol does.
 */
export async function openWithScript(context: BrowserContext, url: string, script: string): Promise<Page> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Page.enable');
  await cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: script });
  await page.goto(url);
  return page;
}
