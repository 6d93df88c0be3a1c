/**
 * The limits-off producer workload alone, for profiling the client side:
 * `node --conditions=@kinesis-kit/source --import tsx --cpu-prof bench/producer/profile.ts [off|noop] [ms] [put|putMany]`
 */
import { measureProducer, startServer } from './index.js';

const mode = process.argv[2] === 'noop' ? 'noop' : 'off';
const ms = Number(process.argv[3] ?? 5000);
const api = process.argv[4] === 'putMany' ? 'putMany' : 'put';
const server = await startServer(mode);
try {
  const figures = await measureProducer(server.endpoint, ms, 1000, 100_000, api);
  process.stdout.write(`${mode}, ${api}: ${Math.round(figures.rate).toLocaleString('en-US')} user records/s, ${figures.requests} requests, ${figures.failed} failed\n`);
} finally {
  await server.close();
}
