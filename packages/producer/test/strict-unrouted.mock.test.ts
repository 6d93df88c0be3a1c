import { ManualClock } from '@kinesis-kit/core';
import type { MockServerOptions } from '@kinesis-kit/mock';
import { describe, expect, it } from 'vitest';
import { KinesisProducer, ProducerErrorCode, UserRecordFailedError, type ProducerSettings } from '../src/index.js';
import { useMockPerTest } from './helpers.js';

// strictOrdering holds records until the shard map is known. recordTtl still ends them (as the rate
// limiter does), so put() and close() cannot hang on a ListShards that keeps failing; a permanent
// ListShards error fails them at once, as the PutRecords a non-strict producer sends would.
// The producer runs on a ManualClock; the mock server answers in real time.

const mock = useMockPerTest();

async function start({ streamName = 's', ...options }: Partial<ProducerSettings> & { streamName?: string }, mockOptions: MockServerOptions = {}) {
  const { server, client } = await mock.start({ streams: [{ name: 's', shardCount: 1 }], ...mockOptions });
  const clock = new ManualClock();
  const producer = new KinesisProducer({ streamName, kinesisClient: client, clock, strictOrdering: true, ...options });
  mock.track(producer);
  return { clock, producer, server };
}

/** The outcome of a put() so far: 'pending', 'written', or the error it rejected with. */
function outcome(p: Promise<unknown>): { value: unknown } {
  const o: { value: unknown } = { value: 'pending' };
  p.then(
    () => (o.value = 'written'),
    (e: unknown) => (o.value = e),
  );
  return o;
}

describe('strictOrdering: records waiting for the shard map', () => {
  it('expire at recordTtl while ListShards keeps failing, and close() then returns with no timer left', async () => {
    const { clock, producer } = await start({ recordTtl: 500 }, { faults: { rules: [{ operation: 'ListShards', errorRate: 1, errorCode: 'InternalFailure', statusCode: 500 }] } });
    const failedOnce = new Promise<void>((resolve) => producer.on('shardMapRefreshFailed', () => resolve()));
    const first = outcome(producer.put({ partitionKey: 'k', data: '1' }));
    await clock.advance(200);
    const second = outcome(producer.put({ partitionKey: 'k', data: '2' }));
    const closing = producer.close();
    await failedOnce;
    await clock.advance(299);
    expect(first.value).toBe('pending');
    await clock.advance(1);
    expect(first.value).toBeInstanceOf(UserRecordFailedError);
    expect(first.value).toMatchObject({ code: ProducerErrorCode.RECORD_EXPIRED, awsErrorCode: 'Expired' });
    expect(second.value).toBe('pending');
    await clock.advance(200);
    expect(second.value).toMatchObject({ code: ProducerErrorCode.RECORD_EXPIRED });
    await closing;
    expect(producer.outstandingRecords).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fail at once on a permanent ListShards error (missing stream), as PutRecords would fail them; wait again after a failure a retry can fix', async () => {
    const { clock, producer, server } = await start({ streamName: 'missing' });
    const refreshFailed = new Promise<void>((resolve) => producer.on('shardMapRefreshFailed', () => resolve()));
    const early = outcome(producer.put({ partitionKey: 'k', data: '1' }));
    await refreshFailed;
    await clock.advance(0);
    expect(early.value).toBeInstanceOf(UserRecordFailedError);
    expect(early.value).toMatchObject({ code: ProducerErrorCode.RECORD_FAILED, awsErrorCode: 'ResourceNotFoundException' });
    // Until a refresh succeeds, later records fail at once too (no retry timer is advanced here).
    const late = outcome(producer.put({ partitionKey: 'k', data: '2' }));
    await clock.advance(0);
    expect(late.value).toMatchObject({ code: ProducerErrorCode.RECORD_FAILED, awsErrorCode: 'ResourceNotFoundException' });
    // A later ListShards failure a retry can fix (throttling): the old error may no longer hold, so records wait again.
    server.setFaults({ rules: [{ operation: 'ListShards', throttleRate: 1 }] });
    const throttled = new Promise<void>((resolve) => producer.on('shardMapRefreshFailed', () => resolve()));
    await clock.advance(1_000);
    await throttled;
    const afterThrottling = outcome(producer.put({ partitionKey: 'k', data: '3' }));
    await clock.advance(0);
    expect(afterThrottling.value).toBe('pending');
    await producer.close({ signal: AbortSignal.abort() });
  });
});
