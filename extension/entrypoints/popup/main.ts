import '../../components/base.css';
import './popup.css';
import { browser } from 'wxt/browser';
import type { Account, CallReadiness, Profile } from '../../../shared/index.js';
import { h, mount } from '../../components/dom.js';
import { phoneIcon } from '../../components/icons.js';
import { avatar, button, messageArea } from '../../components/ui.js';
import { openCallWindow, openSidePanel } from '../../lib/browser-ui.js';
import { createApiClient } from '../../lib/client.js';
import { formatMinutes } from '../../lib/format.js';
import { initI18n, t } from '../../lib/i18n.js';
import { describeError, isOffline, RECHECK_MS } from '../../lib/messages.js';
import { hasPin } from '../../lib/pin.js';
import { blockHelp, blockLabel, heldSeconds, loadReadiness } from '../../lib/readiness.js';
import { pinPrompt } from '../../components/pin-prompt.js';
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
    const slot = app.querySelector('.pin-slot');
    const prompt = pinPrompt({ label: t('popup.pinLabel', { name: profile.name }), onDone: resolve });
    // While the PIN is asked, the way into the panel is hidden: the panel's calls ask for it too, but nothing here should hint around it.
    app.querySelector<HTMLElement>('.footer')?.setAttribute('hidden', '');
    if (slot) mount(slot, prompt.form);
    prompt.focus();
  });
}

async function startCall(profile: Profile, message: ReturnType<typeof messageArea>): Promise<void> {
  if (await hasPin()) {
    const ok = await askPin(profile);
    app.querySelector('.pin-slot')?.replaceChildren();
    app.querySelector<HTMLElement>('.footer')?.removeAttribute('hidden');
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
  let readiness: CallReadiness | null;
  try {
    [account, profiles, readiness] = await Promise.all([api.me(), api.profiles(), loadReadiness(api)]);
  } catch (err) {
    const retry = button(t('common.retry'), { variant: 'primary', class: 'retry', onclick: () => void render() });
    if (isOffline(err)) {
      // Back by itself as soon as the server answers again.
      const check = (): void => {
        if (!retry.isConnected) return;
        api.policy().then(
          () => retry.isConnected && void render(),
          () => setTimeout(check, RECHECK_MS),
        );
      };
      setTimeout(check, RECHECK_MS);
    }
    mount(
      app,
      title,
      h('p', { role: 'alert', class: 'message message-error' }, describeError(err)),
      h('div', { class: 'actions' }, retry),
      h('div', { class: 'footer' }, panelButton(t('popup.openPanel'))),
    );
    return;
  }
  const message = messageArea();
  const credit = readiness ?? account;
  const held = heldSeconds(credit);
  const balance = h(
    'p',
    { class: 'balance' },
    t('popup.balance', { minutes: formatMinutes(credit.availableSeconds) }),
    held > 0 ? h('span', { class: 'held' }, ' ', t('credits.reserved', { minutes: formatMinutes(held) })) : null,
  );
  const nameOf = (id: string) => profiles.find((p) => p.id === id)?.name ?? null;
  const body: Node[] = [];
  if (!account.consent) {
    body.push(h('p', { class: 'notice' }, t('popup.needsSetup')));
  } else if (profiles.length === 0) {
    body.push(h('p', null, t('popup.noChildren')));
  } else {
    if (credit.availableSeconds <= 0 && held === 0) body.push(h('p', { class: 'notice' }, t('popup.noCredit')));
    const list = h(
      'ul',
      { class: 'kids', 'aria-label': t('popup.childrenLabel') },
      profiles.map((p) => {
        const img = avatar(p.name, null);
        const mine = readiness?.profiles.find((r) => r.profileId === p.id);
        // The reason sits under the button, not in it: the button's name stays "Call Santa with <name>".
        const reason = mine?.block
          ? h('p', { class: 'kid-block', id: `kid-block-${p.id}` }, blockLabel(mine, nameOf, readiness?.live))
          : null;
        const btn = h(
          'button',
          {
            type: 'button',
            class: 'kid',
            'data-profile': p.id,
            'data-block': mine?.block ?? undefined,
            disabled: Boolean(mine?.block),
            'aria-label': t('popup.callChild', { name: p.name }),
            'aria-describedby': reason ? reason.id : undefined,
          },
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
        return h('li', null, btn, reason);
      }),
    );
    body.push(h('p', null, t('popup.pick')), list);
    const help = [
      ...new Set(
        (readiness?.profiles ?? [])
          .map((r) => (r.block ? blockHelp(r.block, (readiness?.balanceSeconds ?? 0) > 0) : null))
          .filter((x): x is string => Boolean(x)),
      ),
    ];
    for (const line of help) body.push(h('p', { class: 'hint' }, line));
  }
  mount(
    app,
    title,
    balance,
    ...body,
    h('div', { class: 'pin-slot' }),
    message.root,
    h('div', { class: 'footer' }, panelButton(t('popup.openPanel'))),
  );
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
