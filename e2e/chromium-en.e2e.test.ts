import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoAxeViolations } from './support/axe.js';
import {
  addChild,
  buyPack,
  callFromPopup,
  nothingOfTheCallStored,
  privacyCentre,
  signUpAndConsent,
  startFlow,
  watchAndEndFromPanel,
  type FlowContext,
} from './flows/chromium-parent-flow.js';

// English (the browser's language), no parent PIN. Steps share one browser and one server, in order.
describe('Chromium, English: a parent signs up, buys time and supervises a call with Santa', () => {
  let f: FlowContext;
  beforeAll(async () => {
    f = await startFlow({ lang: 'en' });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('signs up and gives consent in the side panel', () => signUpAndConsent(f, `ada-en-${Date.now()}@example.test`));
  it('adds a child with a photo', () => addChild(f, 'Emma', 'en'));
  it('buys a pack through the dev checkout', () => buyPack(f));
  it('starts a call from the popup; Santa is heard and seen', () => callFromPopup(f, 'Emma', null));
  it('follows the call in the side panel and ends it there; the balance drops by the metered seconds', () =>
    watchAndEndFromPanel(f, 'Emma', 30));
  it('keeps nothing of the call in the browser', () => nothingOfTheCallStored(f));
  it('exports the data from the privacy centre', () => privacyCentre(f));

  it('switches the whole panel to another language from settings', async () => {
    const panel = f.state.panel!;
    await panel.locator('nav button.tab[data-view="settings"]').click();
    await panel.locator('select[name="locale"]').selectOption('sv');
    await panel.locator('nav button.tab[data-view="children"]', { hasText: 'Barn' }).waitFor();
    expect(await panel.evaluate(() => document.documentElement.lang)).toBe('sv');
    await expectNoAxeViolations(panel, 'side panel: settings in Swedish');
    await f.shot(panel, 'panel-settings-swedish');
  });
});
