#!/usr/bin/env node
import { COMMANDS } from './commands/registry.js';
import { runProgram } from './program.js';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (): void => {
  // First Ctrl-C stops cleanly; a second one exits at once.
  if (++interrupts > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const exitCode = await runProgram(
  process.argv.slice(2),
  {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdin: process.stdin,
    signal: controller.signal,
    isTty: process.stdout.isTTY === true,
  },
  COMMANDS,
);
// The mock command keeps running until its own signal handlers close it.
if (process.argv[2] !== 'mock') {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = exitCode;
}
