/**
 * Bad input, everywhere: the producer.
 *
 * Every bad option throws ProducerConfigError (INVALID_CONFIG, not retriable, `field` naming the
 * option); every bad record makes put() reject at once with InvalidRecordError (its code, `field`,
 * not retriable) without throwing synchronously; and the good records put before and after each
 * bad one are all acknowledged and read back from the stream.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { deaggregate, type UserRecord } from '@kinesis-kit/aggregation';
import { InMemoryMetricsSink } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import {
  InvalidRecordError,
  KinesisProducer,
  KinesisProducerError,
  ProducerConfigError,
  ProducerErrorCode,
  type KinesisProducerOptions,
  type ProducerRecord,
  type UserRecordResult,
} from '@kinesis-kit/producer';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const MiB = 1024 * 1024;

// ---- options ---------------------------------------------------------------------------------------

describe('bad input: producer options', () => {
  // A client that is never used: construction fails before the producer sends anything.
  const client = new KinesisClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const base: KinesisProducerOptions = { streamName: 's', kinesisClient: client };
  afterAll(() => client.destroy());
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const table: [string, unknown, string][] = [
    ['options not an object', null, 'options'],
    ['options a string', 'stream', 'options'],
    ['no stream', { kinesisClient: client }, 'streamName'],
    ['streamName empty', { ...base, streamName: '' }, 'streamName'],
    ['streamName with a slash', { ...base, streamName: 'a/b' }, 'streamName'],
    ['streamName 129 characters', { ...base, streamName: 'x'.repeat(129) }, 'streamName'],
    ['streamName a number', { ...base, streamName: 42 }, 'streamName'],
    ['streamArn not an ARN', { kinesisClient: client, streamArn: 'arn:aws:s3:::bucket' }, 'streamArn'],
    ['streamName and streamArn', { kinesisClient: client, streamName: 's', streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s' }, 'streamArn'],
    ['streamArn with a short account', { kinesisClient: client, streamArn: 'arn:aws:kinesis:us-east-1:123:stream/s' }, 'streamArn'],
    ['streamArn of a consumer', { kinesisClient: client, streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1' }, 'streamArn'],
    ['aggregationMaxCount 0', { ...base, aggregationMaxCount: 0 }, 'aggregationMaxCount'],
    ['aggregationMaxCount 2^32', { ...base, aggregationMaxCount: 2 ** 32 }, 'aggregationMaxCount'],
    ['aggregationMaxCount 1.5', { ...base, aggregationMaxCount: 1.5 }, 'aggregationMaxCount'],
    ['aggregationMaxSize 63', { ...base, aggregationMaxSize: 63 }, 'aggregationMaxSize'],
    ['aggregationMaxSize over 10 MiB', { ...base, aggregationMaxSize: 10 * MiB + 1 }, 'aggregationMaxSize'],
    ['collectionMaxCount 0', { ...base, collectionMaxCount: 0 }, 'collectionMaxCount'],
    ['collectionMaxCount 501', { ...base, collectionMaxCount: 501 }, 'collectionMaxCount'],
    ['collectionMaxCount a string', { ...base, collectionMaxCount: '500' }, 'collectionMaxCount'],
    ['collectionMaxSize below 51 KiB', { ...base, collectionMaxSize: 52223 }, 'collectionMaxSize'],
    ['collectionMaxSize over 5 MiB', { ...base, collectionMaxSize: 5 * MiB + 1 }, 'collectionMaxSize'],
    ['recordMaxBufferedTime negative', { ...base, recordMaxBufferedTime: -1 }, 'recordMaxBufferedTime'],
    ['recordMaxBufferedTime NaN', { ...base, recordMaxBufferedTime: Number.NaN }, 'recordMaxBufferedTime'],
    ['recordTtl 99', { ...base, recordTtl: 99 }, 'recordTtl'],
    ['maxConnections 0', { ...base, maxConnections: 0 }, 'maxConnections'],
    ['maxConnections 257', { ...base, maxConnections: 257 }, 'maxConnections'],
    ['maxConnections 1.5', { ...base, maxConnections: 1.5 }, 'maxConnections'],
    ['requestTimeout 99', { ...base, requestTimeout: 99 }, 'requestTimeout'],
    ['connectTimeout over 300 s', { ...base, connectTimeout: 300_001 }, 'connectTimeout'],
    ['rateLimit 0', { ...base, rateLimit: 0 }, 'rateLimit'],
    ['rateLimit Infinity', { ...base, rateLimit: Number.POSITIVE_INFINITY }, 'rateLimit'],
    ['maxUserRecordSize 63', { ...base, maxUserRecordSize: 63 }, 'maxUserRecordSize'],
    ['maxOutstandingRecords 0', { ...base, maxOutstandingRecords: 0 }, 'maxOutstandingRecords'],
    ['maxOutstandingBytes 1023', { ...base, maxOutstandingBytes: 1023 }, 'maxOutstandingBytes'],
    ['retryBaseDelay negative', { ...base, retryBaseDelay: -1 }, 'retryBaseDelay'],
    ['retryMaxDelay below retryBaseDelay', { ...base, retryBaseDelay: 500, retryMaxDelay: 499 }, 'retryMaxDelay'],
    ['aggregationEnabled a string', { ...base, aggregationEnabled: 'yes' }, 'aggregationEnabled'],
    ['failIfThrottled 1', { ...base, failIfThrottled: 1 }, 'failIfThrottled'],
    ['strictOrdering "true"', { ...base, strictOrdering: 'true' }, 'strictOrdering'],
    ['backPressure "drop"', { ...base, backPressure: 'drop' }, 'backPressure'],
    ['metricsLevel "verbose"', { ...base, metricsLevel: 'verbose' }, 'metricsLevel'],
    ['metricsGranularity "host"', { ...base, metricsGranularity: 'host' }, 'metricsGranularity'],
    ['logger a string', { ...base, logger: 'console' }, 'logger'],
    ['clock a number', { ...base, clock: 5 }, 'clock'],
    ['metrics a string', { ...base, metrics: 'cloudwatch' }, 'metrics'],
    ['metricsSink (renamed to metrics)', { ...base, metricsSink: new InMemoryMetricsSink() }, 'metricsSink'],
  ];

  it.each(table)('%s -> ProducerConfigError(%#)', (_name, options, field) => {
    let caught: unknown;
    try {
      new KinesisProducer(options as KinesisProducerOptions);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProducerConfigError);
    expect(caught).toBeInstanceOf(KinesisProducerError);
    expect(caught).toMatchObject({ name: 'ProducerConfigError', code: ProducerErrorCode.INVALID_CONFIG, retriable: false, field });
    expect((caught as Error).message.startsWith(`${field}: `)).toBe(true);
  });

  it('no region, endpoint, client or AWS_REGION -> ProducerConfigError(region)', () => {
    vi.stubEnv('AWS_REGION', '');
    expect(() => new KinesisProducer({ streamName: 's' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', field: 'region', retriable: false }));
  });

  it('values the ranges accept at their edges construct a producer', async () => {
    const edges: KinesisProducerOptions[] = [
      { ...base, aggregationMaxCount: 2 ** 32 - 1, aggregationMaxSize: 64, collectionMaxCount: 1, collectionMaxSize: 52224 },
      { ...base, recordTtl: Number.POSITIVE_INFINITY, recordMaxBufferedTime: 0, maxConnections: 256, retryBaseDelay: 0, retryMaxDelay: 0 },
      // null means "the default" for every option (`??`), not an error.
      { ...base, logger: null as never, strictOrdering: null as never, recordTtl: null as never },
    ];
    for (const options of edges) {
      const p = new KinesisProducer(options);
      await p.close({ signal: AbortSignal.timeout(1_000) });
    }
  });
});

// ---- records -----------------------------------------------------------------------------------

type BadRecord = [name: string, record: unknown, code: ProducerErrorCode, field: string];

const LONE_HIGH = '\uD800';
const LONE_LOW = '\uDC00';
const badRecords: BadRecord[] = [
  ['record null', null, ProducerErrorCode.INVALID_RECORD, 'record'],
  ['record undefined', undefined, ProducerErrorCode.INVALID_RECORD, 'record'],
  ['record a string', 'pk,data', ProducerErrorCode.INVALID_RECORD, 'record'],
  ['record a number', 42, ProducerErrorCode.INVALID_RECORD, 'record'],
  ['record an empty array (no data)', [], ProducerErrorCode.INVALID_DATA, 'data'],
  ['partitionKey empty', { partitionKey: '', data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey 257 characters', { partitionKey: 'k'.repeat(257), data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey 129 emoji (258 UTF-16 units)', { partitionKey: '😀'.repeat(129), data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey a number', { partitionKey: 7, data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey missing', { data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey null', { partitionKey: null, data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey a String object', { partitionKey: new String('k'), data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey a lone high surrogate', { partitionKey: `a${LONE_HIGH}b`, data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey a lone low surrogate', { partitionKey: LONE_LOW, data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['partitionKey swapped surrogates', { partitionKey: `${LONE_LOW}${LONE_HIGH}`, data: 'x' }, ProducerErrorCode.INVALID_PARTITION_KEY, 'partitionKey'],
  ['data missing', { partitionKey: 'k' }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data null', { partitionKey: 'k', data: null }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data a number', { partitionKey: 'k', data: 42 }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data a plain object', { partitionKey: 'k', data: { a: 1 } }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data an array of numbers', { partitionKey: 'k', data: [1, 2, 3] }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data an ArrayBuffer', { partitionKey: 'k', data: new ArrayBuffer(4) }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data a DataView', { partitionKey: 'k', data: new DataView(new ArrayBuffer(4)) }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data a Uint16Array', { partitionKey: 'k', data: new Uint16Array(4) }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['data bad before a bad key: data is reported', { partitionKey: '', data: 5 }, ProducerErrorCode.INVALID_DATA, 'data'],
  ['key + data 1 byte over 1 MiB', { partitionKey: 'k', data: new Uint8Array(MiB) }, ProducerErrorCode.RECORD_TOO_LARGE, 'data'],
  ['a 2-byte UTF-8 key + data over 1 MiB', { partitionKey: 'ü', data: new Uint8Array(MiB - 1) }, ProducerErrorCode.RECORD_TOO_LARGE, 'data'],
  ['string data over 1 MiB in UTF-8 (under in UTF-16 units)', { partitionKey: 'k', data: 'é'.repeat(MiB / 2) }, ProducerErrorCode.RECORD_TOO_LARGE, 'data'],
  ['explicitHashKey 2^128', { partitionKey: 'k', data: 'x', explicitHashKey: (1n << 128n).toString() }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey 40 digits', { partitionKey: 'k', data: 'x', explicitHashKey: '1'.repeat(40) }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey negative', { partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey hex', { partitionKey: 'k', data: 'x', explicitHashKey: '0x10' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey exponent', { partitionKey: 'k', data: 'x', explicitHashKey: '1e5' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey decimal point', { partitionKey: 'k', data: 'x', explicitHashKey: '1.0' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey empty', { partitionKey: 'k', data: 'x', explicitHashKey: '' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey blank', { partitionKey: 'k', data: 'x', explicitHashKey: '  ' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey Arabic-Indic digits', { partitionKey: 'k', data: 'x', explicitHashKey: '١٢٣' }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey a number', { partitionKey: 'k', data: 'x', explicitHashKey: 12 }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey a negative bigint', { partitionKey: 'k', data: 'x', explicitHashKey: -1n }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
  ['explicitHashKey an object', { partitionKey: 'k', data: 'x', explicitHashKey: {} }, ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, 'explicitHashKey'],
];

const SEQ_STREAM = 'bad-records';

async function readAll(server: MockServer, client: KinesisClient): Promise<UserRecord[]> {
  server.setLimits(false);
  const shards = (await client.send(new ListShardsCommand({ StreamName: SEQ_STREAM }))).Shards ?? [];
  const out: UserRecord[] = [];
  for (const shard of shards) {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: SEQ_STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) out.push(...deaggregate(r, { hashKeyRange: { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! } }));
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

describe.each([
  ['aggregation on', true],
  ['aggregation off', false],
])('bad input: producer records (%s)', (_mode, aggregationEnabled) => {
  let server: MockServer;
  let client: KinesisClient;
  let producer: KinesisProducer;

  beforeAll(async () => {
    server = await startMockServer({ streams: [{ name: SEQ_STREAM, shardCount: 2 }], seed: 11 });
    client = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
    producer = new KinesisProducer({ streamName: SEQ_STREAM, kinesisClient: client, aggregationEnabled, recordMaxBufferedTime: 20 });
    await producer.ready();
  });
  afterAll(async () => {
    await producer.close({ signal: AbortSignal.timeout(5_000) });
    client.destroy();
    await server.close();
  });

  it.each(badRecords)('%s -> InvalidRecordError', async (_name, record, code, field) => {
    let promise: Promise<UserRecordResult> | undefined;
    expect(() => {
      promise = producer.put(record as ProducerRecord);
    }).not.toThrow(); // bad input rejects the promise, never throws synchronously
    const caught: unknown = await promise!.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(caught).toBeInstanceOf(InvalidRecordError);
    expect(caught).toBeInstanceOf(KinesisProducerError);
    expect(caught).toMatchObject({ name: 'InvalidRecordError', code, field, retriable: false, streamName: undefined });
  });

  it('accepts the edges: 1 and 256 characters, 128 emoji, key + data exactly 1 MiB, explicit hash keys 0, 2^128-1, padded and bigint', async () => {
    const goods: ProducerRecord[] = [
      { partitionKey: 'k', data: '' },
      { partitionKey: 'k'.repeat(256), data: 'x' },
      { partitionKey: '😀'.repeat(128), data: 'x' },
      { partitionKey: 'k', data: new Uint8Array(MiB - 1) },
      { partitionKey: 'ü', data: new Uint8Array(MiB - 2) },
      { partitionKey: 'k', data: 'x', explicitHashKey: '0' },
      { partitionKey: 'k', data: 'x', explicitHashKey: ((1n << 128n) - 1n).toString() },
      { partitionKey: 'k', data: 'x', explicitHashKey: ' 007 ' },
      { partitionKey: 'k', data: 'x', explicitHashKey: 5n as never },
      { partitionKey: 'k', data: 'x', explicitHashKey: null as never },
      { partitionKey: 'k', data: Buffer.from('buffer') },
    ];
    const results = await Promise.all(goods.map((g) => producer.put(g)));
    expect(results.every((r) => r.successful)).toBe(true);
  });

  it('every good record put around each bad one is acknowledged and read back; the bad ones never reach the stream', async () => {
    const tag = aggregationEnabled ? 'agg' : 'raw';
    const goods: Promise<UserRecordResult>[] = [];
    const bads: Promise<unknown>[] = [];
    let n = 0;
    const putGood = (): void => {
      const i = n++;
      // Half of them routed by explicit hash key, to mix containers of both kinds.
      const record: ProducerRecord = { partitionKey: `${tag}-good-${i}`, data: `${tag}-value-${i}` };
      if (i % 2 === 1) record.explicitHashKey = ((BigInt(i) * 7919n) << 100n).toString();
      goods.push(producer.put(record));
    };
    for (let round = 0; round < 3; round++) {
      for (const [, record] of badRecords) {
        putGood();
        putGood();
        bads.push(producer.put(record as ProducerRecord).then(() => 'accepted', (err: unknown) => err));
        putGood();
      }
    }
    const badOutcomes = await Promise.all(bads);
    expect(badOutcomes.every((o) => o instanceof InvalidRecordError)).toBe(true);
    const results = await Promise.all(goods);
    expect(results).toHaveLength(n);
    expect(results.every((r) => r.successful && r.sequenceNumber !== undefined)).toBe(true);
    expect(producer.outstandingRecords).toBe(0);

    const back = (await readAll(server, client)).filter((r) => r.partitionKey.startsWith(`${tag}-good-`));
    const got = new Map(back.map((r) => [r.partitionKey, text(r.data)]));
    expect(back).toHaveLength(n); // no loss, no duplicate
    for (let i = 0; i < n; i++) expect(got.get(`${tag}-good-${i}`)).toBe(`${tag}-value-${i}`);
    // Where put() said each record landed is where it was read.
    const bySeq = new Map(back.map((r) => [`${r.sequenceNumber}/${r.subSequenceNumber}`, r.partitionKey]));
    results.forEach((r, i) => expect(bySeq.get(`${r.sequenceNumber}/${r.subSequenceNumber}`)).toBe(`${tag}-good-${i}`));
  });
});
