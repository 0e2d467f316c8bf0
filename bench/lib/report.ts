import { cpus, totalmem } from 'node:os';

/** One line of the bench table. `target` is human text ("<= 10"), `met` is decided by the benchmark. */
export interface Row {
  figure: string;
  value: number;
  unit: string;
  target: string;
  met: boolean | null;
  /** Context that does not fit the table (sample sizes, the limit that explains a miss). */
  note?: string;
}

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  memoryGB: number;
  platform: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** A row whose target is an upper bound. */
export function atMost(figure: string, value: number, unit: string, limit: number, note?: string): Row {
  return {
    figure,
    value: round(value),
    unit,
    target: `<= ${limit}`,
    met: Number.isFinite(value) && value <= limit,
    ...(note ? { note } : {}),
  };
}

/** A row whose target is a lower bound. */
export function atLeast(figure: string, value: number, unit: string, limit: number, note?: string): Row {
  return {
    figure,
    value: round(value),
    unit,
    target: `>= ${limit}`,
    met: Number.isFinite(value) && value >= limit,
    ...(note ? { note } : {}),
  };
}

/** A figure reported for context, with no target. */
export function info(figure: string, value: number, unit: string, note?: string): Row {
  return { figure, value: round(value), unit, target: '-', met: null, ...(note ? { note } : {}) };
}

/** A benchmark that could not run: shown as a miss, with the reason. */
export function failed(figure: string, reason: string): Row {
  return { figure, value: Number.NaN, unit: '-', target: 'runs', met: false, note: reason };
}

export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
  return Number(v.toFixed(digits));
}

export function formatTable(rows: Row[]): string {
  const head = ['figure', 'value', 'unit', 'target', 'met?'];
  const body = rows.map((r) => [
    r.figure,
    Number.isNaN(r.value) ? 'n/a' : String(r.value),
    r.unit,
    r.target,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i === 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 1 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(head), sep, ...body.map(line)].join('\n');
}
