import { svg } from './dom.js';

/**
 * Santa, drawn in SVG. setLevel(0..1) opens his mouth and lifts his head with the loudness
 * of his voice; the call window feeds it from a Web Audio analyser on the remote stream.
 */
export interface SantaFigure {
  root: SVGSVGElement;
  setLevel(level: number): void;
}

export function santaFigure(label: string): SantaFigure {
  const mouth = svg('ellipse', { cx: 100, cy: 139, rx: 13, ry: 2, fill: '#7a1020' });
  const head = svg(
    'g',
    { class: 'santa-head' },
    // hat
    svg('path', { d: 'M48 78 Q100 8 152 78 Z', fill: '#c8102e' }),
    svg('path', {
      d: 'M128 44 Q160 40 168 70',
      stroke: '#c8102e',
      'stroke-width': 14,
      fill: 'none',
      'stroke-linecap': 'round',
    }),
    svg('circle', { cx: 170, cy: 74, r: 11, fill: '#ffffff', stroke: '#d9d9d9' }),
    // face
    svg('circle', { cx: 100, cy: 104, r: 40, fill: '#f7c9a9' }),
    svg('rect', { x: 42, y: 70, width: 116, height: 18, rx: 9, fill: '#ffffff', stroke: '#d9d9d9' }),
    svg('circle', { class: 'santa-eye', cx: 85, cy: 100, r: 4.5, fill: '#2b2b2b' }),
    svg('circle', { class: 'santa-eye', cx: 115, cy: 100, r: 4.5, fill: '#2b2b2b' }),
    svg('circle', { cx: 74, cy: 114, r: 7, fill: '#f29b9b', opacity: 0.7 }),
    svg('circle', { cx: 126, cy: 114, r: 7, fill: '#f29b9b', opacity: 0.7 }),
    svg('ellipse', { cx: 100, cy: 113, rx: 8, ry: 6, fill: '#e8a07e' }),
    // beard, with the mouth inside it
    svg('path', {
      d: 'M58 118 Q60 190 100 196 Q140 190 142 118 Q122 134 100 128 Q78 134 58 118 Z',
      fill: '#ffffff',
      stroke: '#e2e2e2',
    }),
    svg('path', {
      d: 'M78 128 Q100 118 122 128 Q112 134 100 131 Q88 134 78 128 Z',
      fill: '#ffffff',
      stroke: '#e2e2e2',
    }),
    mouth,
  );
  const root = svg(
    'svg',
    { class: 'santa', viewBox: '0 0 200 210', role: 'img', 'aria-label': label },
    svg('ellipse', { cx: 100, cy: 205, rx: 70, ry: 5, fill: '#000', opacity: 0.08 }),
    head,
  );
  let last = -1;
  return {
    root,
    setLevel(level) {
      const v = Math.max(0, Math.min(1, level));
      // Quantised so the DOM is touched only when the picture changes.
      const q = Math.round(v * 20) / 20;
      if (q === last) return;
      last = q;
      mouth.setAttribute('ry', String(2 + q * 11));
      head.style.transform = `translateY(${(-q * 6).toFixed(1)}px)`;
      root.toggleAttribute('data-speaking', q > 0.05);
    },
  };
}
