import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  CALL_END_REASONS,
  ERROR_CODES,
  LOCALES,
  SAFETY_CATEGORIES,
  LEDGER_KINDS,
  type Locale,
} from '../../shared/index.js';
import { CLIENT_ERROR_CODES } from './api.js';
import { currentLocale, initI18n, intlLocale, pickLocale, t, tn, type ChromeMessages } from './i18n.js';
import { CALL_CLIENT_CODES, endBodyKey, endSummaryKey, endTitleKey, errorText, safetyKey } from './messages.js';
import { formatDuration, formatMinutes, formatPrice } from './format.js';

const LOCALES_DIR = join(import.meta.dirname, '..', 'locales');
type Parsed = Awaited<ReturnType<typeof parseMessagesFile>>;
const parsed = {} as Record<Locale, Parsed>;
const chrome = {} as Record<Locale, ChromeMessages>;

const keysOf = (messages: Parsed) =>
  new Set(messages.filter((m) => !m.key[0]?.startsWith('@@')).map((m) => m.key.join('.')));

beforeAll(async () => {
  for (const locale of LOCALES) {
    parsed[locale] = await parseMessagesFile(join(LOCALES_DIR, `${locale}.yml`));
    chrome[locale] = generateChromeMessages(parsed[locale]) as ChromeMessages;
  }
});

describe('translations cover every string in English, Danish and Swedish', () => {
  it('has exactly one messages file per supported language', () => {
    expect(readdirSync(LOCALES_DIR).sort()).toEqual(LOCALES.map((l) => `${l}.yml`).sort());
  });

  it.each(['da', 'sv'] as const)('%s has every English key and no others', (locale) => {
    const en = keysOf(parsed.en);
    const other = keysOf(parsed[locale]);
    expect(
      [...en].filter((k) => !other.has(k)),
      'missing',
    ).toEqual([]);
    expect(
      [...other].filter((k) => !en.has(k)),
      'extra',
    ).toEqual([]);
  });

  it.each(['da', 'sv'] as const)('%s uses the same placeholders and plural forms as English', (locale) => {
    const byKey = new Map(parsed[locale].map((m) => [m.key.join('.'), m]));
    for (const m of parsed.en) {
      const o = byKey.get(m.key.join('.'));
      if (!o) continue;
      expect(o.type, m.key.join('.')).toBe(m.type);
      expect([...o.namedSubstitutions].sort(), m.key.join('.')).toEqual([...m.namedSubstitutions].sort());
      expect(o.substitutions, m.key.join('.')).toBe(m.substitutions);
    }
  });

  it('names its own language in each file (the code reads it to know what the browser chose)', () => {
    for (const locale of LOCALES) expect(chrome[locale].localeCode?.message).toBe(locale);
  });

  it('has no empty message', () => {
    for (const locale of LOCALES) {
      for (const [name, entry] of Object.entries(chrome[locale]))
        expect(entry.message.trim(), `${locale} ${name}`).not.toBe('');
    }
  });

  it('has message names the browser can tell apart (they are case-insensitive)', () => {
    const names = Object.keys(chrome.en).map((n) => n.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    for (const n of Object.keys(chrome.en)) expect(n).toMatch(/^[A-Za-z0-9_]+$/);
  });

  it('translates every error code the server or the client can produce', () => {
    const en = keysOf(parsed.en);
    for (const code of [...ERROR_CODES, ...CLIENT_ERROR_CODES, ...CALL_CLIENT_CODES])
      expect(en.has(`errors.${code}`), code).toBe(true);
  });

  it('has a warm end screen and a parent summary for every call end reason', () => {
    const en = keysOf(parsed.en);
    for (const reason of CALL_END_REASONS) {
      for (const key of [endTitleKey(reason), endBodyKey(reason), endSummaryKey(reason)])
        expect(en.has(key), key).toBe(true);
    }
  });

  it('explains every safety category and ledger entry kind', () => {
    const en = keysOf(parsed.en);
    for (const c of SAFETY_CATEGORIES) expect(en.has(safetyKey(c)), c).toBe(true);
    expect(en.has(safetyKey(undefined))).toBe(true);
    for (const k of LEDGER_KINDS) expect(en.has(`credits.kind.${k}`), k).toBe(true);
  });
});

describe('language selection', () => {
  beforeEach(() => {
    fakeBrowser.reset();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const load = async (locale: Locale) => chrome[locale];

  it('follows the browser language by default, through browser.i18n', async () => {
    vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('da-DK');
    const getMessage = vi
      .spyOn(fakeBrowser.i18n, 'getMessage')
      .mockImplementation((name: string) => chrome.da[name]?.message ?? '');
    expect(await initI18n()).toBe('da');
    expect(intlLocale()).toBe('da-DK');
    expect(t('nav.children')).toBe('Børn');
    expect(getMessage).toHaveBeenCalledWith('nav_children');
  });

  it('believes the messages the browser served over getUILanguage when they disagree', async () => {
    vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('en-US');
    vi.spyOn(fakeBrowser.i18n, 'getMessage').mockImplementation((name: string) => chrome.sv[name]?.message ?? '');
    expect(await initI18n()).toBe('sv');
    expect(intlLocale()).toBe('sv');
  });

  it('uses English for a browser language it does not have', async () => {
    vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('de-DE');
    vi.spyOn(fakeBrowser.i18n, 'getMessage').mockImplementation((name: string) => chrome.en[name]?.message ?? '');
    expect(pickLocale('de-DE')).toBe('en');
    expect(pickLocale('sv_SE')).toBe('sv');
    expect(await initI18n({ setting: 'auto' })).toBe('en');
    expect(intlLocale()).toBe('en');
  });

  it('overrides the browser with the language chosen in settings', async () => {
    vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('en-US');
    await fakeBrowser.storage.local.set({ locale: 'sv' });
    expect(await initI18n({ load })).toBe('sv');
    expect(currentLocale()).toBe('sv');
    expect(t('nav.children')).toBe('Barn');
    expect(t('call.greeting', { name: 'Elsa' })).toBe('Hej Elsa!');
    expect(errorText('insufficient_credit')).toContain('samtalstid');
    expect(errorText('something_new')).toBe(t('errors.unknown'));
  });

  it('picks plural forms', async () => {
    vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('en-GB');
    await initI18n({ setting: 'en', load });
    expect(tn('children.ageYears', 1)).toBe('1 year old');
    expect(tn('children.ageYears', 7)).toBe('7 years old');
  });

  it('formats durations, minutes and prices in the chosen language', async () => {
    vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('en-US');
    await initI18n({ setting: 'da', load });
    expect(formatPrice({ amount: 4900, currency: 'dkk' })).toMatch(/^49,00\s?kr\.$/);
    expect(formatMinutes(600)).toBe('10 minutter');
    await initI18n({ setting: 'sv', load });
    expect(formatMinutes(60)).toBe('1 minut');
    expect(formatDuration(150)).toMatch(/2\s?min.*30\s?s/);
    expect(formatDuration(45, 'long')).toBe('45 sekunder');
    await initI18n({ setting: 'en', load });
    expect(formatPrice({ amount: 1999, currency: 'eur' })).toBe('€19.99');
    expect(formatPrice({ amount: 500, currency: 'jpy' })).toBe('¥500');
  });
});
