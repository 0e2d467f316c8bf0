import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signUpParent } from '../test/support/server.js';
import type { CallRecord } from '../shared/index.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchFirefox, type FirefoxRun } from './support/firefox.js';
import { loadMessages, type Messages } from './support/messages.js';
import { artifactDir } from './support/paths.js';
import { numberedShots, photographPagesOnFailure } from './support/shots.js';
import { buyPackOverHttp, startE2eServer, type TestServer } from './support/server.js';

// Firefox ESR (puppeteer-core over WebDriver BiDi) with the e2e build: sign in, add a child,
// start a call from the side panel's call launcher, and hang up with the big button.
describe('Firefox ESR: sign in, add a child and call Santa', () => {
  let server: TestServer;
  let ff: FirefoxRun;
  let M: Messages;
  let parent: { token: string; email: string; password: string };
  let callWindow: Page;
  const shots = artifactDir('firefox');
  const shot = numberedShots(shots);
  const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '');

  beforeAll(async () => {
    [server, M] = await Promise.all([startE2eServer(), loadMessages('en')]);
    // The account exists already (signed up, consented) and has call time: this test is about Firefox, not sign-up.
    parent = await signUpParent(server.api, { name: 'Fox Parent' });
    await buyPackOverHttp(server, parent.token);
    ff = await launchFirefox();
  });
  // A failing step leaves pictures of the panel and the call window behind.
  afterEach(photographPagesOnFailure(shots, () => [ff?.panel, callWindow]));
  afterAll(async () => {
    await ff?.close();
    await server?.close();
  });

  it('points the extension at the server and signs in', async () => {
    const panel = ff.panel;
    await panel.waitForSelector('section.auth');
    await panel.click('nav button.tab[data-view="settings"]');
    await panel.waitForSelector('input[name="serverUrl"]');
    await panel.$eval('input[name="serverUrl"]', (el) => ((el as HTMLInputElement).value = ''));
    await panel.type('input[name="serverUrl"]', server.url);
    await panel.click('form:has(input[name="serverUrl"]) button[type="submit"]');
    await panel.waitForFunction((m) => document.body.textContent?.includes(m), {}, M('settings.serverSaved'));
    await panel.click('nav button.tab[data-view="auth"]');
    await panel.waitForSelector('section.auth input[name="email"]');
    await panel.type('input[name="email"]', parent.email);
    await panel.type('input[name="password"]', parent.password);
    await shot(panel, 'panel-sign-in');
    await panel.click('section.auth form button[type="submit"]');
    await panel.waitForSelector('section.children');
    expect(await text(panel, 'section.children h2')).toBe(M('children.title'));
    expect(await text(panel, '.header-balance')).toContain('10');
  });

  it('adds a child', async () => {
    const panel = ff.panel;
    await panel.click('button.add-child');
    await panel.waitForSelector('section.children form input[name="name"]');
    await panel.type('input[name="name"]', 'Astrid');
    await panel.type('input[name="age"]', '7');
    await panel.select('select[name="language"]', 'en');
    await panel.type('textarea[name="wishList"]', 'A sledge');
    await panel.click('section.children form button[type="submit"]');
    await panel.waitForSelector('li.child[data-profile]');
    expect(await text(panel, 'li.child h3')).toBe('Astrid');
    await expectNoAxeViolations(panel, 'Firefox side panel: children');
    await shot(panel, 'panel-children');
  });

  it('starts a call from the side panel; the call window connects to Santa', async () => {
    const opened = ff.nextExtensionPage('call.html');
    await ff.panel.click('li.child button.call-child');
    callWindow = await opened;
    await callWindow.waitForSelector('#app[data-phase="live"]', { timeout: 45_000 });
    // Firefox keeps the AudioContext of a window it opened suspended until a click: Santa
    // moves with the RTP receiver's audio level until then.
    await callWindow.waitForSelector('svg.santa[data-speaking]', { timeout: 30_000 });
    await callWindow.waitForFunction(() => (document.querySelector('.caption')?.textContent ?? '').trim().length > 0, {
      timeout: 30_000,
    });
    await expectNoAxeViolations(callWindow, 'Firefox call window: live');
    await shot(callWindow, 'call-window-live');
    await ff.panel.waitForSelector('section.live[data-state="live"]', { timeout: 30_000 });
    await shot(ff.panel, 'panel-live-call');
  });

  it('the child hangs up with the big button and sees a warm goodbye', async () => {
    await server.clock.advanceAsync(20_000);
    await callWindow.click('button.hangup');
    await callWindow.waitForSelector('#app[data-phase="ended"]', { timeout: 20_000 });
    expect(await text(callWindow, 'h1')).toBe(M('ended.hangup.title'));
    await shot(callWindow, 'call-window-ended');
    const calls = await server.api.get('/api/calls', parent.token);
    expect((calls.body.calls as CallRecord[])[0]).toMatchObject({ reason: 'hangup' });
  });
});
