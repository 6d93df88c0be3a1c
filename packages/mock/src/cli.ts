#!/usr/bin/env node
/**
 * kinesis-kit-mock: runs the mock server until SIGINT/SIGTERM (see MOCK_CLI_USAGE in mock-cli.ts).
 */
import { runMockCli } from './mock-cli.js';

export { parseCliOptions, parseStreams } from './mock-cli.js';

// Run only as a program (not when a test imports the parsers).
const invokedAs = process.argv[1] ?? '';
if (/(^|[\\/])(cli\.(ts|js)|kinesis-kit-mock)$/.test(invokedAs)) {
  runMockCli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
