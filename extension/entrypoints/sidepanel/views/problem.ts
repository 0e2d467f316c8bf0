import { h } from '../../../components/dom.js';
import { button } from '../../../components/ui.js';
import { t } from '../../../lib/i18n.js';
import { describeError, isOffline, RECHECK_MS } from '../../../lib/messages.js';

/**
 * What a view shows when it could not load: the translated words for what happened (never
 * the browser's own error text), a Try again button, and, when the server could not be
 * reached, a quiet check every few seconds (`reachable`, a cheap public request) that puts the
 * view back by itself as soon as the server answers. `signal` ends the checking when the
 * panel moves on.
 */
export function problemView(
  err: unknown,
  opts: { retry(): void; reachable(): Promise<unknown>; signal: AbortSignal },
): HTMLElement {
  const offline = isOffline(err);
  const retry = button(t('common.retry'), { variant: 'primary', class: 'retry', onclick: () => opts.retry() });
  const section = h(
    'section',
    { class: 'problem', 'data-problem': offline ? 'offline' : 'error' },
    h('h2', null, offline ? t('problem.offlineTitle') : t('problem.errorTitle')),
    h('p', null, describeError(err)),
    offline ? h('p', { class: 'hint' }, t('problem.offlineAuto')) : null,
    h('div', { class: 'actions' }, retry),
  );
  if (offline) {
    const check = (): void => {
      if (opts.signal.aborted) return;
      opts.reachable().then(
        () => !opts.signal.aborted && opts.retry(),
        () => {
          if (!opts.signal.aborted) timer = setTimeout(check, RECHECK_MS);
        },
      );
    };
    let timer = setTimeout(check, RECHECK_MS);
    opts.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }
  return section;
}
