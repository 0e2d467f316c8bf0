#!/usr/bin/env node
// `npm test`: every test the project has, end-to-end ones included, on a fresh machine.
// Each step runs in order; the first failure stops the run with its exit code. At the
// end one plain line sums up every vitest step: "tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const e2eOnly = process.argv.includes('--e2e-only');
const reportDir = join(root, '.tmp', 'test-reports');
rmSync(reportDir, { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });

const totals = { passed: 0, failed: 0, skipped: 0 };

function run(title, command, args, env = {}) {
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(
    `=== ${title}: ${result.status === 0 ? 'ok' : `failed (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return result.status ?? 1;
}

function vitest(title, configArgs, env = {}) {
  const report = join(reportDir, `${title.replace(/\W+/g, '-')}.json`);
  const status = run(
    title,
    'npx',
    ['vitest', 'run', ...configArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    env,
  );
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += r.numFailedTests ?? 0;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } else if (status !== 0) {
    totals.failed += 1;
  }
  return status;
}

/** The test files that also run with every test server on PostgreSQL (STORE=postgres). */
const POSTGRES_FILES = [
  'server/credits',
  'server/calls',
  'server/privacy',
  'server/retention',
  // Profiles and photos read through the Store API; their tests of lowdb's own files run on lowdb in both passes.
  'server/profiles',
  'server/photos',
  'server/jobs',
  'server/payments/webhook.test.ts',
  'test/authz',
  'test/faults',
  'test/fuzz',
];

const steps = e2eOnly
  ? [
      () => run('browsers', 'node', ['scripts/setup-browsers.mjs']),
      () => run('build', 'npm', ['run', 'build', '--silent']),
      () => vitest('e2e', ['--config', 'e2e/vitest.config.ts']),
    ]
  : [
      () => run('typecheck', 'npm', ['run', 'typecheck', '--silent']),
      () => run('lint', 'npm', ['run', 'lint', '--silent']),
      () => run('services', 'node', ['scripts/setup-services.mjs']),
      () => vitest('server', []),
      // The same promises on the PostgreSQL store: a chosen, short set (the store contract suite
      // already runs on both stores in the step above).
      () => vitest('server on PostgreSQL', POSTGRES_FILES, { STORE: 'postgres', FAULT_KILLS: '3', FUZZ_RUNS: '300' }),
      // Three server processes under kill -9 and a rolling restart, with the machine to themselves.
      () => vitest('cluster faults', ['test/cluster/cluster-faults.test.ts'], { CLUSTER_FAULTS: '1' }),
      () => vitest('extension', ['--config', 'extension/vitest.config.ts']),
      () => run('browsers', 'node', ['scripts/setup-browsers.mjs']),
      () => run('build', 'npm', ['run', 'build', '--silent']),
      () => vitest('e2e', ['--config', 'e2e/vitest.config.ts']),
    ];

let exitCode = 0;
for (const step of steps) {
  exitCode = step();
  if (exitCode !== 0) break;
}
console.log(
  `\ntests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(exitCode);
