import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Model, Rng, type AccountModel } from './model.js';
import { ServerProcess, freePort } from './server-process.js';
import { Workload, type Target } from './workload.js';
import { checkOnDisk, checkThroughApi } from './invariants.js';
import { TEST_STORE } from '../support/server.js';
import { freshDatabase } from '../support/postgres.js';

/**
 * The fault suite: a mixed workload against the real server process, killed with SIGKILL at
 * seeded random moments and restarted, with every invariant checked after every kill.
 * `npm test` runs the short form (FAULT_KILLS=5); `npm run test:faults` the long one (100).
 * FAULT_SEED replays a run: the same operations and kill delays (the exact instant a kill
 * lands inside an operation still depends on timing).
 */
const KILLS = Number(process.env.FAULT_KILLS ?? 5);
const SEED = Number(process.env.FAULT_SEED ?? 20261224);
const WORKERS = Number(process.env.FAULT_WORKERS ?? 4);

const dataDir = mkdtempSync(join(tmpdir(), 'callsanta-faults-'));
let server: ServerProcess | null = null;

afterAll(async () => {
  await server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the server under SIGKILL', () => {
  it(
    `survives ${KILLS} kills at random points: nothing acknowledged is lost, nothing is doubled, every deadline stays, no call stays open`,
    async () => {
      const rng = new Rng(SEED);
      const dataKey = randomBytes(32).toString('hex');
      const webhookSecret = `whsec_faults_${SEED}`;
      const adminToken = `fault-suite-admin-token-${SEED}`;
      const port = await freePort();
      // STORE=postgres: the same kills with the server on a fresh PostgreSQL database.
      const databaseUrl = TEST_STORE === 'postgres' ? await freshDatabase('faults') : undefined;
      server = new ServerProcess(port, {
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        DATA_DIR: dataDir,
        DATA_KEY: dataKey,
        STRIPE_WEBHOOK_SECRET: webhookSecret,
        ADMIN_TOKEN: adminToken,
        CALL_CHECKPOINT_SECONDS: '2',
        // The workload signs up from one address far more often than a family would.
        SIGNUPS_PER_ADDRESS_PER_HOUR: '1000000',
      });
      const t: Target = { url: server.url, adminToken, webhookSecret, packs: { 'pack-10': 600, 'pack-30': 1800 } };
      const model = new Model(String(SEED));
      let life = 0;
      const workload = new Workload(t, model, rng, () => life, { calls: true });
      const problems: string[] = [];
      let touched = new Set<AccountModel>();
      const started = Date.now();

      const phase: Record<string, number> = {};
      const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        const s = Date.now();
        try {
          return await fn();
        } finally {
          phase[name] = (phase[name] ?? 0) + Date.now() - s;
        }
      };
      for (let k = 1; k <= KILLS; k++) {
        await timed('start', () => server!.start());
        life++;
        if (k > 1)
          problems.push(
            ...(await timed('api checks', () => checkThroughApi(t, model, rng, touched))).map(
              (p) => `restart ${k - 1}: ${p}`,
            ),
          );
        workload.start(WORKERS);
        await timed('workload', () => new Promise((r) => setTimeout(r, rng.int(300, 2500))));
        workload.stop();
        const killedAt = Date.now();
        await server.kill();
        await timed('settle', () => workload.settled());
        for (const a of model.accounts) for (const c of a.calls) c.endBy ??= killedAt;
        touched = new Set(workload.touched);
        problems.push(
          ...(await timed('disk checks', () => checkOnDisk(dataDir, dataKey, model, life, databaseUrl))).map(
            (p) => `kill ${k}: ${p}`,
          ),
        );
      }

      // A last restart, its checks, and a graceful stop that must end every live call.
      {
        await server.start();
        life++;
        problems.push(...(await checkThroughApi(t, model, rng, touched)).map((p) => `final restart: ${p}`));
        const code = await server.stop();
        if (code !== 0) problems.push(`graceful stop exited with ${code}`);
        life++;
        problems.push(
          ...(await checkOnDisk(dataDir, dataKey, model, life, databaseUrl)).map(
            (p) => `after the graceful stop: ${p}`,
          ),
        );
      }

      const c = workload.counters;
      console.log(
        `faults: FAULT_SEED=${SEED}, ${KILLS} kills, ${server.starts} starts in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
          `operations ${JSON.stringify(c.ops)}, acknowledged ${JSON.stringify(c.acked)}; ms per phase ${JSON.stringify(phase)}`,
      );
      expect(problems, `FAULT_SEED=${SEED}`).toEqual([]);
      // The run must have done real work, or the invariants proved nothing.
      expect(c.acked.signup ?? 0).toBeGreaterThan(0);
      expect(c.acked.purchase ?? 0).toBeGreaterThan(0);
    },
    KILLS * 45_000 + 120_000,
  );
});
