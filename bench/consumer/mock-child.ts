/**
 * The mock in its own process, so the consumer under test does not share an event loop with it.
 * `node --conditions=@kinesis-kit/source --import tsx bench/consumer/mock-child.ts [limits|no-limits]`
 * prints `READY <endpoint>` and exits when stdin closes.
 */
import readline from 'node:readline';
import { startMockServer } from '@kinesis-kit/mock';

const server = await startMockServer(process.argv[2] === 'no-limits' ? { limits: false } : {});
process.stdout.write(`READY ${server.endpoint}\n`);
readline.createInterface({ input: process.stdin }).on('close', () => {
  void server.close().finally(() => process.exit(0));
});
