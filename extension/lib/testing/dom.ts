import { join } from 'node:path';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import { parseHTML } from 'linkedom';
import { vi } from 'vitest';
import type { ChromeMessages } from '../i18n.js';

/**
 * A linkedom document for view tests, installed as the global `document` (vi.unstubAllGlobals
 * removes it). linkedom has no focus, so this gives it the one browser rule that matters to
 * views that update in place: focus sits on the element last focused for as long as that
 * element stays in the document; once it is taken out, focus falls back to <body> for good
 * (a re-rendered view builds new controls, and the browser does not move focus onto them).
 */
export function installDocument(): { document: Document; body: HTMLElement } {
  const { document, window } = parseHTML('<!doctype html><html lang="en"><head></head><body></body></html>');
  let focused: Element | null = null;
  (window.HTMLElement.prototype as HTMLElement).focus = function focus(this: HTMLElement) {
    focused = this.isConnected ? this : focused;
  };
  Object.defineProperty(document, 'activeElement', {
    configurable: true,
    get() {
      if (focused && !focused.isConnected) focused = null;
      return focused ?? document.body;
    },
  });
  vi.stubGlobal('document', document);
  return { document, body: document.body };
}

/** A 200 JSON answer, as the server sends it. */
export function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

/** The English messages as the build generates them, for initI18n in a test. */
export async function englishMessages(): Promise<ChromeMessages> {
  return generateChromeMessages(
    await parseMessagesFile(join(import.meta.dirname, '..', '..', 'locales', 'en.yml')),
  ) as ChromeMessages;
}
