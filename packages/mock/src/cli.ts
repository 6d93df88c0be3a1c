#!/usr/bin/env node
/**
 * kinesis-kit-mock: runs the mock server until SIGINT/SIGTERM (see MOCK_CLI_USAGE in mock-cli.ts).
 * The program only; its parsers live in mock-cli.ts.
 */
import { runMockCli } from './mock-cli.js';

runMockCli(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
