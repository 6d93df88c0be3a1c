import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources: the '@kinesis-kit/source' export condition maps each
// workspace package to its src/index.ts, so no build is needed before testing.
export default defineConfig({
  resolve: { conditions: ['@kinesis-kit/source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@kinesis-kit/source', 'module', 'node', 'import', 'default'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/chaos/long/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    server: { deps: { inline: [/@kinesis-kit\//] } },
  },
});
