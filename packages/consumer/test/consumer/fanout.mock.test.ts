import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  ListStreamConsumersCommand,
  MergeShardsCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { activeResources, InMemoryMetricsSink, leakedResources } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConsumerErrorCode,
  FANOUT_WINDOW_BYTES,
  FanOutRegistrationError,
  FanOutRequestHandler,
  KinesisConsumer,
  type ConsumerSettings,
  type EachBatchHandler,
  type RetrievalErrorInfo,
} from '../../src/index.js';
import { Deliveries, FAST_LEASES, encode, produce as produceRecords, until } from './harness.js';

let server: MockServer | undefined;
let kinesis: KinesisClient | undefined;
let dynamoDb: DynamoDBClient | undefined;
const consumers: KinesisConsumer[] = [];

/** Stops the consumers, destroys the clients and closes the mock (after each test, or earlier to check for leaks). */
async function tearDown(): Promise<void> {
  for (const c of consumers.splice(0)) await c.stop({ timeoutMillis: 2_000 });
  kinesis?.destroy();
  dynamoDb?.destroy();
  await server?.close();
  server = kinesis = dynamoDb = undefined;
}

afterEach(tearDown);

/** The mock with the SDK's default clients: HTTP/2 for Kinesis, as fan-out on AWS. */
async function setup(options: Parameters<typeof startMockServer>[0] = {}): Promise<{ server: MockServer; kinesis: KinesisClient }> {
  server = await startMockServer({ streams: [{ name: 'fan', shardCount: 2 }], subscribeCooldownMs: 100, ...options });
  kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
  dynamoDb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1 });
  return { server, kinesis };
}

function fanOutConsumer(workerId: string, deliveries: Deliveries, extra: Partial<ConsumerSettings> & { eachBatch?: EachBatchHandler } = {}): KinesisConsumer {
  const c = new KinesisConsumer({
    applicationName: 'fan-app',
    streamName: 'fan',
    kinesisClient: kinesis!,
    dynamoDbClient: dynamoDb!,
    workerId,
    initialPosition: 'TRIM_HORIZON',
    leaseManagement: FAST_LEASES,
    parentShardPollIntervalMillis: 100,
    retrieval: { mode: 'fanout', subscribeCooldownMillis: 150, subscriptionIdleTimeoutMillis: 1_000 },
    eachBatch: ({ records }) => deliveries.add(records),
    ...extra,
  });
  consumers.push(c);
  return c;
}

/** A fan-out consumer that builds its own clients from the mock's clientConfig(): subscriptions go through FanOutRequestHandler. */
function ownClientConsumer(name: string, deliveries: Deliveries): KinesisConsumer {
  const c = new KinesisConsumer({
    applicationName: name,
    streamName: 'fan',
    ...server!.clientConfig(),
    workerId: name,
    initialPosition: 'TRIM_HORIZON',
    leaseManagement: FAST_LEASES,
    retrieval: { mode: 'fanout', consumerName: name, subscribeCooldownMillis: 150, subscriptionIdleTimeoutMillis: 1_000 },
    eachBatch: ({ records }) => deliveries.add(records),
  });
  consumers.push(c);
  return c;
}

/** Records `from..from+perKey-1` of `keys` keys into stream 'fan' (the harness's producer). */
function produce(keys: number, from: number, perKey: number): Promise<number> {
  return produceRecords({ kinesis: kinesis! }, 'fan', keys, perKey, from);
}

describe('enhanced fan-out (mock, SDK default HTTP/2 client)', () => {
  it('registers the consumer once, delivers everything in order, and leaves nothing open', async () => {
    const before = activeResources();
    await setup();
    const deliveries = new Deliveries();
    const w1 = fanOutConsumer('w1', deliveries);
    const w2 = fanOutConsumer('w2', deliveries);
    await Promise.all([w1.start(), w2.start()]);
    // Started together, one worker often takes both leases and the other steals one back; the victim
    // learns of it at its next renewal or checkpoint. A batch it delivers before that is delivered
    // again by the thief (at least once, as the KCL), and whether that comes before or after the
    // count below is timing. So records go in once each worker holds one lease and knows it.
    await until(() => {
      const held = [w1, w2].map((w) => w.coordinator.heldLeases().map((h) => h.leaseKey));
      return held.every((keys) => keys.length === 1) && new Set(held.flat()).size === 2;
    }, 'the two leases balanced, one per worker');
    const put = await produce(20, 0, 25);
    await until(() => deliveries.unique === put, 'every record over SubscribeToShard');
    expect(deliveries.orderViolations()).toEqual([]);
    expect(deliveries.total).toBe(put);
    const consumersOfStream = await kinesis!.send(new ListStreamConsumersCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/fan' }));
    expect(consumersOfStream.Consumers?.map((c) => c.ConsumerName)).toEqual(['fan-app']);
    expect(w1.streamConsumerArn).toBe(w2.streamConsumerArn);

    await tearDown();
    expect(await leakedResources(before)).toEqual({});
  });

  it('survives subscriptions ending every 0.8 s, stream errors, a dropped connection, a stalled subscription and resharding', async () => {
    await setup({
      subscriptionDurationMs: 800,
      seed: 11,
      faults: {
        rules: [
          { operation: 'SubscribeToShard', stall: true, maxCount: 1 }, // silent after initial-response
          { operation: 'SubscribeToShard', streamErrorRate: 0.2, streamErrorCode: 'InternalFailureException', afterMs: 500 },
        ],
      },
    });
    const deliveries = new Deliveries();
    const errors: RetrievalErrorInfo[] = [];
    const metrics = new InMemoryMetricsSink();
    const w1 = fanOutConsumer('w1', deliveries, {
      metrics,
      retrieval: { mode: 'fanout', subscribeCooldownMillis: 150, subscriptionIdleTimeoutMillis: 300 },
    });
    w1.on('retrievalError', (e) => void errors.push(e));
    await w1.start();

    let put = await produce(20, 0, 20);
    await until(() => metrics.get('SubscriptionIdleTimeout').sum >= 1, 'the watchdog to drop the stalled subscription', 10_000);
    server!.endSubscriptions({ error: 'InternalFailureException' });
    const shards = (await kinesis!.send(new ListShardsCommand({ StreamName: 'fan' }))).Shards!;
    const s0 = shards[0]!;
    const mid = (BigInt(s0.HashKeyRange!.StartingHashKey!) + BigInt(s0.HashKeyRange!.EndingHashKey!) + 1n) / 2n;
    await kinesis!.send(new SplitShardCommand({ StreamName: 'fan', ShardToSplit: s0.ShardId!, NewStartingHashKey: mid.toString() }));
    put += await produce(20, 20, 20);
    server!.endSubscriptions({ abort: true });
    const open = (await kinesis!.send(new ListShardsCommand({ StreamName: 'fan' }))).Shards!.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
    open.sort((a, b) => (BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    await kinesis!.send(new MergeShardsCommand({ StreamName: 'fan', ShardToMerge: open[1]!.ShardId!, AdjacentShardToMerge: open[2]!.ShardId! }));
    put += await produce(20, 40, 20);

    await until(() => deliveries.unique === put, 'every record through cut, broken and stalled subscriptions', 60_000);
    expect(deliveries.missing(20, 60)).toEqual([]);
    expect(deliveries.orderViolations()).toEqual([]);
    expect(w1.status().shards.some((s) => s.state === 'shard-ended')).toBe(true);
    expect(errors.some((e) => e.operation === 'SubscribeToShard' && e.kind === 'transient')).toBe(true);
  });

  it('builds its own client when given none: SubscribeToShard over HTTP/2 with the wide window, every other call over HTTP/1.1', async () => {
    const before = activeResources();
    await setup();
    const put = await produce(10, 0, 20);
    const connect = vi.spyOn(http2, 'connect');
    try {
      const deliveries = new Deliveries();
      await ownClientConsumer('own-client', deliveries).start();
      await until(() => deliveries.unique === put, 'every record over the consumer-built client');
      expect(deliveries.orderViolations()).toEqual([]);
      // One connection per subscription (2 shards), all opened by FanOutRequestHandler: the registration
      // and shard-listing calls before them went over HTTP/1.1 (the SDK's HTTP/2 handler passes no options).
      expect(connect.mock.calls.length).toBeGreaterThanOrEqual(2);
      for (const [, options] of connect.mock.calls) expect(options).toMatchObject({ settings: { initialWindowSize: FANOUT_WINDOW_BYTES } });
    } finally {
      connect.mockRestore();
    }
    await tearDown();
    expect(await leakedResources(before)).toEqual({});
  });

  it('signs subscriptions over `host` and sends it as `:authority`, which the SigV4 check accepts; a wrong key is refused', async () => {
    // The mock checks SigV4 as AWS does over HTTP/2, with `:authority` standing for `host`.
    const auth = { accessKeyId: 'AKIDFANOUTSIGNED', secretAccessKey: 'fan-out-signing-secret' };
    await setup({ auth });
    const put = await produce(5, 0, 4);
    const deliveries = new Deliveries();
    await ownClientConsumer('signed', deliveries).start();
    await until(() => deliveries.unique === put, 'every record over signed subscriptions');

    const { StreamARN } = await kinesis!.send(new DescribeStreamSummaryCommand({ StreamName: 'fan' })).then((out) => out.StreamDescriptionSummary!);
    const { Consumers } = await kinesis!.send(new ListStreamConsumersCommand({ StreamARN }));
    const ConsumerARN = Consumers!.find((x) => x.ConsumerName === 'signed')!.ConsumerARN!;
    const wrongKey = new KinesisClient({
      ...server!.clientConfig(),
      credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
      requestHandler: new FanOutRequestHandler(),
    });
    try {
      const refused = await wrongKey
        .send(new SubscribeToShardCommand({ ConsumerARN, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }))
        .then(
          () => undefined,
          (err: unknown) => err as Error,
        );
      expect(refused?.name).toBe('InvalidSignatureException');
    } finally {
      wrongKey.destroy();
    }
  });

  it('subscribes over TLS (ALPN h2) with FanOutRequestHandler on an injected client, the other calls over HTTPS/1.1', async () => {
    const fixture = (name: string): string => readFileSync(new URL(`../../../mock/test/fixtures/${name}`, import.meta.url), 'utf8');
    const ca = fixture('tls-cert.pem');
    server = await startMockServer({ tls: { key: fixture('tls-key.pem'), cert: ca }, streams: [{ name: 'fan', shardCount: 2 }], subscribeCooldownMs: 100 });
    expect(server.endpoint).toMatch(/^https:/);
    const inner = new NodeHttpHandler({ httpsAgent: new https.Agent({ keepAlive: true, ca }) });
    kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1, requestHandler: new FanOutRequestHandler({ requestHandler: inner, connectOptions: { ca } }) });
    dynamoDb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ keepAlive: true, ca }) }) });
    const put = await produce(10, 0, 10);
    const deliveries = new Deliveries();
    const alpn: (string | false | undefined)[] = [];
    const connect = vi.spyOn(http2, 'connect');
    try {
      const c = fanOutConsumer('tls', deliveries);
      await c.start();
      await until(() => deliveries.unique === put, 'every record over TLS subscriptions');
      for (const result of connect.mock.results) alpn.push((result.value as http2.ClientHttp2Session).alpnProtocol);
    } finally {
      connect.mockRestore();
    }
    expect(deliveries.orderViolations()).toEqual([]);
    expect(alpn.length).toBeGreaterThanOrEqual(2);
    expect(new Set(alpn)).toEqual(new Set(['h2']));
  });

  it('holds a slow processor back through the bounded queue instead of buffering the stream', async () => {
    await setup({ streams: [{ name: 'fan', shardCount: 1 }], limits: false });
    const deliveries = new Deliveries();
    let largestEvent = 0;
    const c = fanOutConsumer('slow', deliveries, {
      retrieval: { mode: 'fanout', subscribeCooldownMillis: 150, maxPrefetchRecords: 50 },
      eachBatch: async ({ records }) => {
        deliveries.add(records);
        largestEvent = Math.max(largestEvent, records.length); // not aggregated: one record per Kinesis record
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    await c.start();
    const producer = new KinesisProducer({ streamName: 'fan', kinesisClient: kinesis!, aggregationEnabled: false });
    const total = 100_000;
    const puts: Promise<unknown>[] = [];
    for (let n = 0; n < total / 40; n++) for (let k = 0; k < 40; k++) puts.push(producer.put({ partitionKey: `key-${k}`, data: encode(`key-${k}`, n) }));
    let maxBuffered = 0;
    const sample = setInterval(() => {
      for (const s of c.status().shards) maxBuffered = Math.max(maxBuffered, s.prefetchedRecords);
    }, 2);
    await Promise.all(puts);
    await producer.close();
    await until(() => deliveries.unique === total, 'the slow processor to catch up', 60_000);
    clearInterval(sample);
    // At most the bound plus the event being queued when it was reached; far from the whole stream.
    expect(maxBuffered).toBeLessThanOrEqual(50 + largestEvent);
    expect(maxBuffered).toBeLessThan(total / 4);
    expect(deliveries.orderViolations()).toEqual([]);
  });

  it('start() rejects with FanOutRegistrationError when the consumer cannot be registered, and releases everything', async () => {
    const before = activeResources();
    await setup({ faults: { rules: [{ operation: 'RegisterStreamConsumer', errorRate: 1, errorCode: 'AccessDeniedException', statusCode: 400 }] } });
    const c = fanOutConsumer('w1', new Deliveries());
    const error = await c.start().then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(FanOutRegistrationError);
    expect(error).toMatchObject({ code: ConsumerErrorCode.FANOUT_REGISTRATION_FAILED, retriable: false, cause: { name: 'AccessDeniedException' } });
    expect(c.state).toBe('stopped');
    await tearDown();
    expect(await leakedResources(before)).toEqual({});
  });

  it('start() rejects with a retriable FanOutRegistrationError when the consumer is not ACTIVE within activationTimeoutMillis', async () => {
    await setup({ consumerActivationDelayMs: 60_000 });
    const c = fanOutConsumer('w1', new Deliveries(), { retrieval: { mode: 'fanout', activationTimeoutMillis: 300 } });
    const error = await c.start().then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(FanOutRegistrationError);
    expect(error).toMatchObject({ retriable: true, message: expect.stringContaining('did not become ACTIVE in time') });
  });

  it('keeps the checkpoints when an application moves from polling to fan-out', async () => {
    await setup();
    const first = new Deliveries();
    const polling = fanOutConsumer('w1', first, { retrieval: { mode: 'polling' } });
    await polling.start();
    const put1 = await produce(10, 0, 10);
    await until(() => first.unique === put1, 'the polling consumer');
    await polling.stop();

    const second = new Deliveries();
    const fanout = fanOutConsumer('w1', second);
    await fanout.start();
    const put2 = await produce(10, 10, 10);
    await until(() => second.unique === put2, 'the fan-out consumer');
    expect(Math.min(...[...second.byKey.values()].flat())).toBe(10); // nothing from before the switch again
    expect(second.total).toBe(put2);
  });
});
