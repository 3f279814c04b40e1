import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Synthesizing the CDK app and the end-to-end batch take a few seconds each on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The SDK's notice that future versions will need Node 22 says nothing about the code under test.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
