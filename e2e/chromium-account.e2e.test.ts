import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signUpParent, TEST_ADMIN_TOKEN } from '../test/support/server.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchChromium, type ChromiumRun } from './support/chromium.js';
import { loadMessages, type Messages } from './support/messages.js';
import { artifactDir } from './support/paths.js';
import { numberedShots, photographPagesOnFailure } from './support/shots.js';
import { startE2eServer, type TestServer } from './support/server.js';

// The rest of the panel, in Chromium: forgotten password, editing a child's details and
// parent controls, restricting processing, news opt-in, help and feedback, deleting a child
// and deleting the account, each confirmed through the API.
describe('Chromium: account, child and privacy management in the side panel', () => {
  let server: TestServer;
  let run: ChromiumRun;
  let M: Messages;
  let panel: Page;
  let parent: { token: string; email: string; password: string };
  let childId: string;
  const shots = artifactDir('chromium-account');
  const shot = numberedShots(shots, { fullPage: true });
  const tab = (view: string) => panel.locator(`nav button.tab[data-view="${view}"]`).click();
  const me = async () => (await server.api.get('/api/me', parent.token)).body;

  beforeAll(async () => {
    [server, run, M] = await Promise.all([startE2eServer(), launchChromium({ lang: 'en' }), loadMessages('en')]);
    parent = await signUpParent(server.api, { name: 'Mo Parent' });
    const child = await server.api.post(
      '/api/profiles',
      { name: 'Oskar', age: 8, language: 'sv', wishList: ['Skates'] },
      parent.token,
    );
    expect(child.status).toBe(201);
    childId = child.body.id as string;
    panel = await run.open('sidepanel.html');
    await tab('settings');
    await panel.locator('input[name="serverUrl"]').fill(server.url);
    await panel.locator('form:has(input[name="serverUrl"]) button[type="submit"]').click();
    await panel.getByText(M('settings.serverSaved')).waitFor();
  });
  afterEach(photographPagesOnFailure(shots, () => [panel], { fullPage: true }));
  afterAll(async () => {
    await run?.close();
    await server?.close();
  });

  it("the popup's link opens the browser's side panel, inside the click", async () => {
    const popup = await run.open('popup.html');
    await popup.getByText(M('popup.signedOut')).waitFor();
    await expectNoAxeViolations(popup, 'popup: signed out');
    const cdp = await run.context.newCDPSession(popup);
    const panels = async () =>
      (await cdp.send('Target.getTargets')).targetInfos.filter(
        (t) => t.url === `chrome-extension://${run.extensionId}/sidepanel.html`,
      ).length;
    const before = await panels();
    await popup.getByRole('button', { name: M('popup.openPanelToSignIn') }).click();
    await expect.poll(panels, { timeout: 10_000 }).toBe(before + 1);
    expect(await popup.locator('.message').textContent()).toBe('');
    await popup.close();
  });

  it('asks for a password reset link from the sign-in form', async () => {
    await tab('auth');
    await panel.locator('button.forgot').click();
    await panel.getByRole('heading', { level: 2, name: M('auth.resetTitle') }).waitFor();
    await panel.locator('input[name="email"]').fill(parent.email);
    await panel.locator('section.auth form button[type="submit"]').click();
    await panel.getByText(M('auth.resetNoMail')).waitFor();
    await expectNoAxeViolations(panel, 'side panel: forgotten password');
    await shot(panel, 'panel-forgotten-password');
    const outbox = await server.api.get('/admin/outbox', TEST_ADMIN_TOKEN);
    expect(outbox.body.entries).toEqual(
      expect.arrayContaining([expect.objectContaining({ to: parent.email, template: 'password_reset' })]),
    );
  });

  it('signs in', async () => {
    await panel.locator('.auth-toggle').click();
    await panel.getByRole('heading', { level: 2, name: M('auth.signInTitle') }).waitFor();
    await panel.locator('input[name="email"]').fill(parent.email);
    await panel.locator('input[name="password"]').fill(parent.password);
    await panel.locator('section.auth form button[type="submit"]').click();
    await panel.locator(`li.child[data-profile="${childId}"]`).waitFor();
  });

  it("edits a child's wishes and parent controls", async () => {
    await panel
      .locator(`li.child[data-profile="${childId}"]`)
      .getByRole('button', { name: M('children.editChild', { name: 'Oskar' }) })
      .click();
    await panel.getByRole('heading', { level: 2, name: M('child.editTitle', { name: 'Oskar' }) }).waitFor();
    expect(await panel.locator('textarea[name="wishList"]').inputValue()).toBe('Skates');
    await panel.locator('textarea[name="wishList"]').fill('Skates\nA snow globe');
    await panel.locator('input[name="dailyMinutes"]').fill('20');
    await panel.locator('input[name="quietFrom"]').fill('19:30');
    await expectNoAxeViolations(panel, 'side panel: edit a child');
    // Only one end of the quiet hours: refused before anything is sent.
    await panel.locator('section.children form button[type="submit"]').click();
    await panel.getByText(M('child.quietBoth')).waitFor();
    await panel.locator('input[name="quietTo"]').fill('07:00');
    await shot(panel, 'panel-edit-child');
    await panel.locator('section.children form button[type="submit"]').click();
    await panel.getByText(M('child.saved', { name: 'Oskar' })).waitFor();
    const profile = await server.api.get(`/api/profiles/${childId}`, parent.token);
    expect(profile.body).toMatchObject({
      wishList: ['Skates', 'A snow globe'],
      dailyMinutes: 20,
      quietHours: { from: '19:30', to: '07:00' },
      language: 'sv',
    });
    await panel.getByText(M('children.dailyLimitShort', { minutes: 20 }), { exact: false }).waitFor();
  });

  it('restricts processing and turns it back on; opts in to news', async () => {
    await tab('privacy');
    await panel.getByLabel(M('privacy.restrict')).check();
    await panel.getByText(M('privacy.restrictedOn')).waitFor();
    expect((await me()).restricted).toBe(true);
    await panel.locator('header').getByText(M('privacy.restrictedBanner')).waitFor();
    await expectNoAxeViolations(panel, 'side panel: privacy, restricted');
    await shot(panel, 'panel-privacy-restricted');
    await panel.getByLabel(M('privacy.restrict')).uncheck();
    await panel.getByText(M('privacy.restrictedOff')).waitFor();
    expect((await me()).restricted).toBe(false);
    await panel.getByLabel(M('privacy.marketing')).check();
    await panel.getByText(M('privacy.saved')).waitFor();
    expect((await me()).marketingOptIn).toBe(true);
  });

  it('sends a help request', async () => {
    await tab('settings');
    await panel.locator('.support input[name="subject"]').fill('Santa was quiet');
    await panel.locator('.support textarea[name="message"]').fill('We could not hear Santa at first.');
    await panel.locator('.support button[type="submit"]').click();
    await panel.getByText(M('support.sent')).waitFor();
    await panel.locator('.support-list li', { hasText: 'Santa was quiet' }).waitFor();
    const requests = await server.api.get('/api/support', parent.token);
    expect(requests.body.requests).toEqual([
      expect.objectContaining({ subject: 'Santa was quiet', kind: 'support', status: 'open' }),
    ]);
    await expectNoAxeViolations(panel, 'side panel: settings with help form');
    await shot(panel, 'panel-settings-help');
  });

  it('deletes a child only after confirming', async () => {
    await tab('children');
    const del = panel.getByRole('button', { name: M('children.deleteChild', { name: 'Oskar' }) });
    await del.click();
    const dialog = panel.getByRole('dialog', { name: M('children.deleteTitle', { name: 'Oskar' }) });
    await dialog.waitFor();
    await expectNoAxeViolations(panel, 'side panel: delete child dialog');
    await shot(panel, 'panel-delete-child-dialog');
    await dialog.getByRole('button', { name: M('common.cancel') }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await server.api.get('/api/profiles', parent.token)).body.profiles).toHaveLength(1);
    await del.click();
    await dialog.getByRole('button', { name: M('children.deleteConfirm') }).click();
    await panel.getByText(M('children.deleted', { name: 'Oskar' })).waitFor();
    await panel.getByText(M('children.empty')).waitFor();
    expect((await server.api.get('/api/profiles', parent.token)).body.profiles).toEqual([]);
  });

  it('deletes the account with the 30-day explanation, and is signed out', async () => {
    await tab('privacy');
    await panel.getByText(M('privacy.deleteExplain')).first().waitFor();
    await panel.getByLabel(M('privacy.deletePassword')).fill(parent.password);
    await panel.getByRole('button', { name: M('privacy.deleteAccount') }).click();
    const dialog = panel.getByRole('dialog', { name: M('privacy.deleteConfirmTitle') });
    await dialog.waitFor();
    await dialog.getByText(M('privacy.deleteKept')).waitFor();
    await expectNoAxeViolations(panel, 'side panel: delete account dialog');
    await shot(panel, 'panel-delete-account-dialog');
    await dialog.getByRole('button', { name: M('privacy.deleteConfirm') }).click();
    await panel.getByRole('heading', { level: 2, name: M('auth.signInTitle') }).waitFor();
    const closedNotice = M('privacy.deleted', { date: '§' }).split('§')[0]!;
    await panel.getByText(closedNotice, { exact: false }).waitFor();
    await shot(panel, 'panel-account-deleted');
    const login = await server.api.post('/api/auth/login', { email: parent.email, password: parent.password });
    expect(login.status).toBeGreaterThanOrEqual(400);
    expect((await server.api.get('/api/me', parent.token)).status).toBe(401);
  });
});
