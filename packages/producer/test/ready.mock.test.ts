import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { ManualClock } from '@kinesis-kit/core';
import type { MockServerOptions } from '@kinesis-kit/mock';
import { describe, expect, it } from 'vitest';
import { KinesisProducer, ProducerClosedError, ProducerErrorCode, ShardMapUnavailableError, type ProducerSettings } from '../src/index.js';
import { useMockPerTest } from './helpers.js';

// ready() waits for the shard map. It must not hang on a stream that cannot be listed, and it can be
// abandoned. The producer runs on a ManualClock (its ListShards retries wait on it); the mock
// server answers in real time.

const mock = useMockPerTest();

async function start(streamName: string, mockOptions: MockServerOptions = {}, producerOptions: Partial<ProducerSettings> = {}) {
  const { server, client } = await mock.start({ streams: [{ name: 's', shardCount: 2 }], ...mockOptions });
  const clock = new ManualClock();
  const producer = mock.track(new KinesisProducer({ streamName, kinesisClient: client, clock, ...producerOptions }));
  /** Resolves at the producer's next event of that kind. */
  const next = (event: 'shardMapRefreshFailed' | 'shardMapUpdated') =>
    new Promise<void>((resolve) => {
      const off = producer.on(event, () => {
        off();
        resolve();
      });
    });
  return { server, client, clock, producer, next };
}

describe('producer.ready()', () => {
  it('resolves once the shard map is known, and at once afterwards', async () => {
    const { producer } = await start('s');
    await producer.ready();
    await producer.ready({ signal: AbortSignal.abort() }); // already ready: the signal does not matter
  });

  it('rejects with ShardMapUnavailableError for a missing stream; resolves once the stream exists and a retry lists it', async () => {
    const { client, clock, producer, next } = await start('later');
    const err = await producer.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShardMapUnavailableError);
    expect(err).toMatchObject({
      code: ProducerErrorCode.SHARD_MAP_UNAVAILABLE,
      retriable: false,
      streamName: 'later',
      awsErrorCode: 'ResourceNotFoundException',
    });
    expect((err as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    // Until a refresh succeeds, a new call says the same at once.
    await expect(producer.ready()).rejects.toBeInstanceOf(ShardMapUnavailableError);

    await client.send(new CreateStreamCommand({ StreamName: 'later', ShardCount: 1 }));
    await expect(producer.ready()).rejects.toBeInstanceOf(ShardMapUnavailableError); // nothing listed it since
    const updated = next('shardMapUpdated');
    await clock.advance(1_000); // the producer's first ListShards retry (1 s)
    await updated;
    await producer.ready();
  });

  it('after a permanent failure, a later failure a retry can fix makes new calls wait again', async () => {
    const { server, clock, producer, next } = await start('missing');
    await expect(producer.ready()).rejects.toBeInstanceOf(ShardMapUnavailableError);
    server.setFaults({ rules: [{ operation: 'ListShards', throttleRate: 1 }] });
    const throttled = next('shardMapRefreshFailed');
    await clock.advance(1_000);
    await throttled;
    let settled = false;
    void producer.ready().then(
      () => (settled = true),
      () => (settled = true),
    );
    await clock.advance(0);
    expect(settled).toBe(false); // waiting for the next attempt, not refused with the old error
  });

  it('waits while the stream is being created (ResourceInUseException is not "for good"); strict records wait too', async () => {
    const { client } = await mock.start({ createStreamDelayMs: 300 });
    await client.send(new CreateStreamCommand({ StreamName: 'new', ShardCount: 1 }));
    const clock = new ManualClock();
    const producer = mock.track(new KinesisProducer({ streamName: 'new', kinesisClient: client, clock, strictOrdering: true }));
    const failed = new Promise((resolve) => producer.on('shardMapRefreshFailed', resolve));
    const updated = new Promise((resolve) => producer.on('shardMapUpdated', resolve));
    let settled = false;
    const ready = producer.ready().finally(() => (settled = true));
    const put = producer.put({ partitionKey: 'k', data: 'early' });
    expect(await failed).toMatchObject({ error: { name: 'ResourceInUseException' } });
    await clock.advance(0);
    expect(settled).toBe(false);
    for (;;) {
      const status = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'new' }))).StreamDescriptionSummary!.StreamStatus;
      if (status === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await clock.advance(1_000);
    await updated;
    await ready;
    await producer.flush();
    await expect(put).resolves.toMatchObject({ successful: true });
  });

  it('waits out errors a retry can fix (throttling, 5xx), then resolves', async () => {
    const { clock, producer, next } = await start('s', {
      faults: { rules: [{ operation: 'ListShards', errorRate: 1, errorCode: 'InternalFailure', statusCode: 500, maxCount: 2 }] },
    });
    let settled = false;
    const ready = producer.ready().finally(() => (settled = true));
    await next('shardMapRefreshFailed');
    const secondFailure = next('shardMapRefreshFailed');
    await clock.advance(1_000);
    await secondFailure;
    expect(settled).toBe(false);
    await clock.advance(1_500);
    await ready;
  });

  it('rejects with ProducerClosedError as soon as close() is called, not once outstanding records have settled', async () => {
    const { clock, producer, next } = await start('s', {
      faults: { rules: [{ operation: 'ListShards', errorRate: 1, errorCode: 'InternalFailure', statusCode: 500 }] },
    }, { strictOrdering: true, recordTtl: 30_000 });
    const put = producer.put({ partitionKey: 'k', data: 'waits for the map' }).catch((e: unknown) => e);
    const ready = producer.ready().catch((e: unknown) => e);
    await next('shardMapRefreshFailed');
    let closed = false;
    const closing = producer.close().finally(() => (closed = true));
    expect(await ready).toMatchObject({ code: ProducerErrorCode.PRODUCER_CLOSED, message: expect.stringMatching(/closed before the shard map was known/) });
    await expect(producer.ready()).rejects.toBeInstanceOf(ProducerClosedError);
    expect(closed).toBe(false); // the strict record still waits for the map, up to recordTtl
    await clock.advance(30_000);
    await closing;
    expect(await put).toMatchObject({ code: 'RECORD_EXPIRED' });
  });

  it('rejects with the signal reason when aborted, leaving other waits alone', async () => {
    const { producer, next } = await start('s', {
      faults: { rules: [{ operation: 'ListShards', errorRate: 1, errorCode: 'InternalFailure', statusCode: 500 }] },
    });
    const controller = new AbortController();
    const aborted = producer.ready({ signal: controller.signal }).catch((e: unknown) => e);
    const other = producer.ready().catch((e: unknown) => e);
    await next('shardMapRefreshFailed');
    controller.abort(new Error('gave up'));
    expect(await aborted).toMatchObject({ message: 'gave up' });
    await expect(producer.ready({ signal: AbortSignal.timeout(0) })).rejects.toMatchObject({ name: 'TimeoutError' });
    await producer.close();
    expect(await other).toBeInstanceOf(ProducerClosedError); // closed before the map was known
    await expect(producer.ready()).rejects.toBeInstanceOf(ProducerClosedError);
  });
});
