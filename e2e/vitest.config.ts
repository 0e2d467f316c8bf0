import { defineConfig } from 'vitest/config';

// Browser tests: the built extension in Debian's Chromium (playwright-core) and Firefox ESR
// (puppeteer-core over WebDriver BiDi), against the real server started in-process on
// 127.0.0.1 with Simulated Santa and dev payments. `npm run build` runs first (scripts/test.mjs);
// the global setup builds the Firefox e2e variant.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    environment: 'node',
    globalSetup: ['e2e/support/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two browsers at a time: this machine class has two cores.
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent' },
  },
});
