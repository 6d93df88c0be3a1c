import { expect, it } from 'vitest';
import { deaggregate, RecordAggregator, type AggregatedRecord } from '@kinesis-kit/aggregation';

// The README's quick start, verbatim apart from the assertions.
it('README quick start: 1000 records into KPL containers and back', () => {
  const aggregator = new RecordAggregator(); // KPL defaults: containers of at most 51200 bytes
  const containers: AggregatedRecord[] = [];
  for (let i = 0; i < 1000; i++) {
    containers.push(...aggregator.add({ partitionKey: `user-${i % 10}`, data: Buffer.from(`event ${i}`.padEnd(100)) }));
  }
  const last = aggregator.flush();
  if (last) containers.push(last);
  // Each container is one PutRecords entry: { PartitionKey: c.partitionKey, ExplicitHashKey: c.explicitHashKey, Data: c.data }

  const records = deaggregate({ Data: containers[0]!.data, PartitionKey: 'a', SequenceNumber: '49590338271490256608559692538361571095921575989136588898' });
  console.log(containers.length, records.length, records[1]!.partitionKey, records[1]!.subSequenceNumber); // 3 482 user-1 1

  expect(containers.map((c) => [c.partitionKey, c.aggregated, c.userRecords.length])).toEqual([
    ['a', true, 482],
    ['a', true, 482],
    ['a', true, 36],
  ]);
  expect(containers.every((c) => c.data.length <= 51200)).toBe(true);
  expect([records.length, records[1]!.partitionKey, records[1]!.subSequenceNumber, records[1]!.aggregated]).toEqual([482, 'user-1', 1, true]);
  expect(Buffer.from(records[1]!.data).toString()).toBe('event 1'.padEnd(100));
  // Every user record comes back, in order, from the containers as they would be read from the stream.
  const all = containers.flatMap((c) => deaggregate({ Data: c.data, PartitionKey: c.partitionKey, SequenceNumber: '1' }));
  expect(all.map((r) => Buffer.from(r.data).toString().trimEnd())).toEqual(Array.from({ length: 1000 }, (_, i) => `event ${i}`));
});
