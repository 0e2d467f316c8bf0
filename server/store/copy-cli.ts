// `npm run store:copy -- --from ./data --to "$DATABASE_URL"`: moves a lowdb installation onto
// PostgreSQL. The data directory is opened as the server opens it (DATA_KEY, else DATA_DIR's
// data.key) and the database is sealed with that same key, schema migrated first. Exit 0:
// copied and checked; 1: copied but the check failed, or an error; 2: bad usage; 3: refused
// (the target is not empty, a store cannot be opened).
import { existsSync, readFileSync } from 'node:fs';
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
Stop the server first. The data directory opens with DATA_KEY, else with its data.key (as the
server does), and the database is sealed with that same key: the server then runs with the same
DATABASE_URL and that key as DATA_KEY.
See docs/OPERATIONS.md, "Moving onto PostgreSQL".`;

const out = (line: string) => process.stdout.write(line + '\n');
function fail(code: number, message: string): never {
  process.stderr.write(`store:copy: ${message}\n`);
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }).values;
} catch (err) {
  fail(2, `${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
}
if (args.help) {
  out(USAGE);
  process.exit(0);
}
if (!args.from || !args.to) fail(2, `--from and --to are both required\n${USAGE}`);

const from = args.from;
// The key the data directory is sealed with (the server's rule: DATA_KEY, else DATA_DIR/data.key); the database gets the same one.
const keyFile = join(from, KEY_FILE);
const fromKeyFile = !process.env.DATA_KEY && existsSync(keyFile);
const dataKey = process.env.DATA_KEY || (fromKeyFile ? readFileSync(keyFile, 'utf8').trim() : undefined);
let config;
try {
  config = parseConfig({ DATA_DIR: from, DATABASE_URL: args.to, DATA_KEY: dataKey });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  const hint =
    err.variable === 'DATA_KEY'
      ? `\n${from} has no ${KEY_FILE} either: set DATA_KEY to the key it was written with.`
      : '';
  fail(2, `${err.message}${hint}`);
}
if (!existsSync(join(from, MANIFEST_FILE)))
  fail(3, `${from} is not a Call Santa data directory (it has no ${MANIFEST_FILE}); nothing was copied.`);

const url = config.databaseUrl!;
let source: Store | null = null;
let target: Store | null = null;
let code = 0;
try {
  try {
    source = await openStore({ dataDir: from, dataKey: config.dataKey });
  } catch (err) {
    throw new StoreOpenError(
      `cannot open ${from}: ${err instanceof Error ? err.message : String(err)} (is DATA_KEY the key this directory was written with?)`,
    );
  }
  target = await openPgStore({ url, dataKey: config.dataKey ?? '' });
  out(`copying ${from} -> PostgreSQL at ${describeUrl(url)}`);
  const report = await copyStore(source, target, { log: (line) => out(`  ${line}`) });
  out('');
  out(formatReport(report));
  if (!report.ok) code = 1;
  else if (fromKeyFile)
    out(
      `\nThe database is sealed with the key in ${keyFile}: start the server with DATABASE_URL and DATA_KEY="$(cat ${keyFile})", and keep that key in your secret store.`,
    );
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  code = err instanceof CopyRefusedError || err instanceof StoreOpenError ? 3 : 1;
  process.stderr.write(`store:copy: ${message}\n`);
} finally {
  await target?.close().catch(() => undefined);
  await source?.close().catch(() => undefined);
}
process.exit(code);
