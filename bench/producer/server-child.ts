/**
 * The mock (or the do-nothing server) in its own process, so the producer and the server do not
 * share one event loop.
 * `node --conditions=@kinesis-kit/source --import tsx bench/producer/server-child.ts <on|off|noop> <shards>`
 * Prints `READY <endpoint>`; exits when stdin closes.
 */
import readline from 'node:readline';
import { startMockServer } from '@kinesis-kit/mock';
import { startDoNothingServer } from '../do-nothing-server.js';

const mode = process.argv[2];
const shards = Number(process.argv[3] ?? 4);
const server =
  mode === 'noop' ? await startDoNothingServer() : await startMockServer({ limits: mode === 'on' ? {} : false, streams: [{ name: 'bench', shardCount: shards }] });
process.stdout.write(`READY ${server.endpoint}\n`);
readline.createInterface({ input: process.stdin }).on('close', () => {
  void server.close().finally(() => process.exit(0));
});
