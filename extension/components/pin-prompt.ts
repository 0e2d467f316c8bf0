import { h } from './dom.js';
import { button, field } from './ui.js';
import { formatTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { pinWaitUntil, tryPin } from '../lib/pin.js';

/**
 * The parent PIN form, the same wherever a call can start (popup and side panel): wrong PINs
 * say so, and once they are slowed down or locked the form says until when and takes no
 * tries until then (the wait is enforced in lib/pin.ts, the form only shows it).
 */
export function pinPrompt(opts: { label: string; onDone(ok: boolean): void }): {
  form: HTMLFormElement;
  focus(): void;
} {
  const input = h('input', {
    type: 'password',
    name: 'pin',
    inputmode: 'numeric',
    autocomplete: 'off',
    maxlength: 8,
    pattern: '[0-9]*',
  });
  const f = field({ label: opts.label, input });
  const ok = button(t('popup.pinContinue'), { variant: 'primary', type: 'submit' });
  const cancel = button(t('common.cancel'), { variant: 'secondary', onclick: () => opts.onDone(false) });
  const form = h('form', { class: 'pin-form', novalidate: true }, f.root, h('div', { class: 'actions' }, cancel, ok));
  let timer: ReturnType<typeof setTimeout> | undefined;

  const waitUntil = (until: number | null, wrong: boolean) => {
    clearTimeout(timer);
    const waiting = until !== null;
    input.disabled = waiting;
    ok.disabled = waiting;
    if (waiting) {
      f.setError(t(wrong ? 'pin.wrongWait' : 'pin.wait', { time: formatTime(until) }));
      timer = setTimeout(
        () => {
          if (!form.isConnected) return;
          waitUntil(null, false);
          f.setError(null);
          input.focus();
        },
        Math.max(0, until - Date.now()),
      );
    } else if (wrong) f.setError(t('popup.pinWrong'));
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (ok.disabled) return;
    ok.disabled = true;
    void tryPin(input.value).then((result) => {
      ok.disabled = false;
      if (result.ok) {
        clearTimeout(timer);
        opts.onDone(true);
        return;
      }
      input.value = '';
      waitUntil(result.waitUntil, true);
      if (!input.disabled) input.focus();
    });
  });
  void pinWaitUntil().then((until) => until !== null && waitUntil(until, false));
  return { form, focus: () => input.focus() };
}

/** The PIN prompt in a modal <dialog> (the side panel): resolves true once the right PIN is in. */
export function askPinDialog(label: string): Promise<boolean> {
  return new Promise((resolve) => {
    let result = false;
    const dialog = h('dialog', { class: 'dialog pin-dialog', 'aria-label': label });
    const prompt = pinPrompt({
      label,
      onDone(ok) {
        result = ok;
        dialog.close();
      },
    });
    dialog.append(prompt.form);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    prompt.focus();
  });
}
