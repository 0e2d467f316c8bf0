import '../../components/base.css';
import './popup.css';
import { browser } from 'wxt/browser';
import type { Account, Profile } from '../../../shared/index.js';
import { h, mount } from '../../components/dom.js';
import { phoneIcon } from '../../components/icons.js';
import { avatar, button, field, messageArea } from '../../components/ui.js';
import { openCallWindow, openSidePanel } from '../../lib/browser-ui.js';
import { createApiClient } from '../../lib/client.js';
import { formatMinutes } from '../../lib/format.js';
import { initI18n, t } from '../../lib/i18n.js';
import { describeError } from '../../lib/messages.js';
import { checkPin, hasPin } from '../../lib/pin.js';
import { localeItem, tokenItem } from '../../lib/settings.js';

/**
 * The quick-call popup: the children as big buttons, the call time left, one click to call
 * (after the parent PIN, if one is set), and a way into the side panel.
 */
const app = document.querySelector<HTMLElement>('#app')!;
let windowId: number | undefined;
const photoUrls: string[] = [];

function isToolbarPopup(): boolean {
  try {
    return browser.extension.getViews({ type: 'popup' }).includes(window);
  } catch {
    return false;
  }
}

function closeIfPopup(): void {
  if (isToolbarPopup()) window.close();
}

/** Must run synchronously inside the click: the browsers only open panels from a user gesture. */
function panelButton(label: string): HTMLElement {
  const message = messageArea();
  const btn = button(label, { variant: 'link', class: 'open-panel' });
  btn.addEventListener('click', () => {
    openSidePanel(windowId).then(closeIfPopup, () => message.show(t('popup.panelFailed'), 'error'));
  });
  return h('div', null, btn, message.root);
}

function askPin(profile: Profile): Promise<boolean> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: 8, pattern: '[0-9]*' });
    const f = field({ label: t('popup.pinLabel', { name: profile.name }), input });
    const ok = button(t('popup.pinContinue'), { variant: 'primary', type: 'submit' });
    const cancel = button(t('common.cancel'), { variant: 'secondary', onclick: () => resolve(false) });
    const form = h('form', { class: 'pin-form' }, f.root, h('div', { class: 'actions' }, cancel, ok));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void checkPin(input.value).then((good) => {
        if (good) resolve(true);
        else {
          f.setError(t('popup.pinWrong'));
          input.value = '';
          input.focus();
        }
      });
    });
    const slot = app.querySelector('.pin-slot');
    if (slot) mount(slot, form);
    input.focus();
  });
}

async function startCall(profile: Profile, message: ReturnType<typeof messageArea>): Promise<void> {
  if (await hasPin()) {
    const ok = await askPin(profile);
    app.querySelector('.pin-slot')?.replaceChildren();
    if (!ok) return;
  }
  try {
    await openCallWindow(profile.id);
    closeIfPopup();
  } catch {
    message.show(t('popup.callWindowFailed'), 'error');
  }
}

async function render(): Promise<void> {
  await initI18n();
  document.title = t('extName');
  for (const url of photoUrls.splice(0)) URL.revokeObjectURL(url);
  const title = h('h1', null, phoneIcon(24), t('extName'));
  const token = await tokenItem.getValue();
  if (!token) {
    mount(app, title, h('p', null, t('popup.signedOut')), panelButton(t('popup.openPanelToSignIn')));
    return;
  }
  mount(app, title, h('p', { role: 'status' }, t('common.loading')));
  const api = await createApiClient();
  let account: Account;
  let profiles: Profile[];
  try {
    [account, profiles] = await Promise.all([api.me(), api.profiles()]);
  } catch (err) {
    mount(app, title, h('p', { role: 'alert', class: 'message message-error' }, describeError(err)), h('div', { class: 'footer' }, panelButton(t('popup.openPanel'))));
    return;
  }
  const message = messageArea();
  const balance = h('p', { class: 'balance' }, t('popup.balance', { minutes: formatMinutes(account.availableSeconds) }));
  const body: Node[] = [];
  if (!account.consent) {
    body.push(h('p', { class: 'notice' }, t('popup.needsSetup')));
  } else if (profiles.length === 0) {
    body.push(h('p', null, t('popup.noChildren')));
  } else {
    if (account.availableSeconds <= 0) body.push(h('p', { class: 'notice' }, t('popup.noCredit')));
    const list = h(
      'ul',
      { class: 'kids', 'aria-label': t('popup.childrenLabel') },
      profiles.map((p) => {
        const img = avatar(p.name, null);
        const btn = h(
          'button',
          { type: 'button', class: 'kid', 'data-profile': p.id, 'aria-label': t('popup.callChild', { name: p.name }) },
          img,
          h('span', null, p.name),
          h('span', { class: 'call-hint' }, phoneIcon()),
        );
        btn.addEventListener('click', () => void startCall(p, message));
        if (p.photoId) {
          void api.profilePhoto(p.id).then(
            (blob) => {
              const url = URL.createObjectURL(blob);
              photoUrls.push(url);
              img.replaceWith(avatar(p.name, url));
            },
            () => undefined,
          );
        }
        return h('li', null, btn);
      }),
    );
    body.push(h('p', null, t('popup.pick')), list);
  }
  mount(app, title, balance, ...body, h('div', { class: 'pin-slot' }), message.root, h('div', { class: 'footer' }, panelButton(t('popup.openPanel'))));
}

async function main(): Promise<void> {
  try {
    windowId = (await browser.windows.getCurrent()).id;
  } catch {
    windowId = undefined;
  }
  await render();
  // Signing in or out, or a new language, in the side panel shows here at once.
  tokenItem.watch(() => void render());
  localeItem.watch(() => void render());
}

void main();
