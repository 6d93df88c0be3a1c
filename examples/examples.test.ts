import { encodeAggregatedRecord } from '@kinesis-kit/aggregation';
import { describe, expect, it } from 'vitest';
import { makeHandler, type KinesisEvent } from './lambda-deaggregate.js';
import { main as consume } from './consume.js';
import { main as migrateMultilang } from './migrate-multilang-processor.js';
import { main as produce } from './produce.js';

describe('examples', () => {
  it('produce.ts: every record acknowledged by the mock, aggregated', async () => {
    const lines: string[] = [];
    expect(await produce((l) => lines.push(l))).toBe(5000);
    expect(lines.at(-1)).toBe('5000 of 5000 records acknowledged');
    // 5000 records of about 40 bytes over 4 shards fit a few dozen containers; unaggregated they would be 5000.
    const sent = Number(/^sent as (\d+) Kinesis records/.exec(lines.at(-2) ?? '')?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(100);
  });

  it('consume.ts: two workers, a flaky handler and a graceful stop; every record processed', async () => {
    const lines: string[] = [];
    expect(await consume((l) => lines.push(l), 2000)).toBe(2000);
    expect(lines.at(-1)).toBe('2000 of 2000 records processed');
  });

  it('migrate-multilang-processor.ts: the ported aws-kcl processor checkpoints every record', async () => {
    const lines: string[] = [];
    expect(await migrateMultilang((l) => lines.push(l), 200)).toBe(200);
    expect(lines.at(-1)).toBe('200 of 200 records processed and checkpointed');
  });

  it('lambda-deaggregate.ts: splits a KPL container from a Lambda event and reports the failing record', async () => {
    const container = encodeAggregatedRecord([
      { partitionKey: 'a', data: Buffer.from('one') },
      { partitionKey: 'b', data: Buffer.from('two') },
    ]);
    const event: KinesisEvent = {
      Records: [{ kinesis: { data: Buffer.from(container).toString('base64'), partitionKey: 'a', sequenceNumber: '100', approximateArrivalTimestamp: 1700000000.5 } }],
    };
    const seen: string[] = [];
    const ok = makeHandler(async (r) => {
      seen.push(`${r.partitionKey}:${r.subSequenceNumber}:${Buffer.from(r.data).toString()}`);
    });
    expect(await ok(event)).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['a:0:one', 'b:1:two']);

    const failing = makeHandler(async (r) => {
      if (r.subSequenceNumber === 1) throw new Error('boom');
    });
    expect(await failing(event)).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
  });
});
