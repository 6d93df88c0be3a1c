import { ManualClock } from '@kinesis-kit/core';
import type { MockServerOptions } from '@kinesis-kit/mock';
import { describe, expect, it } from 'vitest';
import { KinesisProducer, type ProducerSettings } from '../src/index.js';
import { logPutRecords, useMockPerTest } from './helpers.js';

// flush() and close() wait for every record through its retries (docs/producing.md, kpl.md §3.8
// flushSync). What becomes ready while they wait (a retry after its backoff, a container the rate
// limiter releases) must go out then, not at its recordMaxBufferedTime deadline: with that at or
// above recordTtl the record would expire unsent, and with both Infinity flush() would never return.
// The producer runs on a ManualClock; the mock server answers in real time.

const mock = useMockPerTest();

const ONE_500 = { rules: [{ operation: 'PutRecords', errorRate: 1, errorCode: 'InternalFailure', statusCode: 500, maxCount: 1 }] };

async function start(options: Partial<ProducerSettings>, mockOptions: MockServerOptions = {}) {
  const { client } = await mock.start({ streams: [{ name: 's', shardCount: 1 }], ...mockOptions });
  const clock = new ManualClock();
  const producer = new KinesisProducer({ streamName: 's', kinesisClient: client, clock, retryBaseDelay: 10, retryMaxDelay: 10, ...options });
  mock.track(producer);
  await producer.ready();
  return { clock, producer, sent: logPutRecords(client) };
}

describe('flush() and close() send what becomes ready while they wait', () => {
  it.each([
    ['flush()', 60_000, 3_000],
    ['close()', 60_000, 3_000],
    ['flush()', Infinity, Infinity],
    ['close()', Infinity, Infinity],
  ] as const)('%s: a record that failed once is sent again right after its backoff (recordMaxBufferedTime %s, recordTtl %s)', async (how, recordMaxBufferedTime, recordTtl) => {
    const { clock, producer, sent } = await start({ recordMaxBufferedTime, recordTtl }, { faults: ONE_500 });
    const result = producer.put({ partitionKey: 'k', data: 'v' });
    const backingOff = new Promise<void>((resolve) => producer.on('retrying', () => resolve()));
    const waiting = how === 'flush()' ? producer.flush() : producer.close();
    await backingOff; // the first request failed with a 500; the retry waits 5..10 ms
    expect(sent.requests).toBe(1);
    await clock.advance(10);
    // Sent at once, not when the buffering deadline (or the expiration) comes.
    expect(sent.requests).toBe(2);
    await waiting;
    expect((await result).attempts.map((a) => a.errorCode ?? 'ok')).toEqual(['InternalFailure', 'ok']);
    expect(producer.outstandingRecords).toBe(0);
  });

  it('flush(): containers the rate limiter releases after the call go out as released, not at their deadline', async () => {
    // rateLimit 100: the byte bucket holds 1 MiB and refills 1 MiB/s, so five records of 200 kB pass at
    // once and the other five follow about every 190 ms (the mock's own limits are off).
    const { clock, producer, sent } = await start({ rateLimit: 100, aggregationEnabled: false, recordMaxBufferedTime: 20_000, recordTtl: 60_000 }, { limits: false });
    const results = Promise.all(Array.from({ length: 10 }, (_, i) => producer.put({ partitionKey: `k${i}`, data: new Uint8Array(200_000) })));
    const flushed = producer.flush();
    await clock.advance(0);
    expect(sent.keys).toHaveLength(5);
    for (let t = 0; t < 1_000; t += 25) await clock.advance(25);
    expect(sent.keys).toHaveLength(10);
    await flushed;
    expect((await results).every((r) => r.successful)).toBe(true);
  });

});
