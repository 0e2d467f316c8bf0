import { join } from 'node:path';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import { describe, expect, it } from 'vitest';
import type { Locale } from '../../shared/index.js';
import { initI18n, type ChromeMessages } from './i18n.js';
import { blockLabel, type ChildReadiness } from './readiness.js';

const load = async (locale: Locale) =>
  generateChromeMessages(
    await parseMessagesFile(join(import.meta.dirname, '..', 'locales', `${locale}.yml`)),
  ) as ChromeMessages;

const names: Record<string, string> = { ada: 'Ada', bo: 'Bo', cy: 'Cy' };
const nameOf = (id: string) => names[id] ?? null;
const held = (liveProfileId: string): ChildReadiness => ({
  profileId: 'cy',
  block: 'credit_held',
  until: null,
  liveProfileId,
});

describe("a child's button when the call time is held by a sibling's call", () => {
  it('names the sibling on the call', async () => {
    await initI18n({ setting: 'en', load });
    expect(blockLabel(held('ada'), nameOf, [{ profileId: 'ada' }])).toBe('Ada is on a call');
  });

  it('names both siblings when two are on calls, in the language of the screen', async () => {
    await initI18n({ setting: 'en', load });
    expect(blockLabel(held('ada'), nameOf, [{ profileId: 'ada' }, { profileId: 'bo' }])).toBe(
      'Ada and Bo are on calls',
    );
    await initI18n({ setting: 'da', load });
    expect(blockLabel(held('ada'), nameOf, [{ profileId: 'ada' }, { profileId: 'bo' }])).toBe('Ada og Bo er i opkald');
    await initI18n({ setting: 'sv', load });
    expect(blockLabel(held('ada'), nameOf, [{ profileId: 'ada' }, { profileId: 'bo' }])).toBe('Ada och Bo är i samtal');
  });

  it('says "your child" rather than a name it does not know', async () => {
    await initI18n({ setting: 'en', load });
    const label = blockLabel(held('gone'), nameOf, [{ profileId: 'gone' }, { profileId: 'ada' }]);
    expect(label).not.toContain('undefined');
    expect(label).toMatch(/is on a call$/);
  });
});
