import { join } from 'node:path';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import type { Locale } from '../../shared/index.js';
import { ROOT } from './paths.js';

/** The extension's own words in one language, so tests assert what a parent actually reads. */
export type Messages = (key: string, named?: Record<string, string | number>) => string;

export async function loadMessages(locale: Locale): Promise<Messages> {
  const parsed = await parseMessagesFile(join(ROOT, 'extension', 'locales', `${locale}.yml`));
  const chrome = generateChromeMessages(parsed) as Record<string, { message: string }>;
  return (key, named = {}) => {
    const entry = chrome[key.replaceAll('.', '_')];
    if (!entry) throw new Error(`No message ${key}`);
    return entry.message.replace(/\{(\w+)\}/g, (m, name: string) => (name in named ? String(named[name]) : m));
  };
}
