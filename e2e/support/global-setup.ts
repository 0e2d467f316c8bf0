import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, CHROME_BUILD, FIREFOX_BUILD, ROOT } from './paths.js';

function wxt(args: string[]): void {
  const r = spawnSync('npx', ['wxt', 'build', ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, CI: 'true' },
  });
  if (r.status !== 0) throw new Error(`wxt build ${args.join(' ')} failed`);
}

/** The store builds come from `npm run build`; build them here only when missing (a direct vitest run). */
export default function setup(): void {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  if (!existsSync(join(CHROME_BUILD, 'manifest.json'))) wxt([]);
  if (!existsSync(join(FIREFOX_BUILD, 'manifest.json'))) wxt(['-b', 'firefox']);
  if (!readdirSync(join(ROOT, '.output')).some((f) => f.endsWith('-firefox.zip'))) {
    const r = spawnSync('npx', ['wxt', 'zip', '-b', 'firefox'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('wxt zip -b firefox failed');
  }
  wxt(['-b', 'firefox', '--mode', 'e2e']);
}
