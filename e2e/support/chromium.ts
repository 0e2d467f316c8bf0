import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROME_BUILD, CHROMIUM_BIN } from './paths.js';

/** Chrome derives an unpacked extension's id from its absolute path: sha256, first 32 hex digits as a-p. */
export function unpackedExtensionId(path: string): string {
  const hex = createHash('sha256').update(path).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

export interface ChromiumRun {
  context: BrowserContext;
  extensionId: string;
  /** Opens an extension page (sidepanel.html, popup.html ...) in a tab. */
  open(path: string): Promise<Page>;
  /** Resolves with the next page (tab or window) the extension opens. */
  nextPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Debian's Chromium with the built extension, headless, a fake microphone and camera that
 * need no permission prompt, and audio allowed to play without a click. `lang` sets the
 * browser's own language (the extension follows it unless the parent picks one).
 */
export async function launchChromium(opts: { lang?: 'en' | 'da' | 'sv' } = {}): Promise<ChromiumRun> {
  const lang = opts.lang ?? 'en';
  const userDataDir = mkdtempSync(join(tmpdir(), 'callsanta-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    viewport: { width: 420, height: 900 },
    env: {
      ...process.env,
      LANGUAGE: lang,
      LANG: lang === 'en' ? 'en_US.UTF-8' : `${lang}_${lang === 'da' ? 'DK' : 'SE'}.UTF-8`,
    },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--lang=${lang}`,
      `--disable-extensions-except=${CHROME_BUILD}`,
      `--load-extension=${CHROME_BUILD}`,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const extensionId = unpackedExtensionId(CHROME_BUILD);
  return {
    context,
    extensionId,
    async open(path) {
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/${path}`);
      return page;
    },
    nextPage() {
      return context.waitForEvent('page', { timeout: 30_000 });
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
