import { h } from './dom.js';
import { formatClock } from '../lib/format.js';

/** The time-left bar: a progressbar that shrinks with the server's `call:tick` and turns amber near the end. */
export interface TimeBar {
  root: HTMLElement;
  set(remainingSeconds: number, totalSeconds: number): void;
}

export function timeBar(label: string): TimeBar {
  const fill = h('div', { class: 'timebar-fill' });
  const text = h('span', { class: 'timebar-text', 'aria-hidden': 'true' });
  const bar = h('div', { class: 'timebar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0 }, fill);
  const root = h('div', { class: 'timebar-wrap' }, bar, text);
  return {
    root,
    set(remaining, total) {
      const full = Math.max(total, remaining, 1);
      const pct = Math.max(0, Math.min(100, (remaining / full) * 100));
      fill.style.width = `${pct}%`;
      bar.setAttribute('aria-valuemax', String(full));
      bar.setAttribute('aria-valuenow', String(Math.max(0, remaining)));
      bar.setAttribute('aria-valuetext', formatClock(remaining));
      text.textContent = formatClock(remaining);
      root.classList.toggle('timebar-low', remaining <= 60);
    },
  };
}
