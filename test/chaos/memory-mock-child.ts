/**
 * The mock (limits on) in its own process for the memory soak, so the heap the soak measures is the
 * producer's and the consumer's only: the mock keeps every record for the retention period (24 h), which
 * would be a growing heap by design. `node --conditions=@kinesis-kit/source --import tsx
 * test/chaos/memory-mock-child.ts <stream> <shards>` prints `READY <endpoint>` and exits when stdin closes.
 */
import readline from 'node:readline';
import { startMockServer } from '@kinesis-kit/mock';

const streamName = process.argv[2] ?? 'soak';
const shardCount = Number(process.argv[3] ?? '2');
const server = await startMockServer({ streams: [{ name: streamName, shardCount }] });
process.stdout.write(`READY ${server.endpoint}\n`);
readline.createInterface({ input: process.stdin }).on('close', () => {
  void server.close().finally(() => process.exit(0));
});
