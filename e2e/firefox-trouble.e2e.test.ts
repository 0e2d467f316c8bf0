import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signUpParent } from '../test/support/server.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchFirefox, type FirefoxRun } from './support/firefox.js';
import { loadMessages, type Messages } from './support/messages.js';
import { artifactDir } from './support/paths.js';
import { numberedShots, photographPagesOnFailure } from './support/shots.js';
import { buyPackOverHttp, restartE2eServer, startE2eServer, type TestServer } from './support/server.js';

// Issue 16 points 1 and 3 in Firefox ESR (puppeteer-core over WebDriver BiDi, the e2e build),
// with the panel switched to Swedish in Settings: a server that is stopped is said in the
// parent's words with Try again, and the panel comes back by itself; a server that goes away
// mid-call shows a lost connection (never a live call, never "Ending…" for good), then how
// the call ended, in the panel and in the child's window.
describe('Firefox ESR (Swedish): the server goes away, before and during a call', () => {
  let server: TestServer;
  let ff: FirefoxRun;
  let SV: Messages;
  let EN: Messages;
  let parent: { token: string; email: string; password: string };
  let profileId: string;
  let callWindow: Page | undefined;
  const shots = artifactDir('firefox-trouble');
  const shot = numberedShots(shots);
  /** Waits until the element matching `selector` contains `text` (textContent, as read on screen). */
  const waitForText = (page: Page, selector: string, text: string, timeout = 20_000) =>
    page.waitForFunction(
      (sel, want) => [...document.querySelectorAll(sel)].some((el) => (el.textContent ?? '').includes(want)),
      { timeout },
      selector,
      text,
    );
  const bodyText = (page: Page) => page.evaluate(() => document.body.innerText);

  beforeAll(async () => {
    [server, SV, EN] = await Promise.all([startE2eServer(), loadMessages('sv'), loadMessages('en')]);
    parent = await signUpParent(server.api, { name: 'Räv Förälder', locale: 'sv' });
    await buyPackOverHttp(server, parent.token);
    const made = await server.api.post(
      '/api/profiles',
      { name: 'Ada', age: 7, language: 'sv', wishList: ['En kälke'] },
      parent.token,
    );
    expect(made.status).toBe(201);
    profileId = made.body.id as string;
    ff = await launchFirefox();
  });
  afterEach(photographPagesOnFailure(shots, () => [ff?.panel, callWindow]));
  afterAll(async () => {
    await ff?.close();
    await server?.close();
  });

  it('is pointed at the server, switched to Swedish in Settings, and signed in', async () => {
    const panel = ff.panel;
    await panel.waitForSelector('section.auth');
    await panel.click('nav button.tab[data-view="settings"]');
    // The language first: choosing it starts the panel again, back on Settings.
    await panel.waitForSelector('select[name="locale"]');
    await panel.select('select[name="locale"]', 'sv');
    await waitForText(panel, 'h2', SV('settings.title'));
    await panel.waitForSelector('input[name="serverUrl"]');
    await panel.$eval('input[name="serverUrl"]', (el) => ((el as HTMLInputElement).value = ''));
    await panel.type('input[name="serverUrl"]', server.url);
    await panel.click('form:has(input[name="serverUrl"]) button[type="submit"]');
    await waitForText(panel, 'body', SV('settings.serverSaved'));
    await panel.click('nav button.tab[data-view="auth"]');
    await panel.waitForSelector('section.auth input[name="email"]');
    await panel.type('input[name="email"]', parent.email);
    await panel.type('input[name="password"]', parent.password);
    await panel.click('section.auth form button[type="submit"]');
    await panel.waitForSelector(`li.child[data-profile="${profileId}"] button.call-child:not([disabled])`);
    expect(await panel.$eval('section.children h2', (el) => el.textContent)).toBe(SV('children.title'));
  });

  it('says in Swedish that the server cannot be reached, with Try again, and comes back by itself (point 3)', async () => {
    const panel = ff.panel;
    const url = server.url;
    await server.stop();
    await panel.click('nav button.tab[data-view="credits"]');
    await panel.waitForSelector('section.problem[data-problem="offline"]', { timeout: 20_000 });
    await waitForText(panel, 'section.problem h2', SV('problem.offlineTitle'));
    await waitForText(panel, 'section.problem p', SV('errors.network_error'));
    expect(await panel.$eval('section.problem button.retry', (el) => el.textContent)).toBe(SV('common.retry'));
    // Firefox's own words for a failed fetch never reach the screen.
    expect(await bodyText(panel)).not.toMatch(/NetworkError|Failed to fetch|TypeError|Something went wrong/);
    await expectNoAxeViolations(panel, 'Firefox side panel: server unreachable');
    await shot(panel, 'panel-offline-credits');
    // Try again while it is still down: the same words, nothing raw.
    await panel.click('section.problem button.retry');
    await panel.waitForSelector('section.problem[data-problem="offline"]');
    await panel.click('nav button.tab[data-view="children"]');
    await panel.waitForSelector('section.problem[data-problem="offline"]', { timeout: 20_000 });
    await waitForText(panel, 'section.problem p', SV('errors.network_error'));
    expect(await bodyText(panel)).not.toMatch(/NetworkError|Failed to fetch|TypeError/);
    await shot(panel, 'panel-offline-children');

    server = await restartE2eServer(server);
    expect(server.url).toBe(url);
    // Nobody clicks: the view comes back as soon as the server answers.
    await panel.waitForSelector(`li.child[data-profile="${profileId}"] button.call-child:not([disabled])`, {
      timeout: 30_000,
    });
    expect(await panel.$('section.problem')).toBeNull();
  });

  it('a call in progress when the server goes away: lost, then ended with the real reason, in the panel and the call window (point 1)', async () => {
    const panel = ff.panel;
    const opened = ff.nextExtensionPage('call.html');
    await panel.click(`li.child[data-profile="${profileId}"] button.call-child`);
    callWindow = await opened;
    await callWindow.waitForSelector('#app[data-phase="live"]', { timeout: 45_000 });
    await panel.waitForSelector('section.live[data-state="live"]', { timeout: 30_000 });
    await waitForText(panel, 'section.live h2', SV('live.title', { name: 'Ada' }));
    await waitForText(panel, 'section.live p.simulated-note:not([hidden])', SV('live.simulated'));
    await panel.waitForSelector('section.live .transcript li.line');

    // A language switch mid-call starts the panel again: the live card stays, with its
    // Simulated Santa note and transcript, in the new language (issue 16 point 11).
    const switchTo = async (locale: 'en' | 'sv', M: Messages) => {
      await panel.click('nav button.tab[data-view="settings"]');
      await panel.waitForSelector('select[name="locale"]');
      await panel.select('select[name="locale"]', locale);
      await waitForText(panel, 'section.settings h2', M('settings.title'));
      await waitForText(panel, 'section.live[data-state="live"] p.simulated-note:not([hidden])', M('live.simulated'));
      await waitForText(panel, 'section.live .transcript .speaker', M('live.santa'));
    };
    await switchTo('en', EN);
    await shot(panel, 'panel-live-call-after-switch-to-english');
    await switchTo('sv', SV);
    await server.clock.advanceAsync(15_000);

    // As when the process is killed: the connections drop first, so no call:ended reaches the pages.
    server.app.io.disconnectSockets(true);
    await server.stop();
    await panel.waitForSelector('section.live[data-state="lost"]', { timeout: 20_000 });
    await waitForText(panel, 'section.live', SV('live.reconnecting'));
    await waitForText(callWindow, '.status', SV('call.status.lost'));
    expect(await bodyText(panel)).not.toContain(SV('live.title', { name: 'Ada' }));
    await expectNoAxeViolations(panel, 'Firefox side panel: connection lost during a call');
    await shot(panel, 'panel-call-connection-lost');
    await shot(callWindow, 'call-window-line-lost');

    server = await restartE2eServer(server);
    await panel.waitForSelector('section.live[data-state="ended"]', { timeout: 30_000 });
    const record = (await server.api.get('/api/calls', parent.token)).body.calls[0] as { reason: string };
    expect(record.reason).toBe('server_shutdown');
    await waitForText(panel, 'section.live .live-status', SV('ended.server_shutdown.parent'));
    // The button is a way out, not "Ending…".
    expect(await panel.$eval('section.live button.end-call', (el) => el.textContent)).toBe(SV('live.dismiss'));
    await callWindow.waitForSelector('#app[data-phase="ended"]', { timeout: 30_000 });
    expect(await callWindow.$eval('h1', (el) => el.textContent)).toBe(SV('ended.server_shutdown.title'));
    expect(await bodyText(callWindow)).not.toContain(SV('call.problemTitle'));
    await expectNoAxeViolations(panel, 'Firefox side panel: call ended by a server restart');
    await expectNoAxeViolations(callWindow, 'Firefox call window: ended by a server restart');
    await shot(panel, 'panel-call-ended-by-restart');
    await shot(callWindow, 'call-window-ended-by-restart');
  });
});
