#!/usr/bin/env node
// Installs the services the PostgreSQL and multi-process tests need from Debian when they are
// missing: postgresql (server binaries under /usr/lib/postgresql/<major>/bin) and
// redis-server. Nothing is started here: the tests start throwaway instances of their own.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** The newest PostgreSQL server binaries Debian put on this machine, or null. */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((d) => existsSync(`${root}/${d}/bin/initdb`) && existsSync(`${root}/${d}/bin/pg_ctl`))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? `${root}/${majors[0]}/bin` : null;
}

const wanted = [
  { name: 'postgresql', present: () => postgresBin() !== null, pkg: 'postgresql' },
  { name: 'redis-server', present: () => existsSync('/usr/bin/redis-server'), pkg: 'redis-server' },
];
const missing = wanted.filter((w) => !w.present()).map((w) => w.pkg);
if (missing.length === 0) {
  console.log(`services: postgresql (${postgresBin()}) and redis-server are installed`);
  process.exit(0);
}
const asRoot = process.getuid?.() === 0;
const sudo = asRoot ? [] : ['sudo', '-n'];
const apt = (args) => {
  const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
  const r = spawnSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.error(
      `services: apt-get ${args.join(' ')} failed; install ${missing.join(' ')} from Debian (apt-get install ${missing.join(' ')}) and run again`,
    );
    process.exit(r.status ?? 1);
  }
};
console.log(`services: installing ${missing.join(', ')} from Debian`);
apt(['update', '-qq']);
apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
for (const w of wanted) {
  if (!w.present()) {
    console.error(`services: ${w.name} is still missing after apt-get install`);
    process.exit(1);
  }
}
console.log(`services: postgresql (${postgresBin()}) and redis-server are installed`);
