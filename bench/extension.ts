import type { Row } from './lib/report.js';

export const name = 'extension';

export async function run(_log: (line: string) => void): Promise<Row[]> {
  return [];
}
