import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the CDK app and the end-to-end batch take a few seconds each on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
