#!/usr/bin/env node
// The `kinesis-kit-mock` command. This launcher is committed, not built: npm links a command only
// when its file exists at install time, so a clone's `npm ci` (before any build) links it too, and
// npx never goes looking for the name on the registry.
import { fileURLToPath } from 'node:url';

const program = new URL('../dist/cli.js', import.meta.url);
try {
  await import(program.href);
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(fileURLToPath(program))) throw error;
  process.stderr.write('kinesis-kit-mock is not built: run `npm run build` (in this repository, `npm run kinesis-kit -- mock` runs it from sources)\n');
  process.exitCode = 1;
}
