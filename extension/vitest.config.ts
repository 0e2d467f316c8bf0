import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

// Extension unit tests: WXT's plugin gives them the same aliases, auto-imports and
// import.meta.env as the build, and swaps the browser API for an in-memory fakeBrowser.
export default defineConfig({
  plugins: [WxtVitest()],
  test: {
    include: ['extension/**/*.test.ts'],
    environment: 'node',
    testTimeout: 15_000,
  },
});
