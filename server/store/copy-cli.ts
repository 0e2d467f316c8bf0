// `npm run store:copy -- --from ./data --to "$DATABASE_URL"`: copies a lowdb data directory
// (opened with DATA_KEY, or its data.key file) into an empty PostgreSQL database, sealed there
// with the same key. Refuses a target that holds any row. Exit 0: copied and checked; 2: bad
// usage; 3: refused; 1: the check failed.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from './lowdb-store.js';
import { openPgStore, describeUrl } from './pg-store.js';
import { copyStore } from './copy.js';
import { KEY_FILE } from './crypto.js';
import { StoreOpenError } from './errors.js';

const usage = 'usage: npm run store:copy -- --from <lowdb data dir> --to postgres://user:password@host:port/database  (DATA_KEY as the server uses it)\n';
let from: string | undefined;
let to: string | undefined;
try {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
  from = values.from;
  to = values.to;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
if (!from || !to || !/^postgres(ql)?:\/\//.test(to)) {
  process.stderr.write(usage);
  process.exit(2);
}
// The key the data directory is sealed with; the database gets the same one, so the server keeps its DATA_KEY.
const keyFile = join(from, KEY_FILE);
const dataKey = process.env.DATA_KEY || (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
if (!dataKey) {
  process.stderr.write(`store:copy: ${from} has no ${KEY_FILE}; set DATA_KEY to the key it was written with\n`);
  process.exit(2);
}

try {
  const source = await openStore({ dataDir: from, dataKey });
  const target = await openPgStore({ url: to, dataKey });
  try {
    process.stdout.write(`copying ${from} -> ${describeUrl(to)}\n`);
    const report = await copyStore(source, target, (line) => process.stdout.write(`  ${line}\n`));
    const bad = report.tables.filter((t) => t.source !== t.target);
    process.stdout.write('count check:\n');
    for (const t of report.tables) process.stdout.write(`  ${t.table.padEnd(16)} ${String(t.source).padStart(8)} -> ${String(t.target).padStart(8)} ${t.source === t.target ? 'ok' : 'MISMATCH'}\n`);
    process.stdout.write(`audit chain: ${report.auditChain.ok ? `verifies (${report.auditChain.entries} entries)` : 'BROKEN'}\n`);
    process.stdout.write(`${report.rows} rows in ${(report.ms / 1000).toFixed(1)} s (${Math.round(report.rows / Math.max(report.ms / 1000, 0.001))} rows/s)\n`);
    if (bad.length || !report.auditChain.ok) {
      process.stderr.write('store:copy: the copy does not match the source; do not switch to it\n');
      process.exitCode = 1;
    } else if (!process.env.DATA_KEY) {
      process.stdout.write(`the database is sealed with the key in ${keyFile}: start the server with DATABASE_URL and DATA_KEY set to it\n`);
    }
  } finally {
    await target.close();
    await source.close();
  }
} catch (err) {
  process.stderr.write(`store:copy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof StoreOpenError ? 3 : 1);
}
