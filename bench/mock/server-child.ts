/**
 * Runs one benchmark target in its own process: `ours` (the mock), `kinesalite` or `noop` (the
 * do-nothing server). Prints `READY <endpoint>`; answers each `cpu` line on stdin with the
 * process's CPU time in microseconds; exits when stdin closes.
 * Run: node --conditions=@kinesis-kit/source --import tsx bench/mock/server-child.ts <target>
 */
import readline from 'node:readline';
import { startMockServer } from '@kinesis-kit/mock';
import { startDoNothing, startKinesalite, type Target } from './peers.js';

const which = process.argv[2];
let target: Target;
if (which === 'ours') {
  const server = await startMockServer({ limits: false });
  target = { name: 'ours', endpoint: server.endpoint, close: () => server.close() };
} else if (which === 'kinesalite') target = await startKinesalite();
else if (which === 'noop') target = await startDoNothing(100, 10_000);
else throw new Error(`unknown target ${which}`);

process.stdout.write(`READY ${target.endpoint}\n`);
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'cpu') {
    const u = process.cpuUsage();
    process.stdout.write(`CPU ${u.user + u.system}\n`);
  }
});
lines.on('close', () => {
  void target.close().finally(() => process.exit(0));
});
