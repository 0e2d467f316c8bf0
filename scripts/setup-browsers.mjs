#!/usr/bin/env node
// Installs what the browser tests need from Debian when it is missing: chromium and
// firefox-esr. Playwright's and Puppeteer's own browser downloads cannot work here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wanted = [
  { bin: '/usr/bin/chromium', pkg: 'chromium' },
  { bin: '/usr/bin/firefox-esr', pkg: 'firefox-esr' },
];
const missing = wanted.filter((w) => !existsSync(w.bin)).map((w) => w.pkg);
if (missing.length === 0) {
  console.log('browsers: chromium and firefox-esr are installed');
  process.exit(0);
}
const asRoot = process.getuid?.() === 0;
const sudo = asRoot ? [] : ['sudo', '-n'];
const apt = (args) => {
  const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
  const r = spawnSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.error(`browsers: apt-get ${args.join(' ')} failed; install ${missing.join(' ')} from Debian and run again`);
    process.exit(r.status ?? 1);
  }
};
console.log(`browsers: installing ${missing.join(', ')} from Debian`);
apt(['update', '-qq']);
apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
for (const w of wanted) execFileSync(w.bin, ['--version'], { stdio: 'inherit' });
