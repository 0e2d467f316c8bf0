import { h, uid, type Attrs, type Child } from './dom.js';
import { t } from '../lib/i18n.js';

/** Small building blocks shared by the side panel, the popup and the call window. */

export function button(
  label: Child,
  attrs: Attrs & { variant?: 'primary' | 'secondary' | 'danger' | 'link' } = {},
): HTMLButtonElement {
  const { variant = 'secondary', class: extra, ...rest } = attrs;
  return h('button', { type: 'button', class: ['btn', `btn-${variant}`, extra as string | undefined], ...rest }, label);
}

export interface FieldOptions {
  label: string;
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  hint?: string;
}

export interface Field {
  root: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  setError(message: string | null): void;
  /** Whether an error is shown now. */
  hasError(): boolean;
}

/**
 * A labelled control with an optional hint and an error line the control points to.
 * `control` is the element a person operates when it is not the input itself (the button
 * of a file field): it gets the description and the invalid state.
 */
export function field({ label, input, hint, control }: FieldOptions & { control?: HTMLElement }): Field {
  const id = input.id || uid('f');
  input.id = id;
  const target = control ?? input;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const extraIds = () => (target.dataset.describedBy ?? '').split(' ').filter(Boolean);
  const describe = () => {
    const ids = [hintEl?.id, ...extraIds(), errorEl.hidden ? null : errorEl.id].filter(Boolean).join(' ');
    if (ids) target.setAttribute('aria-describedby', ids);
    else target.removeAttribute('aria-describedby');
  };
  describe();
  const labelEl = h('label', { for: id, id: `${id}-label` }, label);
  const root = h('div', { class: 'field' }, labelEl, hintEl, control ?? input, errorEl);
  return {
    root,
    input,
    setError(message) {
      errorEl.textContent = message ?? '';
      errorEl.hidden = !message;
      if (message) target.setAttribute('aria-invalid', 'true');
      else target.removeAttribute('aria-invalid');
      describe();
    },
    hasError: () => !errorEl.hidden,
  };
}

/**
 * A file field whose words are ours: the browser's own file input says "Choose File" in the
 * browser's language, not the parent's, so it stays hidden and a translated button opens it.
 * The button is named by the field's label and its own words, and says which file was chosen.
 */
export function fileField(opts: {
  label: string;
  hint?: string;
  input: HTMLInputElement;
  chooseLabel: string;
  noneLabel: string | null;
}): Field & { button: HTMLButtonElement; showChosen(name: string | null): void } {
  const { input } = opts;
  input.id ||= uid('f');
  input.hidden = true;
  input.tabIndex = -1;
  const chosen = h('span', { class: 'file-chosen', id: `${input.id}-chosen` }, opts.noneLabel ?? '');
  const pick = button(opts.chooseLabel, {
    class: 'file-choose',
    id: `${input.id}-button`,
    'aria-labelledby': `${input.id}-label ${input.id}-button`,
    'data-described-by': chosen.id,
    onclick: () => input.click(),
  });
  // field() describes and marks the focusable part (the button), then the button moves into
  // its row beside the chosen file's name and the hidden input.
  const f = field({ label: opts.label, input, hint: opts.hint, control: pick });
  const row = h('div', { class: 'file-control' });
  f.root.replaceChild(row, pick);
  row.append(pick, chosen, input);
  return {
    ...f,
    button: pick,
    showChosen(name) {
      chosen.textContent = name ?? opts.noneLabel ?? '';
    },
  };
}

export function checkbox(label: string, attrs: Attrs = {}): { root: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'checkbox', id: uid('c'), ...attrs });
  return { root: h('div', { class: 'check' }, input, h('label', { for: input.id }, label)), input };
}

/** A message area announced to screen readers: polite status, or an assertive alert for errors. */
export function messageArea(): {
  root: HTMLElement;
  show(message: string, kind?: 'ok' | 'error'): void;
  clear(): void;
} {
  const root = h('div', { class: 'message', role: 'status', 'aria-live': 'polite' });
  return {
    root,
    show(message, kind = 'ok') {
      root.className = `message message-${kind}`;
      root.setAttribute('role', kind === 'error' ? 'alert' : 'status');
      root.textContent = message;
    },
    clear() {
      root.className = 'message';
      root.textContent = '';
    },
  };
}

/** A modal confirmation with the native <dialog> (focus trap, Escape to cancel). */
export function confirmDialog(opts: {
  title: string;
  body: Child;
  confirmLabel: string;
  danger?: boolean;
  extra?: Child;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const cancel = button(t('common.cancel'), { variant: 'secondary', value: 'cancel' });
    const confirm = button(opts.confirmLabel, { variant: opts.danger ? 'danger' : 'primary', value: 'confirm' });
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, opts.title),
      h('div', { class: 'dialog-body' }, opts.body),
      opts.extra ?? null,
      h('div', { class: 'actions' }, cancel, confirm),
    );
    let result = false;
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => {
      result = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Busy state for a button while its action runs; returns the action's result. */
export async function busy<T>(btn: HTMLButtonElement, action: () => Promise<T>): Promise<T> {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

/** The avatar of a child: their photo when there is one, else their initial on a colour. */
export function avatar(name: string, photoUrl: string | null, size: 'small' | 'large' = 'small'): HTMLElement {
  if (photoUrl) return h('img', { class: `avatar avatar-${size}`, src: photoUrl, alt: '' });
  const hue = [...name].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % 360;
  // The initial is drawn by CSS, not text: inside a button it is decoration, and as text it
  // would be part of the button's visible label without being in its accessible name.
  return h('span', {
    class: `avatar avatar-${size}`,
    style: `--avatar-hue:${hue}`,
    'aria-hidden': 'true',
    'data-initial': (name.trim()[0] ?? '?').toUpperCase(),
  });
}

/** Moves focus to a view's heading so keyboard and screen-reader users land in the new content. */
export function focusHeading(root: ParentNode): void {
  const heading = root.querySelector<HTMLElement>('h1, h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
  }
}
