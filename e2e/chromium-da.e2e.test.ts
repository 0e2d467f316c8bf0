import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  addChild,
  buyPack,
  callFromPopup,
  nothingOfTheCallStored,
  privacyCentre,
  setPinInSettings,
  signUpAndConsent,
  startFlow,
  watchAndEndFromPanel,
  type FlowContext,
} from './flows/chromium-parent-flow.js';

// The same journey with the browser in Danish: every screen in Danish, Santa speaking Danish,
// and a parent PIN guarding the quick-call popup.
describe('Chromium, Danish: the same journey in Danish, with a parent PIN', () => {
  let f: FlowContext;
  beforeAll(async () => {
    f = await startFlow({ lang: 'da' });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('signs up and gives consent in Danish', () => signUpAndConsent(f, `ada-da-${Date.now()}@example.test`));
  it('adds a child who speaks Danish', () => addChild(f, 'Freja', 'da'));
  it('buys a pack through the dev checkout', () => buyPack(f));
  it('sets a parent PIN', () => setPinInSettings(f, '2468'));
  it('starts a call from the popup after the PIN; Santa is heard and seen', () => callFromPopup(f, 'Freja', '2468'));
  it('follows the call in the side panel and ends it there; the balance drops by the metered seconds', () =>
    watchAndEndFromPanel(f, 'Freja', 45));
  it('keeps nothing of the call in the browser', () => nothingOfTheCallStored(f));
  it('exports the data from the privacy centre', () => privacyCentre(f));
});
