import { KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { deaggregate, MAX_HASH_KEY } from '@kinesis-kit/aggregation';
import { InMemoryMetricsSink, ManualClock } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ProducerClosedError, ProducerErrorCode, UserRecordFailedError } from './errors.js';
import { KinesisProducer } from './producer.js';
import type { ProducerSettings } from './options.js';

const client = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const kinesis = mockClient(client);
afterEach(() => kinesis.reset());

const ONE_SHARD = {
  Shards: [
    {
      ShardId: 'shardId-000000000000',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    },
  ],
};

let seq = 0;
const ok = (n: number) => ({ FailedRecordCount: 0, Records: Array.from({ length: n }, () => ({ ShardId: 'shardId-000000000000', SequenceNumber: String(++seq) })) });
const throttled = (n: number) => ({
  FailedRecordCount: n,
  Records: Array.from({ length: n }, () => ({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' })),
});

async function started(options: Partial<ProducerSettings> = {}) {
  const clock = new ManualClock();
  kinesis.on(ListShardsCommand).resolves(ONE_SHARD);
  const producer = new KinesisProducer({ streamName: 's', kinesisClient: client, clock, ...options });
  await producer.ready();
  return { clock, producer };
}

describe('KinesisProducer (ManualClock, mocked client)', () => {
  it('holds records for recordMaxBufferedTime, then sends one aggregated record with the first key\'s hash key', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: { Records: unknown[] }) => ok(input.Records.length));
    const { clock, producer } = await started();
    const a = producer.put({ partitionKey: 'pk1', data: 'hello' });
    const b = producer.put({ partitionKey: 'pk2', data: 'world' });
    await clock.advance(99);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    await clock.advance(30); // deadline (100 ms) + collector linger (20 ms)
    const calls = kinesis.commandCalls(PutRecordsCommand);
    expect(calls).toHaveLength(1);
    const entries = calls[0]!.args[0].input.Records!;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.PartitionKey).toBe('a');
    expect(entries[0]!.ExplicitHashKey).toBe('329398341438914906102347661116985167824'); // MD5("pk1")
    const subs = deaggregate({ Data: entries[0]!.Data!, PartitionKey: 'a', SequenceNumber: '1' });
    expect(subs.map((s) => s.partitionKey)).toEqual(['pk1', 'pk2']);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toMatchObject({ successful: true, shardId: 'shardId-000000000000', subSequenceNumber: 0 });
    expect(rb.subSequenceNumber).toBe(1);
    expect(ra.attempts[0]!.delay).toBeGreaterThanOrEqual(100);
    await producer.close();
  });

  it('backs off exponentially with jitter between attempts, then succeeds', async () => {
    kinesis
      .on(PutRecordsCommand)
      .callsFakeOnce((i: { Records: unknown[] }) => throttled(i.Records.length))
      .callsFakeOnce((i: { Records: unknown[] }) => throttled(i.Records.length))
      .callsFakeOnce((i: { Records: unknown[] }) => throttled(i.Records.length))
      .callsFake((i: { Records: unknown[] }) => ok(i.Records.length));
    const { clock, producer } = await started({ retryBaseDelay: 1000, retryMaxDelay: 10_000, recordMaxBufferedTime: 0 });
    const p = producer.put({ partitionKey: 'k', data: 'x' });
    await clock.advance(20_000);
    const r = await p;
    expect(r.attempts.map((a) => a.errorCode ?? 'ok')).toEqual([
      'ProvisionedThroughputExceededException',
      'ProvisionedThroughputExceededException',
      'ProvisionedThroughputExceededException',
      'ok',
    ]);
    // 'equal' jitter: retry n waits between half and all of base x 2^(n-1) (plus the re-buffering time).
    const delays = r.attempts.slice(1).map((a) => a.delay);
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[0]).toBeLessThanOrEqual(1000 + 50);
    expect(delays[1]).toBeGreaterThanOrEqual(1000);
    expect(delays[1]).toBeLessThanOrEqual(2000 + 50);
    expect(delays[2]).toBeGreaterThanOrEqual(2000);
    expect(delays[2]).toBeLessThanOrEqual(4000 + 50);
    await producer.close();
  });

  it.each([Infinity, 2 ** 62])('recordTtl %s: records never expire early, timers stay few and close({signal}) releases them', async (recordTtl) => {
    kinesis.on(PutRecordsCommand).callsFake((i: { Records: unknown[] }) => throttled(i.Records.length));
    const { clock, producer } = await started({ recordTtl, retryBaseDelay: 100, retryMaxDelay: 1000 });
    const p = producer.put({ partitionKey: 'k', data: 'x' });
    const settled = p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await clock.advance(60_000);
    expect(producer.outstandingRecords).toBe(1);
    expect(kinesis.commandCalls(PutRecordsCommand).length).toBeGreaterThan(30);
    expect(clock.pendingTimers).toBeLessThanOrEqual(3);
    expect(producer.oldestRecordAgeMs).toBeGreaterThanOrEqual(60_000);
    const ac = new AbortController();
    const closing = producer.close({ signal: ac.signal });
    ac.abort();
    await closing;
    expect(await settled).toBeInstanceOf(ProducerClosedError);
    expect(producer.outstandingRecords).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('recordTtl Infinity under throttling: a record stores its first and latest 32 attempts, and counts the rest', async () => {
    let calls = 0;
    kinesis.on(PutRecordsCommand).callsFake((i: { Records: unknown[] }) => (++calls <= 100 ? throttled(i.Records.length) : ok(i.Records.length)));
    const metrics = new InMemoryMetricsSink();
    const { clock, producer } = await started({ recordTtl: Infinity, retryBaseDelay: 1, retryMaxDelay: 1, recordMaxBufferedTime: 0, metrics });
    const p = producer.put({ partitionKey: 'k', data: 'x' });
    await clock.advance(10_000);
    const r = await p;
    expect(calls).toBe(101);
    // Stored: the first attempt and the latest 32 (so a record retried forever holds at most 33).
    expect(r.attempts).toHaveLength(33);
    expect(r.attemptsOmitted).toBe(101 - 33);
    expect(r.attempts[0]).toMatchObject({ successful: false, errorCode: 'ProvisionedThroughputExceededException' });
    expect(r.attempts.slice(1, -1).every((a) => a.errorCode === 'ProvisionedThroughputExceededException')).toBe(true);
    expect(r.attempts.at(-1)!.successful).toBe(true);
    // Metrics count every attempt, the omitted ones included.
    expect(metrics.get('RetriesPerRecord').sum).toBe(100);
    await producer.close();
  });

  it('a record that expires after many attempts: bounded attempts, the total in attemptsOmitted and the message; none omitted when few', async () => {
    kinesis.on(PutRecordsCommand).callsFake((i: { Records: unknown[] }) => throttled(i.Records.length));
    const { clock, producer } = await started({ recordTtl: 1_000, retryBaseDelay: 1, retryMaxDelay: 1, recordMaxBufferedTime: 0 });
    const settled = producer.putMany([{ partitionKey: 'k', data: 'x' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    await clock.advance(2_000);
    const batchError = (await settled) as { results: { attempts: { errorCode?: string }[]; attemptsOmitted?: number }[]; failures: { error: unknown }[] };
    const error = batchError.failures[0]!.error as UserRecordFailedError;
    expect(error).toBeInstanceOf(UserRecordFailedError);
    expect(error.code).toBe(ProducerErrorCode.RECORD_EXPIRED);
    const result = error.result;
    expect(batchError.results[0]).toBe(result);
    expect(result.attempts).toHaveLength(33);
    expect(result.attempts.at(-1)!.errorCode).toBe('Expired');
    const total = result.attempts.length + result.attemptsOmitted!;
    expect(result.attemptsOmitted).toBeGreaterThan(0);
    expect(total).toBe(kinesis.commandCalls(PutRecordsCommand).length + 1); // + the "Expired" one
    expect(error.message).toContain(`after ${total} attempt(s)`);
    // A record with few attempts has no attemptsOmitted at all.
    kinesis.on(PutRecordsCommand).callsFake((i: { Records: unknown[] }) => ok(i.Records.length));
    const quick = producer.put({ partitionKey: 'k', data: 'y' });
    await clock.advance(100);
    expect('attemptsOmitted' in (await quick)).toBe(false);
    await producer.close();
  });

  it('recordMaxBufferedTime at or above recordTtl (Infinity here): a lone record goes out on flush(), else expires unsent at recordTtl, as in the KPL', async () => {
    kinesis.on(PutRecordsCommand).callsFake((i: { Records: unknown[] }) => ok(i.Records.length));
    const { clock, producer } = await started({ recordMaxBufferedTime: Infinity, recordTtl: 1_000 });
    const flushed = producer.put({ partitionKey: 'k', data: 'flushed' });
    await clock.advance(500);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(0);
    const flushing = producer.flush();
    await clock.advance(100);
    await flushing;
    expect((await flushed).attempts).toHaveLength(1);
    const unsent = producer.put({ partitionKey: 'k', data: 'unsent' }).then(() => undefined, (e: unknown) => e);
    await clock.advance(1_000);
    expect(kinesis.commandCalls(PutRecordsCommand)).toHaveLength(1);
    expect(await unsent).toMatchObject({ code: ProducerErrorCode.RECORD_EXPIRED });
    await producer.close();
  });

  it('sends records unaggregated while the shard map is unknown', async () => {
    const clock = new ManualClock();
    kinesis.on(ListShardsCommand).callsFake(() => new Promise(() => {}));
    kinesis.on(PutRecordsCommand).callsFake((i: { Records: unknown[] }) => ok(i.Records.length));
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: client, clock });
    const all = Promise.all([producer.put({ partitionKey: 'a', data: '1' }), producer.put({ partitionKey: 'b', data: '2' })]);
    await clock.advance(200);
    const entries = kinesis.commandCalls(PutRecordsCommand).flatMap((c) => c.args[0].input.Records!);
    expect(entries.map((e) => e.PartitionKey)).toEqual(['a', 'b']);
    expect(entries.every((e) => e.ExplicitHashKey !== undefined)).toBe(true);
    expect((await all).map((r) => r.subSequenceNumber)).toEqual([0, 0]);
    await producer.close();
  });
});
