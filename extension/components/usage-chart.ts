import { h, svg } from './dom.js';
import { formatDay, formatDuration } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import type { Usage } from '../lib/usage.js';

/** Distinct, dark-enough colours (each at least 3:1 against white, for the bars and the legend swatches). */
const PALETTE = ['#b3001b', '#0b6e4f', '#1a5fb4', '#8a4b00', '#6a2c91', '#005f73', '#7a5c00', '#444444'];

/**
 * Minutes per child per day as stacked bars. The SVG is a picture for sighted parents; the
 * same numbers are in a table that screen readers get (and anyone can expand).
 */
export function usageChart(usage: Usage): HTMLElement {
  if (usage.series.length === 0) return h('p', { class: 'muted' }, t('usage.empty'));
  const width = 300;
  const height = 120;
  const perDay = usage.days.map((_, i) => usage.series.reduce((sum, s) => sum + (s.seconds[i] ?? 0), 0));
  const maxSeconds = Math.max(60, ...perDay);
  const barWidth = width / usage.days.length;
  const bars = usage.days.flatMap((_, i) => {
    let y = height;
    return usage.series.map((s, si) => {
      const seconds = s.seconds[i] ?? 0;
      const barHeight = (seconds / maxSeconds) * (height - 4);
      y -= barHeight;
      return seconds > 0
        ? svg('rect', {
            x: i * barWidth + 1,
            y,
            width: Math.max(1, barWidth - 2),
            height: barHeight,
            fill: PALETTE[si % PALETTE.length],
          })
        : null;
    });
  });
  const seriesName = (name: string | null) => name ?? t('usage.removedChild');
  const first = new Date(`${usage.days[0]}T00:00:00Z`);
  const last = new Date(`${usage.days[usage.days.length - 1]}T00:00:00Z`);
  const chart = svg(
    'svg',
    { class: 'usage-svg', viewBox: `0 0 ${width} ${height + 14}`, 'aria-hidden': 'true', focusable: 'false' },
    svg('line', { x1: 0, y1: height + 0.5, x2: width, y2: height + 0.5, stroke: '#767676' }),
    ...bars,
    svg('text', { x: 0, y: height + 12, 'font-size': 9, fill: '#444' }, formatDay(first)),
    svg('text', { x: width, y: height + 12, 'font-size': 9, fill: '#444', 'text-anchor': 'end' }, formatDay(last)),
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    usage.series.map((s, si) =>
      h(
        'li',
        null,
        h('span', { class: 'swatch', style: `background:${PALETTE[si % PALETTE.length]}`, 'aria-hidden': 'true' }),
        `${seriesName(s.name)}: ${formatDuration(s.totalSeconds)}`,
      ),
    ),
  );
  const activeDays = usage.days.map((d, i) => ({ d, i })).filter(({ i }) => (perDay[i] ?? 0) > 0);
  const table = h(
    'table',
    { class: 'usage-table' },
    h('caption', null, t('usage.tableCaption')),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, t('usage.day')),
        usage.series.map((s) => h('th', { scope: 'col' }, seriesName(s.name))),
      ),
    ),
    h(
      'tbody',
      null,
      activeDays.map(({ d, i }) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, formatDay(new Date(`${d}T00:00:00Z`))),
          usage.series.map((s) => h('td', null, formatDuration(s.seconds[i] ?? 0))),
        ),
      ),
    ),
  );
  return h(
    'figure',
    { class: 'usage' },
    chart,
    h('figcaption', null, legend),
    h('details', null, h('summary', null, t('usage.showTable')), table),
  );
}
