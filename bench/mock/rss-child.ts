/**
 * Child process of the mock benchmark: holds N records of `size` bytes in a fresh engine (limits
 * off, inserted through the engine in PutRecords-sized batches) and prints the RSS in bytes.
 * Run: node --expose-gc --conditions=@kinesis-kit/source --import tsx bench/mock/rss-child.ts N size
 */
import { KinesisEngine, NO_LIMITS, type PutEntry } from '@kinesis-kit/mock';

const total = Number(process.argv[2] ?? 5_000_000);
const size = Number(process.argv[3] ?? 100);
const engine = new KinesisEngine({ limits: { ...NO_LIMITS } });
const stream = engine.createStream('rss', 4);
const payload = Buffer.alloc(size, 0x61);
const step = (1n << 128n) / 1000n;
const batch: PutEntry[] = [];
const started = performance.now();
for (let i = 0; i < total; i++) {
  const partitionKey = `pk-${i % 1000}`;
  batch.push({ partitionKey, keyBytes: partitionKey.length, data: payload, dataBytes: size, hashKeyHex: (BigInt(i % 1000) * step).toString(16).padStart(32, '0') });
  if (batch.length === 500) {
    engine.putRecords(stream, batch);
    batch.length = 0;
  }
}
if (batch.length > 0) engine.putRecords(stream, batch);
const insertMs = performance.now() - started;
(globalThis as { gc?: () => void }).gc?.();
const held = stream.shards.reduce((n, s) => n + s.log.length, 0);
process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, held, insertMs })}\n`);
