#!/usr/bin/env node
// The `kinesis-kit` command. This launcher is committed, not built: npm links a command only when
// its file exists at install time, so a clone's `npm ci` (before any build) links it too, and npx
// never goes looking for the name on the registry.
const program = new URL('../dist/bin.js', import.meta.url);
try {
  await import(program.href);
} catch (error) {
  // Only the program file itself missing means "not built"; a file or package it imports is another error.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || error.url !== program.href) throw error;
  process.stderr.write('kinesis-kit is not built: run `npm run build` (in this repository, `npm run kinesis-kit -- <command>` runs it from sources)\n');
  process.exitCode = 1;
}
