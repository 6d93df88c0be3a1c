/**
 * The 5-second rule: the service refuses a second SubscribeToShard for a shard and consumer within
 * 5 s of the one it accepted. The fetcher has to count from that acceptance, not from when its own
 * (perhaps slow) request left, or a retry lands inside the service's window and is refused.
 * Against the mock over HTTP, with the rule and a slow first call scaled down.
 */
import { RegisterStreamConsumerCommand } from '@aws-sdk/client-kinesis';
import { MemoryLogger, noopMetricsSink, systemClock } from '@kinesis-kit/core';
import { expect, it } from 'vitest';
import { FANOUT_DEFAULTS, FanOutFetcher, MetricsScope, type RetrievalErrorInfo } from '../../src/index.js';
import { produce, useBackendPerTest } from './harness.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/fan';
/** The rule on both sides, longer than the first call's latency plus the fetcher's longest first backoff (1 s). */
const COOLDOWN_MS = 2_500;
const FIRST_CALL_LATENCY_MS = 1_200;

const backends = useBackendPerTest();

it('a retry after an early stream failure waits out the 5-second rule as the service counts it, from the accepted call', async () => {
  const { server, kinesis } = await backends.start({
    streams: [{ name: 'fan', shardCount: 1 }],
    subscribeCooldownMs: COOLDOWN_MS,
    faults: { rules: [{ operation: 'SubscribeToShard', latencyMs: FIRST_CALL_LATENCY_MS, maxCount: 1 }] },
  });
  const consumerArn = (await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: STREAM_ARN, ConsumerName: 'tail' }))).Consumer!.ConsumerARN!;
  const errors: RetrievalErrorInfo[] = [];
  const fetcher = new FanOutFetcher({
    kinesis,
    consumerArn,
    shardId: 'shardId-000000000000',
    start: { type: 'TRIM_HORIZON' },
    options: { ...FANOUT_DEFAULTS, subscribeCooldownMillis: COOLDOWN_MS, subscriptionIdleTimeoutMillis: 20_000 },
    clock: systemClock,
    random: Math.random,
    logger: new MemoryLogger(),
    metrics: new MetricsScope(noopMetricsSink, systemClock, {}),
    onError: (e) => void errors.push(e),
  });
  const signal = AbortSignal.timeout(20_000);
  try {
    await produce({ kinesis }, 'fan', 1, 3);
    while ((await fetcher.next(signal)).records.length === 0); // the first subscription, accepted after its latency, is reading
    server.endSubscriptions({ error: 'InternalFailureException' }); // fails early
    await produce({ kinesis }, 'fan', 1, 3, 3);
    while ((await fetcher.next(signal)).records.length === 0); // read by the next subscription
    expect(errors.map((e) => e.error.name)).toEqual(['InternalFailureException']); // no ResourceInUseException
  } finally {
    await fetcher.close();
  }
});
