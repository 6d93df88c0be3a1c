import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { hashKeyInRange, partitionKeyToHashKey, toHashKeyRange } from '@kinesis-kit/aggregation';
import { activeResources, InMemoryMetricsSink, leakedResources, MemoryLogger } from '@kinesis-kit/core';
import { startMockServer, type MockServer, type MockServerOptions } from '@kinesis-kit/mock';
import { describe, expect, it } from 'vitest';
import {
  BackPressureError,
  BatchFailedError,
  createProducerWritable,
  InvalidRecordError,
  KinesisProducer,
  ProducerClosedError,
  ProducerErrorCode,
  UserRecordFailedError,
  type ProducerSettings,
  type UserRecordResult,
} from '../src/index.js';
import { readBack, text, useMockPerTest } from './helpers.js';

const mock = useMockPerTest();

function setup(shardCount: number, extra: MockServerOptions = {}): Promise<{ server: MockServer; client: KinesisClient }> {
  return mock.start({ streams: [{ name: 's', shardCount }], seed: 7, ...extra });
}

function producerFor(c: KinesisClient, { streamName = 's', ...options }: Partial<ProducerSettings> & { streamName?: string } = {}): KinesisProducer {
  return mock.track(new KinesisProducer({ streamName, kinesisClient: c, ...options }));
}

describe('KinesisProducer against the mock (limits on)', () => {
  it('acknowledges 100,000 records over 4 shards; every sub-record lies in its shard range and reads back equal', async () => {
    const { server, client } = await setup(4);
    const metrics = new InMemoryMetricsSink();
    const producer = producerFor(client, { metrics: metrics });
    await producer.ready();
    const N = 100_000;
    const promises: Promise<UserRecordResult>[] = new Array<Promise<UserRecordResult>>(N);
    for (let i = 0; i < N; i++) promises[i] = producer.put({ partitionKey: `k${i}`, data: `v${i}` });
    const results = await Promise.all(promises);
    expect(results.every((r) => r.successful)).toBe(true);
    expect(producer.outstandingRecords).toBe(0);

    const back = await readBack(server, client, 's');
    expect(back.discardedOutOfRange).toBe(0);
    const seen = new Map<string, string>();
    for (const [shardId, records] of back.byShard) {
      const range = toHashKeyRange(back.ranges.get(shardId)!);
      for (const r of records) {
        expect(hashKeyInRange(partitionKeyToHashKey(r.partitionKey), range)).toBe(true);
        seen.set(r.partitionKey, text(r.data));
      }
    }
    expect(seen.size).toBe(N);
    for (let i = 0; i < N; i += 997) expect(seen.get(`k${i}`)).toBe(`v${i}`);
    // Results point at what was read back: same shard, sequence and position.
    const sample = results[12345]!;
    const onShard = back.byShard.get(sample.shardId!)!;
    const match = onShard.find((r) => r.sequenceNumber === sample.sequenceNumber && r.subSequenceNumber === sample.subSequenceNumber);
    expect(match?.partitionKey).toBe('k12345');
    expect(metrics.get('UserRecordsPut').sum).toBe(N);
    expect(metrics.get('UserRecordsReceived').count).toBe(N);
    expect(metrics.get('KinesisRecordsPut').sum).toBeLessThan(N / 100); // aggregated
  });

  it('survives a throttle storm and injected 500s: no record lost, every promise settles', async () => {
    const { server, client } = await setup(2, {
      faults: {
        rules: [
          { operation: 'PutRecords', throttleRate: 0.5 },
          { operation: 'PutRecords', errorRate: 0.3, errorCode: 'InternalFailure', statusCode: 500 },
          { operation: 'PutRecords', errorRate: 0.2, errorCode: 'ServiceUnavailable', statusCode: 503 },
        ],
      },
    });
    const producer = producerFor(client, { retryBaseDelay: 5, retryMaxDelay: 50, recordMaxBufferedTime: 10, aggregationMaxSize: 4096 });
    await producer.ready();
    const retries: string[] = [];
    producer.on('retrying', (e) => void retries.push(e.errorCode));
    const N = 3000;
    const settled = await Promise.allSettled(Array.from({ length: N }, (_, i) => producer.put({ partitionKey: `p${i}`, data: `d${i}` })));
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    const results = settled.map((s) => (s as PromiseFulfilledResult<UserRecordResult>).value);
    expect(results.some((r) => r.attempts.length > 1)).toBe(true);
    expect(retries).toContain('ProvisionedThroughputExceededException');
    expect(retries).toContain('InternalFailure');
    server.setFaults({ rules: [] });
    const back = await readBack(server, client, 's');
    const keys = new Set([...back.byShard.values()].flat().map((r) => r.partitionKey));
    for (let i = 0; i < N; i++) expect(keys.has(`p${i}`)).toBe(true);
  });

  it('a PutRecords failing again and again is logged once per error code in 10 s, not once per request', async () => {
    const failures = 12;
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', errorRate: 1, errorCode: 'InternalFailure', statusCode: 500, maxCount: failures }] } });
    const logger = new MemoryLogger();
    const producer = producerFor(client, { logger, retryBaseDelay: 5, retryMaxDelay: 10 });
    await producer.ready();
    let retries = 0;
    producer.on('retrying', () => void (retries += 1));
    const r = await producer.put({ partitionKey: 't', data: 'x' });
    expect(r.successful).toBe(true);
    expect(r.attempts).toHaveLength(failures + 1);
    expect(retries).toBe(failures); // the event still reports every one
    const said = logger.entries.filter((e) => e.message === 'PutRecords failed');
    expect(said).toEqual([{ level: 'warn', fields: expect.objectContaining({ code: 'InternalFailure', entries: 1, userRecords: 1 }), message: 'PutRecords failed' }]);
  });

  it('retries a request that passes requestTimeout (the SDK call is aborted)', async () => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', latencyMs: 600, maxCount: 1 }] } });
    const producer = producerFor(client, { requestTimeout: 150, retryBaseDelay: 5, retryMaxDelay: 10 });
    await producer.ready();
    const r = await producer.put({ partitionKey: 't', data: 'x' });
    expect(r.successful).toBe(true);
    expect(r.attempts[0]).toMatchObject({ successful: false, errorCode: 'RequestTimeout' });
    expect(r.attempts[0]!.duration).toBeGreaterThanOrEqual(140);
  });

  it('fails records at once on a non-retriable error (missing stream) with the result and the original record', async () => {
    const { client } = await setup(1);
    const producer = producerFor(client, { streamName: 'missing' });
    const record = { partitionKey: 'a', data: 'x' };
    const err = await producer.put(record).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserRecordFailedError);
    const failed = err as UserRecordFailedError;
    expect(failed.code).toBe(ProducerErrorCode.RECORD_FAILED);
    expect(failed.record).toBe(record);
    expect(failed.result.successful).toBe(false);
    expect(failed.result.attempts).toHaveLength(1);
    expect(failed.result.attempts[0]!.errorCode).toBe('ResourceNotFoundException');
  });

  it('fails throttled records at once with failIfThrottled', async () => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', throttleRate: 1 }] } });
    const producer = producerFor(client, { failIfThrottled: true });
    await producer.ready();
    const err = (await producer.put({ partitionKey: 'a', data: 'x' }).catch((e: unknown) => e)) as UserRecordFailedError;
    expect(err.awsErrorCode).toBe('ProvisionedThroughputExceededException');
  });

  it.each([
    ['LimitExceededException', 400],
    ['KMSThrottlingException', 400],
    ['ThrottlingException', 429],
  ])('failIfThrottled covers ProvisionedThroughputExceededException only (as the KPL): a whole-request %s (HTTP %i) is retried', async (errorCode, statusCode) => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', errorRate: 1, errorCode, statusCode, maxCount: 1 }] } });
    const producer = producerFor(client, { failIfThrottled: true, retryBaseDelay: 5, retryMaxDelay: 10 });
    await producer.ready();
    const r = await producer.put({ partitionKey: 'a', data: 'x' });
    expect(r.attempts.map((a) => a.errorCode ?? 'ok')).toEqual([errorCode, 'ok']);
  });

  it('expires records at recordTtl under a permanent throttle', async () => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', throttleRate: 1 }] } });
    const producer = producerFor(client, { recordTtl: 300, retryBaseDelay: 20, retryMaxDelay: 40 });
    await producer.ready();
    const err = (await producer.put({ partitionKey: 'a', data: 'x' }).catch((e: unknown) => e)) as UserRecordFailedError;
    expect(err.code).toBe(ProducerErrorCode.RECORD_EXPIRED);
    expect(err.result.attempts.at(-1)!.errorCode).toBe('Expired');
    expect(err.result.attempts.length).toBeGreaterThan(2);
  });

  it('loses nothing across a SplitShard while producing, and a range-checking reader drops nothing', async () => {
    const { server, client } = await setup(1);
    const producer = producerFor(client, { recordMaxBufferedTime: 20 });
    await producer.ready();
    const wrong: number[] = [];
    producer.on('wrongShard', (e) => void wrong.push(e.records));
    const promises: Promise<UserRecordResult>[] = [];
    const N = 6000;
    for (let i = 0; i < N; i++) {
      promises.push(producer.put({ partitionKey: `x${i}`, data: `y${i}` }));
      if (i === 2000) {
        // Split in the middle of the hash space while records for the parent are buffered.
        await client.send(new SplitShardCommand({ StreamName: 's', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (1n << 127n).toString() }));
      }
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const results = await Promise.all(promises);
    expect(results.every((r) => r.successful)).toBe(true);
    expect(producer.outstandingRecords).toBe(0);
    const back = await readBack(server, client, 's');
    // Every user record is read back by a reader that drops out-of-range containers...
    const keys = new Set([...back.byShard.values()].flat().map((r) => r.partitionKey));
    for (let i = 0; i < N; i++) expect(keys.has(`x${i}`)).toBe(true);
    // ...and the only containers it dropped are the ones the producer saw land wrongly and sent again.
    expect(back.discardedOutOfRange).toBe(wrong.reduce((a, b) => a + b, 0));
    expect(back.byShard.size).toBe(3);
    expect(wrong.length).toBeGreaterThan(0);
    // Each acknowledged record lies within the range of the shard its result names.
    results.forEach((r, i) => {
      expect(hashKeyInRange(partitionKeyToHashKey(`x${i}`), toHashKeyRange(back.ranges.get(r.shardId!)!))).toBe(true);
    });
  });

  it('back-pressure: put() waits and outstanding stays under maxOutstandingRecords', async () => {
    const { client } = await setup(1, { limits: { shardWriteRecordsPerSecond: 400 } });
    const producer = producerFor(client, { maxOutstandingRecords: 100, aggregationEnabled: false, retryBaseDelay: 5, retryMaxDelay: 20 });
    await producer.ready();
    let maxSeen = 0;
    const all: Promise<UserRecordResult>[] = [];
    for (let i = 0; i < 500; i++) {
      all.push(producer.put({ partitionKey: `b${i}`, data: 'z' }));
      maxSeen = Math.max(maxSeen, producer.outstandingRecords);
      if (!producer.hasCapacity) {
        await producer.waitForCapacity();
        maxSeen = Math.max(maxSeen, producer.outstandingRecords);
      }
    }
    const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, producer.outstandingRecords)), 1);
    await Promise.all(all);
    clearInterval(sampler);
    expect(maxSeen).toBeLessThanOrEqual(100);
    expect(maxSeen).toBeGreaterThan(50);
  });

  it("back-pressure 'reject' rejects at once with BackPressureError", async () => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', latencyMs: 100 }] } });
    const producer = producerFor(client, { maxOutstandingRecords: 2, backPressure: 'reject' });
    await producer.ready();
    const a = producer.put({ partitionKey: 'a', data: '1' });
    const b = producer.put({ partitionKey: 'b', data: '2' });
    await expect(producer.put({ partitionKey: 'c', data: '3' })).rejects.toMatchObject({ code: 'BACK_PRESSURE', retriable: true });
    await Promise.all([a, b]);
    await expect(producer.put({ partitionKey: 'c', data: '3' })).resolves.toMatchObject({ successful: true });
  });

  it('bad input: a typed error naming the field, at once; accepted records are unaffected', async () => {
    const { client } = await setup(2);
    const producer = producerFor(client, { maxUserRecordSize: 1024 });
    await producer.ready();
    const good = [producer.put({ partitionKey: 'ok1', data: 'a' }), producer.put({ partitionKey: 'ok2', data: new Uint8Array([1, 2]) })];
    const cases: [unknown, string, string][] = [
      [{ partitionKey: '', data: 'x' }, 'partitionKey', 'INVALID_PARTITION_KEY'],
      [{ partitionKey: 'k'.repeat(257), data: 'x' }, 'partitionKey', 'INVALID_PARTITION_KEY'],
      [{ partitionKey: 42, data: 'x' }, 'partitionKey', 'INVALID_PARTITION_KEY'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: 'abc' }, 'explicitHashKey', 'INVALID_EXPLICIT_HASH_KEY'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: (1n << 128n).toString() }, 'explicitHashKey', 'INVALID_EXPLICIT_HASH_KEY'],
      [{ partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, 'explicitHashKey', 'INVALID_EXPLICIT_HASH_KEY'],
      [{ partitionKey: 'k', data: new Uint8Array(1024) }, 'data', 'RECORD_TOO_LARGE'],
      [{ partitionKey: 'k', data: 12 }, 'data', 'INVALID_DATA'],
      [{ partitionKey: 'k', data: null }, 'data', 'INVALID_DATA'],
      [{ partitionKey: 'k', data: { a: 1 } }, 'data', 'INVALID_DATA'],
      [null, 'record', 'INVALID_RECORD'],
    ];
    for (const [input, field, code] of cases) {
      const err = await producer.put(input as never).catch((e: unknown) => e);
      expect(err, `${field} ${code}`).toBeInstanceOf(InvalidRecordError);
      expect(err).toMatchObject({ field, code, retriable: false });
    }
    expect(producer.outstandingRecords).toBeLessThanOrEqual(2);
    const results = await Promise.all(good);
    expect(results.map((r) => r.successful)).toEqual([true, true]);
  });

  it('strict ordering: per shard, records land in put() order despite throttling', async () => {
    const { server, client } = await setup(2, { faults: { rules: [{ operation: 'PutRecords', throttleRate: 0.3 }] } });
    const producer = producerFor(client, { strictOrdering: true, retryBaseDelay: 2, retryMaxDelay: 10, recordMaxBufferedTime: 5, aggregationMaxSize: 2048 });
    const N = 3000;
    const results = await Promise.all(Array.from({ length: N }, (_, i) => producer.put({ partitionKey: `o${i % 37}`, data: String(i) })));
    expect(results.every((r) => r.successful)).toBe(true);
    server.setFaults({ rules: [] });
    const back = await readBack(server, client, 's');
    let total = 0;
    for (const records of back.byShard.values()) {
      const order = records.map((r) => Number(text(r.data)));
      total += order.length;
      for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    }
    expect(total).toBe(N);
  });

  it('strict ordering: per key, records keep put() order across a SplitShard (parent, then children)', async () => {
    const { server, client } = await setup(1);
    const producer = producerFor(client, { strictOrdering: true, recordMaxBufferedTime: 10 });
    await producer.ready();
    const wrong: number[] = [];
    producer.on('wrongShard', (e) => void wrong.push(e.records));
    const N = 4000;
    const promises: Promise<UserRecordResult>[] = [];
    for (let i = 0; i < N; i++) {
      promises.push(producer.put({ partitionKey: `k${i % 50}`, data: String(i) }));
      if (i === 1500) {
        await client.send(new SplitShardCommand({ StreamName: 's', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (1n << 127n).toString() }));
      }
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect((await Promise.all(promises)).every((r) => r.successful)).toBe(true);
    expect(wrong.length).toBeGreaterThan(0); // the split happened under buffered records
    const back = await readBack(server, client, 's');
    // A KCL reader processes the parent before its children: per key, that order is put() order.
    const byKey = new Map<string, number[]>();
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']) {
      for (const r of back.byShard.get(shardId) ?? []) {
        let list = byKey.get(r.partitionKey);
        if (!list) byKey.set(r.partitionKey, (list = []));
        list.push(Number(text(r.data)));
      }
    }
    let total = 0;
    for (const list of byKey.values()) {
      total += list.length;
      for (let i = 1; i < list.length; i++) expect(list[i]!).toBeGreaterThan(list[i - 1]!);
    }
    expect(total).toBe(N);
  });

  it('pipeline() through the Writable adapter delivers every record and respects the outstanding limit', async () => {
    const { server, client } = await setup(2);
    const producer = producerFor(client, { maxOutstandingRecords: 50, recordMaxBufferedTime: 10 });
    await producer.ready();
    let maxSeen = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 2000; i++) {
          maxSeen = Math.max(maxSeen, producer.outstandingRecords);
          yield { partitionKey: `w${i}`, data: `w${i}` };
        }
      })(),
    );
    await pipeline(source, createProducerWritable(producer));
    expect(producer.outstandingRecords).toBe(0);
    expect(maxSeen).toBeLessThanOrEqual(50);
    const back = await readBack(server, client, 's');
    expect(new Set([...back.byShard.values()].flat().map((r) => r.partitionKey)).size).toBe(2000);
  });

  it('close() flushes everything, then put() rejects and no timer or socket is left open', async () => {
    const before = activeResources();
    const local = await startMockServer({ streams: [{ name: 's', shardCount: 2 }] });
    // The producer builds (and owns) its client here, so close() must release its sockets too.
    const producer = new KinesisProducer({ streamName: 's', ...local.clientConfig() });
    const results = Promise.all(Array.from({ length: 500 }, (_, i) => producer.put({ partitionKey: `c${i}`, data: 'x' })));
    await producer.close();
    expect((await results).every((r) => r.successful)).toBe(true);
    expect(producer.outstandingRecords).toBe(0);
    await expect(producer.put({ partitionKey: 'late', data: 'x' })).rejects.toBeInstanceOf(ProducerClosedError);
    await local.close();
    expect(await leakedResources(before)).toEqual({});
  });
});

describe('KinesisProducer.putMany against the mock', () => {
  it('writes a batch with one promise: results in input order, every record read back', async () => {
    const { server, client } = await setup(4);
    const producer = producerFor(client);
    await producer.ready();
    const records = Array.from({ length: 3000 }, (_, i) => ({ partitionKey: `m${i}`, data: `v${i}` }));
    const results = await producer.putMany(records);
    expect(results).toHaveLength(3000);
    expect(producer.outstandingRecords).toBe(0);
    const back = await readBack(server, client, 's');
    const where = new Map<string, { shardId: string; sequenceNumber: string; subSequenceNumber: number }>();
    for (const [shardId, rs] of back.byShard) for (const r of rs) where.set(r.partitionKey, { shardId, sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber });
    results.forEach((r, i) => {
      expect(r.successful).toBe(true);
      // Result i belongs to record i: it names exactly where record i was read back.
      expect({ shardId: r.shardId, sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber }).toEqual(where.get(`m${i}`));
      expect(hashKeyInRange(partitionKeyToHashKey(`m${i}`), toHashKeyRange(back.ranges.get(r.shardId)!))).toBe(true);
    });
    expect(where.size).toBe(3000);
  });

  it('empty batch resolves with []; bad input rejects at once naming records[i], and accepts none of the batch', async () => {
    const { server, client } = await setup(1);
    const producer = producerFor(client);
    await producer.ready();
    await expect(producer.putMany([])).resolves.toEqual([]);
    await expect(producer.putMany('nope' as never)).rejects.toMatchObject({ code: 'INVALID_RECORD', field: 'records' });
    const batch = [
      { partitionKey: 'a', data: '1' },
      { partitionKey: 'b', data: '2' },
      { partitionKey: '', data: '3' },
    ];
    const err = await producer.putMany(batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRecordError);
    expect(err).toMatchObject({ code: 'INVALID_PARTITION_KEY', field: 'records[2].partitionKey' });
    await expect(producer.putMany([{ partitionKey: 'k', data: 7 as never }])).rejects.toMatchObject({ field: 'records[0].data' });
    await expect(producer.putMany([null as never])).rejects.toMatchObject({ code: 'INVALID_RECORD', field: 'records[0]' });
    expect(producer.outstandingRecords).toBe(0);
    await producer.flush();
    const back = await readBack(server, client, 's');
    expect([...back.byShard.values()].flat()).toHaveLength(0);
  });

  it('rejects with BatchFailedError when some records fail; the others are written and every result is there in order', async () => {
    const { client } = await setup(2, { faults: { rules: [{ operation: 'PutRecords', throttleRate: 0.5 }] } });
    const producer = producerFor(client, { failIfThrottled: true, aggregationEnabled: false });
    await producer.ready();
    const records = Array.from({ length: 200 }, (_, i) => ({ partitionKey: `f${i}`, data: `d${i}` }));
    const err = await producer.putMany(records).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchFailedError);
    const failed = err as BatchFailedError;
    expect(failed).toMatchObject({ code: ProducerErrorCode.BATCH_FAILED, retriable: false, streamName: 's' });
    expect(failed.results).toHaveLength(200);
    expect(failed.failures.length).toBeGreaterThan(0);
    expect(failed.failures.length).toBeLessThan(200);
    const failedAt = new Set(failed.failures.map((f) => f.index));
    expect(failed.failures.map((f) => f.index)).toEqual([...failedAt].sort((a, b) => a - b));
    for (const f of failed.failures) {
      expect(f.record).toBe(records[f.index]);
      expect(f.error).toBeInstanceOf(UserRecordFailedError);
      expect(f.error.awsErrorCode).toBe('ProvisionedThroughputExceededException');
      expect(failed.results[f.index]!.successful).toBe(false);
    }
    failed.results.forEach((r, i) => {
      if (!failedAt.has(i)) expect(r).toMatchObject({ successful: true, subSequenceNumber: 0 });
    });
    expect(producer.outstandingRecords).toBe(0);
  });

  it("back-pressure 'wait': a batch larger than maxOutstandingRecords goes in as room appears, never over the limit", async () => {
    const { server, client } = await setup(1, { limits: { shardWriteRecordsPerSecond: 400 } });
    // strictOrdering: the stream then shows admission order, retries of throttled records included.
    const producer = producerFor(client, { maxOutstandingRecords: 40, aggregationEnabled: false, strictOrdering: true, retryBaseDelay: 5, retryMaxDelay: 20 });
    await producer.ready();
    let maxSeen = 0;
    const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, producer.outstandingRecords)), 1);
    const first = producer.putMany(Array.from({ length: 150 }, (_, i) => ({ partitionKey: `w${i}`, data: 'z' })));
    maxSeen = Math.max(maxSeen, producer.outstandingRecords);
    expect(producer.outstandingRecords).toBe(40);
    expect(producer.hasCapacity).toBe(false);
    // A put() after the batch waits behind it (admission is first come, first served).
    const later = producer.put({ partitionKey: 'after', data: 'z' });
    const [batch, single] = await Promise.all([first, later]);
    clearInterval(sampler);
    expect(batch.every((r) => r.successful)).toBe(true);
    expect(single.successful).toBe(true);
    expect(maxSeen).toBeLessThanOrEqual(40);
    const back = await readBack(server, client, 's');
    const order = back.byShard.get('shardId-000000000000')!.map((r) => r.partitionKey);
    expect(order).toEqual([...Array.from({ length: 150 }, (_, i) => `w${i}`), 'after']);
  });

  it("back-pressure 'reject': a batch that does not fit now is rejected whole", async () => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', latencyMs: 100 }] } });
    const producer = producerFor(client, { maxOutstandingRecords: 3, backPressure: 'reject' });
    await producer.ready();
    const a = producer.put({ partitionKey: 'a', data: '1' });
    const err = await producer.putMany([0, 1, 2].map((i) => ({ partitionKey: `r${i}`, data: 'x' }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackPressureError);
    expect(producer.outstandingRecords).toBe(1);
    await a;
    await expect(producer.putMany([0, 1, 2].map((i) => ({ partitionKey: `r${i}`, data: 'x' })))).resolves.toHaveLength(3);
  });

  it('close() aborted: every record of a waiting batch fails with ProducerClosedError; putMany() after close rejects', async () => {
    const { client } = await setup(1, { faults: { rules: [{ operation: 'PutRecords', throttleRate: 1 }] } });
    const producer = producerFor(client, { maxOutstandingRecords: 5, retryBaseDelay: 20, retryMaxDelay: 40 });
    await producer.ready();
    const records = Array.from({ length: 12 }, (_, i) => ({ partitionKey: `c${i}`, data: 'x' }));
    const settled = producer.putMany(records).catch((e: unknown) => e);
    expect(producer.outstandingRecords).toBe(5);
    const ac = new AbortController();
    const closing = producer.close({ signal: ac.signal });
    ac.abort();
    await closing;
    const err = (await settled) as BatchFailedError;
    expect(err).toBeInstanceOf(BatchFailedError);
    expect(err.failures.map((f) => f.index)).toEqual(records.map((_, i) => i));
    for (const f of err.failures) expect(f.error).toBeInstanceOf(ProducerClosedError);
    expect(err.results.every((r) => !r.successful)).toBe(true);
    await expect(producer.putMany(records)).rejects.toBeInstanceOf(ProducerClosedError);
  });
});
