import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources: the '@kinesis-kit/source' export condition maps each
// workspace package to its src/index.ts, so no build is needed before testing.
// Only 'node' besides it: vitest hands these to the worker as `node --conditions`, and 'module' or
// 'import' there make require() load ESM builds (the AWS SDK's dist-es, big.js's .mjs under dynalite).
const conditions = ['@kinesis-kit/source', 'node'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/chaos/long/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The SDK warns once per process that its 2027 releases need Node 22; the lockfile pins today's.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    server: { deps: { inline: [/@kinesis-kit\//] } },
  },
});
