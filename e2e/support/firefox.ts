import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page, type Target } from 'puppeteer-core';
import { FIREFOX_BIN, FIREFOX_E2E_BUILD } from './paths.js';

export interface FirefoxRun {
  browser: Browser;
  /** The side panel page, which the e2e build's background opens in a tab. */
  panel: Page;
  /** Resolves with the next extension page that opens (the call window). */
  nextExtensionPage(path: string): Promise<Page>;
  close(): Promise<void>;
}

async function hrefOf(page: Page): Promise<string> {
  try {
    return await page.evaluate(() => location.href);
  } catch {
    return '';
  }
}

/**
 * Firefox ESR over WebDriver BiDi with the e2e build installed as a temporary add-on. BiDi
 * cannot navigate to moz-extension:// pages and reports them as about:blank, so pages are
 * recognised by asking them where they are.
 */
export async function launchFirefox(): Promise<FirefoxRun> {
  const profileDir = mkdtempSync(join(tmpdir(), 'callsanta-firefox-'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_BIN,
    protocol: 'webDriverBiDi',
    headless: true,
    userDataDir: profileDir,
    extraPrefsFirefox: {
      // A fake microphone and camera, no permission prompt.
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      // Calls stay on this machine: let ICE use the loopback interface, without mDNS names.
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
      'media.autoplay.default': 0,
      'intl.locale.requested': 'en-US',
    },
  });

  const waitForExtensionPage = (path: string, timeout = 30_000): Promise<Page> =>
    new Promise((resolve, reject) => {
      const seen = new Set<Target>();
      const timer = setTimeout(() => {
        browser.off('targetcreated', check);
        reject(new Error(`No extension page ${path} opened within ${timeout} ms`));
      }, timeout);
      const check = async (target: Target) => {
        if (seen.has(target) || target.type() !== 'page') return;
        seen.add(target);
        const page = await target.page();
        if (!page) return;
        for (let i = 0; i < 50; i++) {
          const href = await hrefOf(page);
          if (href.startsWith('moz-extension://') && new URL(href).pathname === `/${path}`) {
            clearTimeout(timer);
            browser.off('targetcreated', check);
            resolve(page);
            return;
          }
          if (href.startsWith('moz-extension://')) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      browser.on('targetcreated', check);
      for (const target of browser.targets()) void check(target);
    });

  const panelOpened = waitForExtensionPage('sidepanel.html');
  await browser.installExtension(FIREFOX_E2E_BUILD);
  const panel = await panelOpened;
  return {
    browser,
    panel,
    nextExtensionPage: (path) => waitForExtensionPage(path),
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
