import { h } from '../../../components/dom.js';
import { busy, button, checkbox, field, messageArea } from '../../../components/ui.js';
import { t, type MessageKey } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import { clearPin, hasPin, isValidPin, setPin } from '../../../lib/pin.js';
import {
  cameraPreviewItem,
  getLocaleSetting,
  getServerUrl,
  isLocaleSetting,
  localeItem,
  setServerUrl,
  type LocaleSetting,
} from '../../../lib/settings.js';
import type { PanelContext } from '../context.js';
import { supportCard } from './support.js';

/** Settings: server, language, parent PIN, camera preview, sign out. */
export function settingsView(ctx: PanelContext): HTMLElement {
  const section = h('section', { class: 'settings' }, h('h2', null, t('settings.title')));

  // Server URL
  const serverMsg = messageArea();
  const server = field({
    label: t('settings.server'),
    input: h('input', { type: 'url', name: 'serverUrl', autocomplete: 'off', spellcheck: false }),
    hint: t('settings.serverHint'),
  });
  void getServerUrl().then((url) => (server.input.value = url));
  const saveServer = button(t('settings.save'), { variant: 'primary', type: 'submit' });
  const serverForm = h(
    'form',
    { novalidate: true, class: 'card' },
    server.root,
    serverMsg.root,
    h('div', { class: 'actions' }, saveServer),
  );
  serverForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    server.setError(null);
    void busy(saveServer, async () => {
      const before = await getServerUrl();
      const result = await setServerUrl(server.input.value);
      if (!result.ok) {
        server.setError(t(`settings.serverProblem.${result.problem}` as MessageKey));
        server.input.focus();
        return;
      }
      server.input.value = result.url;
      if (result.url !== before) {
        await ctx.restart();
        ctx.notify(t('settings.serverSaved'));
      } else serverMsg.show(t('settings.serverSaved'));
    });
  });

  // Language
  const langMsg = messageArea();
  const options: LocaleSetting[] = ['auto', 'en', 'da', 'sv'];
  const select = h(
    'select',
    { name: 'locale' },
    options.map((o) => h('option', { value: o }, o === 'auto' ? t('settings.languageAuto') : t(`language.${o}`))),
  );
  void getLocaleSetting().then((v) => (select.value = v));
  const language = field({ label: t('settings.language'), input: select, hint: t('settings.languageHint') });
  select.addEventListener('change', () => {
    const value = select.value;
    if (!isLocaleSetting(value)) return;
    void (async () => {
      await localeItem.setValue(value);
      // The account's language is used for emails; keep it in step with an explicit choice.
      if (value !== 'auto' && ctx.account && ctx.account.locale !== value)
        await ctx.api.patchMe({ locale: value }).catch(() => undefined);
      await ctx.restart();
      ctx.navigate('settings');
      ctx.notify(t('settings.languageSaved'));
    })().catch((err: unknown) => langMsg.show(describeError(err), 'error'));
  });

  // Parent PIN
  const pinCard = h('div', { class: 'card' });
  const renderPin = async () => {
    const msg = messageArea();
    const set = await hasPin();
    const pin = field({
      label: set ? t('settings.pinNew') : t('settings.pin'),
      input: h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', maxlength: 8 }),
      hint: t('settings.pinHint'),
    });
    const again = field({
      label: t('settings.pinAgain'),
      input: h('input', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', maxlength: 8 }),
    });
    const save = button(set ? t('settings.pinChange') : t('settings.pinSet'), { variant: 'primary', type: 'submit' });
    const remove = set
      ? button(t('settings.pinRemove'), {
          onclick: () =>
            void clearPin()
              .then(renderPin)
              .then(() => ctx.notify(t('settings.pinRemoved'))),
        })
      : null;
    const form = h(
      'form',
      { novalidate: true },
      pin.root,
      again.root,
      msg.root,
      h('div', { class: 'actions' }, save, remove),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      pin.setError(null);
      again.setError(null);
      if (!isValidPin(pin.input.value)) {
        pin.setError(t('settings.pinInvalid'));
        pin.input.focus();
        return;
      }
      if (pin.input.value !== again.input.value) {
        again.setError(t('settings.pinMismatch'));
        again.input.focus();
        return;
      }
      void busy(save, async () => {
        await setPin(pin.input.value);
        await renderPin();
        ctx.notify(t('settings.pinSaved'));
      });
    });
    pinCard.replaceChildren(
      h('h3', null, t('settings.pinTitle')),
      h('p', null, set ? t('settings.pinIsSet') : t('settings.pinExplain')),
      form,
    );
  };
  void renderPin();

  // Camera preview in the call window
  const camera = checkbox(t('settings.camera'));
  void cameraPreviewItem.getValue().then((v) => (camera.input.checked = v));
  camera.input.addEventListener(
    'change',
    () => void cameraPreviewItem.setValue(camera.input.checked).then(() => ctx.notify(t('settings.saved'))),
  );

  section.append(
    serverForm,
    h('div', { class: 'card' }, language.root, langMsg.root),
    pinCard,
    h(
      'div',
      { class: 'card' },
      h('h3', null, t('settings.cameraTitle')),
      h('p', null, t('settings.cameraExplain')),
      camera.root,
    ),
  );
  if (ctx.account) {
    section.append(
      h(
        'div',
        { class: 'card' },
        h('h3', null, t('settings.controlsTitle')),
        h('p', null, t('settings.controlsExplain')),
        button(t('settings.toChildren'), { variant: 'link', onclick: () => ctx.navigate('children') }),
      ),
      supportCard(ctx),
      h(
        'div',
        { class: 'card' },
        h('p', null, t('settings.signedInAs', { email: ctx.account.email })),
        button(t('settings.signOut'), { class: 'sign-out', onclick: () => void ctx.signOut() }),
      ),
    );
  }
  return section;
}
