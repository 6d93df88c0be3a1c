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

// Every command, the mock server included, runs until it is done or the signal aborts.
process.exitCode = await runProgram(
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
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
