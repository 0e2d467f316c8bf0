import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { atMost, failed, info, type Row } from './lib/report.js';
import { browserMissing, CHROME_BUILD, launchChromium, openWithScript } from './lib/browser.js';
import { median } from './lib/stats.js';

export const name = 'extension';

const RENDERS = Number(process.env.BENCH_RENDERS ?? 15);

/** Every JS file the side panel loads: its scripts, its modulepreloads and what they import, transitively. */
export function sidePanelScripts(build = CHROME_BUILD): string[] {
  const html = readFileSync(join(build, 'sidepanel.html'), 'utf8');
  const queue = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)].map(
    (m) => (m[1] as string).replace(/^\//, ''),
  );
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(join(build, file), 'utf8');
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
    for (const m of code.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+\.js|\/[^"']+\.js)["']/g)) {
      const spec = m[1] as string;
      const resolved = spec.startsWith('/') ? spec.slice(1) : join(dir, spec).replace(/\\/g, '/');
      queue.push(resolved);
    }
  }
  return [...seen];
}

/**
 * The side panel as shipped: its JavaScript, gzipped, and how soon Chromium paints it
 * (first contentful paint and the first view rendered by the app, in a fresh tab each time).
 */
export async function run(log: (line: string) => void): Promise<Row[]> {
  const missing = browserMissing();
  if (missing) return [failed('extension side panel (did not run)', missing)];
  const rows: Row[] = [];
  const files = sidePanelScripts();
  const raw = files.reduce((s, f) => s + readFileSync(join(CHROME_BUILD, f)).length, 0);
  const gz = files.reduce((s, f) => s + gzipSync(readFileSync(join(CHROME_BUILD, f)), { level: 9 }).length, 0);
  rows.push(
    atMost(
      'extension: side panel JS, gzip',
      gz / 1024,
      'KB',
      150,
      `${files.length} files (${files.join(', ')}), ${(raw / 1024).toFixed(0)} KB raw`,
    ),
  );

  const run = await launchChromium();
  try {
    // When the app put its first view in the DOM, on the page's own clock.
    const firstView = `(() => {
      const mark = () => {
        if (document.querySelector('#app h1, #app h2')) { window.__firstView ??= performance.now(); return true; }
        return false;
      };
      new MutationObserver((_, obs) => { if (mark()) obs.disconnect(); }).observe(document, { childList: true, subtree: true });
    })();`;
    const fcp: number[] = [];
    const view: number[] = [];
    for (let i = 0; i < RENDERS + 2; i++) {
      const page = await openWithScript(run.context, `chrome-extension://${run.extensionId}/sidepanel.html`, firstView);
      await page.bringToFront();
      await page.waitForFunction(
        () =>
          (window as unknown as { __firstView?: number }).__firstView !== undefined &&
          performance.getEntriesByName('first-contentful-paint').length > 0,
        undefined,
        { timeout: 15_000 },
      );
      const t = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
        view: (window as unknown as { __firstView: number }).__firstView,
      }));
      await page.close();
      if (i < 2) continue; // the first opens warm the browser's caches
      fcp.push(t.fcp);
      view.push(t.view);
    }
    log(`extension: side panel FCP ${fcp.map((x) => x.toFixed(0)).join(' ')} ms`);
    rows.push(
      atMost(
        'extension: side panel first render (first contentful paint, Chromium)',
        median(fcp),
        'ms',
        200,
        `median of ${fcp.length} fresh tabs; the app's first view in the DOM at ${median(view).toFixed(0)} ms`,
      ),
    );
    rows.push(info('extension: side panel first view in the DOM (signed out)', median(view), 'ms'));
  } finally {
    await run.close();
  }
  return rows;
}
