import http from 'node:http';
import {
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  ListStreamConsumersCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
  type KinesisClient,
  type StartingPosition,
  type SubscribeToShardEvent,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { MAX_HASH_KEY } from '@kinesis-kit/aggregation';
import { ManualClock } from '@kinesis-kit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bytes, decodeFrames, errorOf, HANDLERS, kinesisClient, text } from './helpers.js';

const SHARD = 'shardId-000000000000';

type Events = AsyncIterator<SubscribeToShardEventStream>;

async function subscribe(client: KinesisClient, ConsumerARN: string, StartingPosition: StartingPosition, ShardId = SHARD): Promise<Events> {
  const res = await client.send(new SubscribeToShardCommand({ ConsumerARN, ShardId, StartingPosition }));
  return res.EventStream![Symbol.asyncIterator]();
}

/** The next data event, or 'end' when the stream finished. */
async function nextEvent(events: Events): Promise<SubscribeToShardEvent | 'end'> {
  for (;;) {
    const r = await events.next();
    if (r.done) return 'end';
    if (r.value.SubscribeToShardEvent) return r.value.SubscribeToShardEvent;
  }
}

/** Reads events (heartbeats included) until the stream ends; returns how many came. */
async function untilEnd(events: Events): Promise<number> {
  let n = 0;
  while ((await nextEvent(events)) !== 'end') n++;
  return n;
}

/** Reads events until `n` records have arrived. */
async function recordsUntil(events: Events, n: number): Promise<{ data: string[]; last: SubscribeToShardEvent }> {
  const data: string[] = [];
  for (;;) {
    const e = await nextEvent(events);
    if (e === 'end') throw new Error(`stream ended after ${data.length} records`);
    data.push(...e.Records!.map((r) => text(r.Data)));
    if (data.length >= n) return { data, last: e };
  }
}

function put(client: KinesisClient, StreamName: string, values: string[]) {
  return client.send(new PutRecordsCommand({ StreamName, Records: values.map((v) => ({ PartitionKey: v, Data: bytes(v) })) }));
}

describe.each(HANDLERS)('enhanced fan-out over $protocol', ({ http1 }) => {
  let clock: ManualClock;
  let server: MockServer;
  let client: KinesisClient;
  let streamArn: string;
  let consumerArn: string;

  beforeEach(async () => {
    clock = new ManualClock({ wallStart: Date.now() });
    server = await startMockServer({ clock, limits: false, streams: [{ name: 'fan', shardCount: 1 }] });
    client = kinesisClient(server, http1);
    streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/fan`;
    consumerArn = (await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'app' }))).Consumer!.ConsumerARN!;
  });
  afterEach(async () => {
    client.destroy();
    await server.close();
  });

  it('registers, describes, lists and deregisters consumers, CREATING until consumerActivationDelayMs', async () => {
    server.engine.consumerActivationDelayMs = 1000;
    const reg = (await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'slow' }))).Consumer!;
    expect(reg).toMatchObject({ ConsumerName: 'slow', ConsumerStatus: 'CREATING' });
    expect(reg.ConsumerARN).toMatch(/^arn:aws:kinesis:us-east-1:000000000000:stream\/fan\/consumer\/slow:\d+$/);
    const early = await errorOf(subscribe(client, reg.ConsumerARN!, { Type: 'LATEST' }));
    expect(early.name).toBe('ResourceInUseException');
    await clock.advance(1000);
    const byName = (await client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'slow' }))).ConsumerDescription!;
    expect(byName).toMatchObject({ ConsumerStatus: 'ACTIVE', StreamARN: streamArn, ConsumerARN: reg.ConsumerARN });
    const byArn = (await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: reg.ConsumerARN }))).ConsumerDescription!;
    expect(byArn.ConsumerName).toBe('slow');
    const dup = await errorOf(client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'slow' })));
    expect(dup.name).toBe('ResourceInUseException');

    const list = await client.send(new ListStreamConsumersCommand({ StreamARN: streamArn }));
    expect(list.Consumers!.map((c) => [c.ConsumerName, c.ConsumerStatus])).toEqual([
      ['app', 'ACTIVE'],
      ['slow', 'ACTIVE'],
    ]);
    const page = await client.send(new ListStreamConsumersCommand({ StreamARN: streamArn, MaxResults: 1 }));
    expect(page.Consumers!.map((c) => c.ConsumerName)).toEqual(['app']);
    const page2 = await client.send(new ListStreamConsumersCommand({ StreamARN: streamArn, NextToken: page.NextToken }));
    expect(page2.Consumers!.map((c) => c.ConsumerName)).toEqual(['slow']);

    await client.send(new DeregisterStreamConsumerCommand({ ConsumerARN: reg.ConsumerARN }));
    expect((await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: reg.ConsumerARN }))).ConsumerDescription!.ConsumerStatus).toBe('DELETING');
    await clock.advance(1000);
    const gone = await errorOf(client.send(new DescribeStreamConsumerCommand({ ConsumerARN: reg.ConsumerARN })));
    expect(gone.name).toBe('ResourceNotFoundException');
  });

  it('pushes the backlog, then live records, with ContinuationSequenceNumber and MillisBehindLatest', async () => {
    const first = await put(client, 'fan', ['a', 'b']);
    const events = await subscribe(client, consumerArn, { Type: 'TRIM_HORIZON' });
    const backlog = await recordsUntil(events, 2);
    expect(backlog.data).toEqual(['a', 'b']);
    expect(backlog.last.ContinuationSequenceNumber).toBe(first.Records![1]!.SequenceNumber);
    expect(backlog.last.MillisBehindLatest).toBe(0);
    expect(backlog.last.Records![0]!.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
    expect(backlog.last.Records![0]!.SequenceNumber).toBe(first.Records![0]!.SequenceNumber);

    const live = await put(client, 'fan', ['c', 'd', 'e']);
    const pushed = await recordsUntil(events, 3);
    expect(pushed.data).toEqual(['c', 'd', 'e']);
    expect(pushed.last.ContinuationSequenceNumber).toBe(live.Records![2]!.SequenceNumber);

    // Resuming AFTER the continuation sequence number picks up exactly where the stream left off.
    server.endSubscriptions();
    expect(await nextEvent(events)).toBe('end');
    await clock.advance(5000);
    await put(client, 'fan', ['f']);
    const resumed = await subscribe(client, consumerArn, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: pushed.last.ContinuationSequenceNumber });
    expect((await recordsUntil(resumed, 1)).data).toEqual(['f']);
  });

  it('sends ChildShards when a closed shard is read to its end, then ends the stream', async () => {
    await put(client, 'fan', ['x']);
    const events = await subscribe(client, consumerArn, { Type: 'TRIM_HORIZON' });
    expect((await recordsUntil(events, 1)).data).toEqual(['x']);
    await client.send(new SplitShardCommand({ StreamName: 'fan', ShardToSplit: SHARD, NewStartingHashKey: ((MAX_HASH_KEY + 1n) / 2n).toString() }));
    let last = await nextEvent(events);
    while (last !== 'end' && !last.ChildShards) last = await nextEvent(events);
    expect(last).not.toBe('end');
    const final = last as SubscribeToShardEvent;
    expect(final.ChildShards!.map((c) => [c.ShardId, c.ParentShards])).toEqual([
      ['shardId-000000000001', [SHARD]],
      ['shardId-000000000002', [SHARD]],
    ]);
    expect(final.ContinuationSequenceNumber).toBeUndefined();
    expect(await nextEvent(events)).toBe('end');
    expect(server.activeSubscriptions).toBe(0);
  });

  it('answers ResourceInUseException within 5 s of a subscription; later calls take over', async () => {
    const firstSub = await subscribe(client, consumerArn, { Type: 'LATEST' });
    await nextEvent(firstSub);
    const again = await errorOf(subscribe(client, consumerArn, { Type: 'LATEST' }));
    expect(again.name).toBe('ResourceInUseException');
    await clock.advance(4999);
    expect((await errorOf(subscribe(client, consumerArn, { Type: 'LATEST' }))).name).toBe('ResourceInUseException');
    await clock.advance(1);
    const second = await subscribe(client, consumerArn, { Type: 'LATEST' });
    await untilEnd(firstSub); // the take-over ended it
    expect(server.activeSubscriptions).toBe(1);
    await put(client, 'fan', ['y']);
    expect((await recordsUntil(second, 1)).data).toEqual(['y']);
  });

  it('ends the subscription after subscriptionDurationMs and sends heartbeats while idle', async () => {
    server.subscriptionDurationMs = 20_000;
    const events = await subscribe(client, consumerArn, { Type: 'LATEST' });
    const initial = await nextEvent(events);
    expect(initial).toMatchObject({ Records: [], MillisBehindLatest: 0 });
    await clock.advance(5000);
    expect(await nextEvent(events)).toMatchObject({ Records: [] });
    await clock.advance(15_000);
    expect(await untilEnd(events)).toBeGreaterThanOrEqual(2); // heartbeats at 10 s and 15 s, then the end
    expect(server.activeSubscriptions).toBe(0);
  });

  it('surfaces an injected in-stream error as the named exception', async () => {
    const events = await subscribe(client, consumerArn, { Type: 'LATEST' });
    await nextEvent(events);
    expect(server.endSubscriptions({ error: 'InternalFailureException' })).toBe(1);
    const err = await errorOf(nextEvent(events));
    expect(err.name).toBe('InternalFailureException');
  });
});

describe.each(HANDLERS)('a SubscribeToShard the client abandoned ($protocol)', ({ http1 }) => {
  // Real time here: the client's reset has to reach the server before the injected latency ends.
  it('starts no subscription once handled, and does not count for the 5-second rule', async () => {
    const server = await startMockServer({
      limits: false,
      streams: [{ name: 'fan', shardCount: 1 }],
      faults: { rules: [{ operation: 'SubscribeToShard', latencyMs: 1_000, maxCount: 1 }] },
    });
    const client = kinesisClient(server, http1);
    try {
      const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/fan';
      const consumerArn = (await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'app' }))).Consumer!.ConsumerARN!;
      const command = new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: SHARD, StartingPosition: { Type: 'LATEST' } });
      // Given up after 300 ms, as a watchdog, a timeout or stop() would.
      expect((await errorOf(client.send(command, { abortSignal: AbortSignal.timeout(300) }))).name).toBe('AbortError');
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // the mock reaches the abandoned call
      expect(server.activeSubscriptions).toBe(0);
      const fresh = await subscribe(client, consumerArn, { Type: 'LATEST' }); // not ResourceInUseException
      await put(client, 'fan', ['z']);
      expect((await recordsUntil(fresh, 1)).data).toEqual(['z']);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe('SubscribeToShard on the wire', () => {
  it('writes initial-response first, then SubscribeToShardEvent frames (HTTP/1.1 chunked)', async () => {
    const server = await startMockServer({ limits: false, streams: [{ name: 'wire', shardCount: 1 }] });
    try {
      const consumer = server.engine.registerConsumer(server.engine.streamArn('wire'), 'raw').consumer;
      server.engine.putRecords(server.engine.streams.get('wire')!, [
        { partitionKey: 'p', keyBytes: 1, data: Buffer.from('hello'), dataBytes: 5, hashKeyHex: '0'.repeat(32) },
      ]);
      const body = JSON.stringify({ ConsumerARN: consumer.arn, ShardId: SHARD, StartingPosition: { Type: 'TRIM_HORIZON' } });
      const chunks: Buffer[] = [];
      const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
        const req = http.request(server.endpoint, { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.SubscribeToShard' }, agent: false }, (res) => {
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            if (decodeFrames(Buffer.concat(chunks)).length >= 2) {
              resolve(res.headers);
              req.destroy();
            }
          });
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(headers['content-type']).toBe('application/vnd.amazon.eventstream');
      const frames = decodeFrames(Buffer.concat(chunks));
      expect(frames[0]!.headers).toEqual({ ':message-type': 'event', ':event-type': 'initial-response', ':content-type': 'application/json' });
      expect(frames[0]!.payload).toBe('{}');
      expect(frames[1]!.headers[':event-type']).toBe('SubscribeToShardEvent');
      const event = JSON.parse(frames[1]!.payload) as { Records: { Data: string; PartitionKey: string }[] };
      expect(event.Records.map((r) => [Buffer.from(r.Data, 'base64').toString(), r.PartitionKey])).toEqual([['hello', 'p']]);
    } finally {
      await server.close();
    }
  });
});
