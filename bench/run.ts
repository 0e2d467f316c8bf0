/**
 * `npm run bench`: every benchmark, one table, one JSON file under bench/results/.
 * `npm run bench -- store broker` runs only the named benchmarks.
 * Targets live here and in docs/PERFORMANCE.md, never as timed assertions in tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failed, formatTable, machine, type Row } from './lib/report.js';
import * as broker from './broker.js';
import * as cluster from './cluster.js';
import * as connect from './call-connect.js';
import * as sockets from './sockets.js';
import * as store from './store.js';
import * as takeover from './takeover.js';
import * as extension from './extension.js';

interface Bench {
  name: string;
  run(log: (line: string) => void): Promise<Row[]>;
}

const ALL: Bench[] = [broker, connect, sockets, store, extension, cluster, takeover];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !ALL.some((b) => b.name === w));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = wanted.length ? ALL.filter((b) => wanted.includes(b.name)) : ALL;
  const m = machine();
  const t0 = Date.now();
  const log = (line: string) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  log(`machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGB} GB, Node ${m.node}, ${m.platform}`);

  const rows: Row[] = [];
  const started = Date.now();
  for (const bench of selected) {
    const t = Date.now();
    log(`${bench.name}: running`);
    try {
      rows.push(...(await bench.run(log)));
    } catch (err) {
      log(`${bench.name}: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      rows.push(failed(`${bench.name} (did not run)`, err instanceof Error ? err.message : String(err)));
    }
    log(`${bench.name}: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine: m,
        startedAt: new Date(started).toISOString(),
        seconds: Math.round((Date.now() - started) / 1000),
        rows,
      },
      null,
      2,
    ) + '\n',
  );

  console.log(
    `\nCall Santa bench: ${m.cores} cores, ${m.cpu}, ${m.memoryGB} GB RAM, Node ${m.node} (${Math.round((Date.now() - started) / 1000)} s)\n`,
  );
  console.log(formatTable(rows));
  const notes = rows.filter((r) => r.note);
  if (notes.length) {
    console.log('\nnotes:');
    for (const r of notes) console.log(`- ${r.figure}: ${r.note}`);
  }
  console.log(`\nwritten to ${file}`);
  // Child processes and sockets are closed by each benchmark; exit so a stray handle cannot hang the run.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
