/**
 * One GetRecords client of the mock benchmark in its own process, so that several can read from a
 * server at once (one client process parses responses more slowly than our mock and the do-nothing
 * server serve them). Prints `READY` once the stream is ACTIVE; answers each `get <ms>` line with
 * `MEASURED {"rate","records"}`; exits when stdin closes.
 * Run: node --conditions=@kinesis-kit/source --import tsx bench/mock/client-child.ts <endpoint> <stream> <shards>
 */
import readline from 'node:readline';
import { ensureStream, getRate, keepAliveClient } from './workload.js';

const [endpoint, stream, shards] = process.argv.slice(2);
if (!endpoint || !stream || !shards) throw new Error('usage: client-child.ts <endpoint> <stream> <shards>');
const client = keepAliveClient(endpoint);
const shardIds = await ensureStream(client, stream, Number(shards));
process.stdout.write('READY\n');

const lines = readline.createInterface({ input: process.stdin });
let work = Promise.resolve();
lines.on('line', (line) => {
  const [command, ms] = line.trim().split(' ');
  if (command !== 'get') return;
  work = work.then(async () => {
    const measured = await getRate(client, stream, shardIds, Number(ms));
    process.stdout.write(`MEASURED ${JSON.stringify(measured)}\n`);
  });
});
lines.on('close', () => {
  void work.finally(() => {
    client.destroy();
    process.exit(0);
  });
});
