import { join } from 'node:path';
import type { TestContext } from 'vitest';

/** What a picture needs of a page, in both drivers: Playwright's (Chromium) and puppeteer's (Firefox). */
export interface PhotographablePage {
  url(): string;
  screenshot(options: { path: string; fullPage?: boolean; timeout?: number }): Promise<unknown>;
}

export interface ShotOptions {
  /** The whole scrollable page, not only the viewport (Playwright; puppeteer's Firefox pictures are the viewport). */
  fullPage?: boolean;
  /** How long a picture may take before it is given up (Playwright's default is 30 s). */
  timeout?: number;
}

/**
 * The pictures a test takes on purpose, numbered in the order it takes them (01-name.png,
 * 02-...), so the artifact folder reads as the story of the run.
 */
export function numberedShots(
  dir: string,
  opts: ShotOptions = {},
): (page: PhotographablePage, name: string) => Promise<void> {
  let n = 0;
  return async (page, name) => {
    n += 1;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${name}.png`), ...opts });
  };
}

/**
 * After a failure, a picture of each page that is open, as FAILED-<what failed>-<its place in
 * `pages`>.png. Pages not opened yet, and blank ones, are passed over. Best effort: a page that
 * cannot be photographed (closed, hung) is skipped, so that the failure itself is what is reported.
 */
export async function photographFailure(
  dir: string,
  failed: string,
  pages: readonly (PhotographablePage | undefined)[],
  opts: ShotOptions = {},
): Promise<void> {
  const name = failed.replace(/\W+/g, '-');
  for (const [i, page] of pages.entries()) {
    if (!page || page.url() === 'about:blank') continue;
    await page.screenshot({ path: join(dir, `FAILED-${name}-${i}.png`), ...opts }).catch(() => undefined);
  }
}

/** An afterEach hook: when the test failed, `photographFailure` of the pages `pages()` gives then. */
export function photographPagesOnFailure(
  dir: string,
  pages: () => readonly (PhotographablePage | undefined)[],
  opts: ShotOptions = {},
): (ctx: TestContext) => Promise<void> {
  return async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    await photographFailure(dir, ctx.task.name, pages(), opts);
  };
}
