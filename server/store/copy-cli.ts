// `npm run store:copy -- --from ./data --to "$DATABASE_URL"`: moves a lowdb installation onto
// PostgreSQL. The data directory is opened as the server opens it (DATA_KEY, else DATA_DIR's
// data.key) and the database as the server would with DATABASE_URL (DATA_KEY required,
// schema migrated first). Exit 0: copied and checked; 1: copied but the check failed, or an
// error; 2: bad usage; 3: refused (the target is not empty, a store cannot be opened).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../config/config.js';
import { KEY_FILE } from './crypto.js';
import { MANIFEST_FILE } from './disk-layout.js';
import { StoreOpenError } from './errors.js';
import { openStore } from './lowdb-store.js';
import { describeUrl, openPgStore } from './pg-store.js';
import { copyStore, CopyRefusedError, formatReport } from './copy.js';
import type { Store } from './types.js';

const USAGE = `Usage: npm run store:copy -- --from <lowdb data directory> --to <postgres://user:password@host:port/database>

Copies every table and photo of a Call Santa data directory into an EMPTY PostgreSQL database,
then checks the copy (rows per table, every row compared, the audit chain, every balance).
Stop the server first. DATA_KEY must be set: it opens the data directory (as the server does)
and seals the data in PostgreSQL; an installation that used DATA_DIR/data.key sets
DATA_KEY="$(cat ./data/data.key)". The server then runs with the same DATABASE_URL and DATA_KEY.
See docs/OPERATIONS.md, "Moving onto PostgreSQL".`;

const out = (line: string) => process.stdout.write(line + '\n');
function fail(code: number, message: string): never {
  process.stderr.write(`store:copy: ${message}\n`);
  process.exit(code);
}

let args;
try {
  args = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
} catch (err) {
  fail(2, `${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
}
if (args.help) {
  out(USAGE);
  process.exit(0);
}
if (!args.from || !args.to) fail(2, `--from and --to are both required\n${USAGE}`);

const from = args.from;
let config;
try {
  config = parseConfig({ DATA_DIR: from, DATABASE_URL: args.to, DATA_KEY: process.env.DATA_KEY });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  const hint = err.variable === 'DATA_KEY' && existsSync(join(from, KEY_FILE)) ? `\nThis data directory's key is in ${join(from, KEY_FILE)}: run with DATA_KEY="$(cat ${join(from, KEY_FILE)})".` : '';
  fail(2, `${err.message}${hint}`);
}
if (!existsSync(join(from, MANIFEST_FILE))) fail(3, `${from} is not a Call Santa data directory (it has no ${MANIFEST_FILE}); nothing was copied.`);

const url = config.databaseUrl!;
let source: Store | null = null;
let target: Store | null = null;
let code = 0;
try {
  try {
    source = await openStore({ dataDir: from, dataKey: config.dataKey });
  } catch (err) {
    throw new StoreOpenError(`cannot open ${from}: ${err instanceof Error ? err.message : String(err)} (is DATA_KEY the key this directory was written with?)`);
  }
  target = await openPgStore({ url, dataKey: config.dataKey ?? '' });
  out(`copying ${from} -> PostgreSQL at ${describeUrl(url)}`);
  const report = await copyStore(source, target, { log: (line) => out(`  ${line}`) });
  out('');
  out(formatReport(report));
  if (!report.ok) code = 1;
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  code = err instanceof CopyRefusedError || err instanceof StoreOpenError ? 3 : 1;
  process.stderr.write(`store:copy: ${message}\n`);
} finally {
  await target?.close().catch(() => undefined);
  await source?.close().catch(() => undefined);
}
process.exit(code);
