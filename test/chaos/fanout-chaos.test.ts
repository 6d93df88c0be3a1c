/**
 * Chaos: an enhanced fan-out consumer on the mock while a producer writes
 * keyed records, with a seeded schedule of broken subscriptions: ended with an exception frame, dropped
 * connections, a stalled subscription (initial-response, then silence: the watchdog must renew it) and
 * takeovers by another subscriber of the same consumer ARN, so the consumer's next SubscribeToShard is
 * refused with ResourceInUseException. Checks every acknowledged record processed at least once, per-key
 * order of first deliveries, and no open handle after stop. Runs twice: with the client the consumer
 * builds (FanOutRequestHandler: SubscribeToShard over HTTP/2, the rest over HTTP/1.1) and with the
 * SDK's default client (HTTP/2 for everything).
 *
 * Seeded (CHAOS_SEED) and profiled (CHAOS_PROFILE=long); prints its seed and a summary table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListShardsCommand, SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { FanOutRequestHandler, KinesisConsumer, type RetrievalErrorInfo } from '@kinesis-kit/consumer';
import { activeResources, InMemoryMetricsSink, leakedResources, seededRandom } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosSeed, isLongProfile, printChaosReport } from './chaos-report.js';
import { Deliveries } from '../../packages/consumer/test/consumer/harness.js';
import { sleep, waitFor } from './wait.js';

const LONG = isLongProfile();
const SEED = chaosSeed(20261130);
const STREAM = 'chaos-fanout';
const PROFILE = LONG
  ? { shards: 4, keys: 40, waves: 600, waveGapMs: 50, actions: 80, deliveryBoundMs: 180_000 }
  : { shards: 2, keys: 20, waves: 80, waveGapMs: 50, actions: 8, deliveryBoundMs: 60_000 };
const MOCK_COOLDOWN_MS = 300; // the mock's "5-second rule", shortened
const CONSUMER_COOLDOWN_MS = 100; // the consumer's spacing of subscriptions: shorter, so a takeover makes it hit ResourceInUse
const SUBSCRIPTION_DURATION_MS = 1_000; // subscriptions end (cleanly) this often
const IDLE_TIMEOUT_MS = 600; // watchdog; the mock's heartbeat (200 ms) keeps healthy subscriptions well inside it

type Action = 'error-frame' | 'abort' | 'stall' | 'resource-in-use';
const ACTIONS: Action[] = ['error-frame', 'abort', 'stall', 'resource-in-use'];

let server: MockServer | undefined;
let kinesis: KinesisClient | undefined;
let dynamoDb: DynamoDBClient | undefined;
let consumer: KinesisConsumer | undefined;
let producer: KinesisProducer | undefined;

afterEach(async () => {
  await producer?.close().catch(() => undefined);
  await consumer?.stop({ timeoutMillis: 2_000 }).catch(() => undefined);
  kinesis?.destroy();
  dynamoDb?.destroy();
  await server?.close();
  server = kinesis = dynamoDb = consumer = producer = undefined;
});

/** The seeded schedule: which wave each action follows. Every kind appears at least once. */
function schedule(random: () => number): Map<number, Action[]> {
  const kinds: Action[] = [...ACTIONS];
  while (kinds.length < PROFILE.actions) kinds.push(ACTIONS[Math.floor(random() * ACTIONS.length)]!);
  const plan = new Map<number, Action[]>();
  for (const kind of kinds) {
    const wave = 5 + Math.floor(random() * (PROFILE.waves - 10));
    plan.set(wave, [...(plan.get(wave) ?? []), kind]);
  }
  return plan;
}

const CLIENTS = [
  { name: "the consumer's FanOutRequestHandler", requestHandler: () => ({ requestHandler: new FanOutRequestHandler() }) },
  { name: "the SDK's default HTTP/2 handler", requestHandler: () => ({}) },
];

for (const { name, requestHandler } of CLIENTS) describe(`fan-out chaos (mock, ${name})`, () => {
  it(
    'processes every acknowledged record at least once, in per-key order, through broken, stalled and taken-over subscriptions',
    async () => {
      const before = activeResources();
      const random = seededRandom(SEED);
      server = await startMockServer({
        streams: [{ name: STREAM, shardCount: PROFILE.shards }],
        seed: SEED,
        subscribeCooldownMs: MOCK_COOLDOWN_MS,
        subscriptionDurationMs: SUBSCRIPTION_DURATION_MS,
        subscriptionHeartbeatMs: 200,
      });
      kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1, ...requestHandler() });
      dynamoDb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1 });
      const shardIds = ((await kinesis.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? []).map((s) => s.ShardId!);

      const deliveries = new Deliveries();
      const metrics = new InMemoryMetricsSink();
      const errors: RetrievalErrorInfo[] = [];
      consumer = new KinesisConsumer({
        applicationName: 'chaos-fan-app',
        streamName: STREAM,
        kinesisClient: kinesis,
        dynamoDbClient: dynamoDb,
        workerId: 'chaos-worker',
        initialPosition: 'TRIM_HORIZON',
        leaseManagement: { failoverTimeMillis: 1_500, takerInitialJitterMillis: 50, fastTakerIntervalMillis: 200 },
        metrics,
        retrieval: { mode: 'fanout', subscribeCooldownMillis: CONSUMER_COOLDOWN_MS, subscriptionIdleTimeoutMillis: IDLE_TIMEOUT_MS },
        eachBatch: ({ records }) => deliveries.add(records),
      });
      consumer.on('retrievalError', (e) => void errors.push(e));
      await consumer.start();
      const consumerArn = consumer.streamConsumerArn!;
      expect(consumerArn).toBeTruthy();

      /** Time since the last successful SubscribeToShard of the consumer on a shard (the mock's view). */
      const mockConsumer = server.engine.findConsumer({ consumerArn });
      const subscriptionAge = (shardId: string): number => server!.engine.clock.now() - (mockConsumer.lastSubscribeMs.get(shardId) ?? Number.NEGATIVE_INFINITY);

      /** Subscribes with the consumer's ARN (taking the shard over), then drops that subscription at once. */
      const takeOver = async (shardId: string): Promise<boolean> => {
        for (let attempt = 0; attempt < 40; attempt++) {
          const ours = new AbortController();
          try {
            const out = await kinesis!.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: { Type: 'LATEST' } }), {
              abortSignal: ours.signal,
            });
            const drain = (async () => {
              for await (const _event of out.EventStream ?? []) {
                /* discard */
              }
            })().catch(() => undefined);
            ours.abort();
            await drain;
            return true;
          } catch (err) {
            if ((err as Error).name !== 'ResourceInUseException') throw err;
            await sleep(MOCK_COOLDOWN_MS / 4);
          }
        }
        return false;
      };

      const done: Record<Action, number> = { 'error-frame': 0, abort: 0, stall: 0, 'resource-in-use': 0 };
      let takeoversRefused = 0;
      let stallsUnseen = 0;
      let stallRules = 0;
      let endedByError = 0;
      let dropped = 0;
      const act = async (kind: Action): Promise<void> => {
        const shardId = shardIds[Math.floor(random() * shardIds.length)]!;
        switch (kind) {
          case 'error-frame':
            // Bounded wait for live subscriptions (the consumer may be backing off from the previous action).
            await waitFor(() => server!.activeSubscriptions > 0, 5_000);
            endedByError += server!.endSubscriptions({ error: 'InternalFailureException' });
            break;
          case 'abort':
            await waitFor(() => server!.activeSubscriptions > 0, 5_000);
            dropped += server!.endSubscriptions({ abort: true });
            break;
          case 'stall': {
            // The next SubscribeToShard gets initial-response and then nothing; ending one subscription makes the
            // next call come at once. Then wait (bounded) for the watchdog to renew the stalled subscription. The
            // rule counts refused calls too (a natural renewal can make the next call hit the mock's cooldown), so
            // the rule is set again, up to 3 times, until a stall is seen.
            const renewals = metrics.get('SubscriptionIdleTimeout').sum;
            let seen = false;
            for (let attempt = 0; attempt < 3 && !seen; attempt++) {
              await waitFor(() => server!.activeSubscriptions >= shardIds.length, 5_000);
              // Past the mock's cooldown and not about to end by itself (bounded: it is only a better moment).
              await waitFor(() => {
                const age = subscriptionAge(shardId);
                return age >= MOCK_COOLDOWN_MS + 50 && age <= SUBSCRIPTION_DURATION_MS - 200;
              }, 3_000);
              stallRules++;
              server!.setFaults({ seed: SEED, rules: [{ operation: 'SubscribeToShard', stall: true, maxCount: 1 }] });
              server!.endSubscriptions({ shardId });
              seen = await waitFor(() => metrics.get('SubscriptionIdleTimeout').sum > renewals, 3_000);
            }
            if (!seen) stallsUnseen++;
            break;
          }
          case 'resource-in-use':
            // Wait (bounded) until the consumer holds every subscription, so it resubscribes right after the takeover.
            await waitFor(() => server!.activeSubscriptions >= shardIds.length, 5_000);
            if (!(await takeOver(shardId))) takeoversRefused++;
            break;
        }
        done[kind]++;
      };

      producer = new KinesisProducer({ streamName: STREAM, ...server.clientConfig(), strictOrdering: true, recordMaxBufferedTime: 20, metricsLevel: 'none' });
      const plan = schedule(random);
      const puts: Promise<unknown>[] = [];
      const acknowledged: { key: string; n: number }[] = [];
      let putFailures = 0;
      for (let n = 0; n < PROFILE.waves; n++) {
        for (let k = 0; k < PROFILE.keys; k++) {
          const key = `key-${k}`;
          puts.push(
            producer.put({ partitionKey: key, data: `${key}#${n}` }).then(
              () => void acknowledged.push({ key, n }),
              () => void putFailures++,
            ),
          );
        }
        for (const kind of plan.get(n) ?? []) await act(kind);
        await sleep(PROFILE.waveGapMs);
      }
      await Promise.all(puts);
      await producer.close();
      producer = undefined;

      const delivered = await waitFor(() => acknowledged.every(({ key, n }) => deliveries.has(key, n)), PROFILE.deliveryBoundMs);
      const missing = acknowledged.filter(({ key, n }) => !deliveries.has(key, n)).map(({ key, n }) => `${key}#${n}`);
      const violations = deliveries.orderViolations();
      const resourceInUse = errors.filter((e) => e.error.name === 'ResourceInUseException').length;
      const idleTimeouts = metrics.get('SubscriptionIdleTimeout').sum;
      const errorKinds = new Map<string, number>();
      for (const e of errors) errorKinds.set(`${e.kind}: ${e.error.name}`, (errorKinds.get(`${e.kind}: ${e.error.name}`) ?? 0) + 1);

      await consumer.stop();
      consumer = undefined;
      kinesis.destroy();
      dynamoDb.destroy();
      await server.close();
      server = kinesis = dynamoDb = undefined;
      const leaked = await leakedResources(before);

      const errorRows: Record<string, number> = {};
      for (const [k, v] of [...errorKinds].sort()) errorRows[`retrieval errors, ${k}`] = v;
      printChaosReport(`fan-out chaos, ${name}`, SEED, {
        'shards / keys / records put': `${PROFILE.shards} / ${PROFILE.keys} / ${PROFILE.waves * PROFILE.keys}`,
        'acknowledged / put failures': `${acknowledged.length} / ${putFailures}`,
        'delivered (total / distinct)': `${deliveries.total} / ${deliveries.unique}`,
        redeliveries: deliveries.total - deliveries.unique,
        'chaos: InternalFailureException frames (subscriptions)': `${done['error-frame']} (${endedByError})`,
        'chaos: connection drops (subscriptions)': `${done.abort} (${dropped})`,
        'chaos: stalls (stall rules set)': `${done.stall} (${stallRules})`,
        'chaos: takeovers (ResourceInUse setups)': done['resource-in-use'],
        'takeovers refused 40 times (skipped)': takeoversRefused,
        'consumer saw ResourceInUseException': resourceInUse,
        'watchdog renewals (SubscriptionIdleTimeout)': idleTimeouts,
        'stalls without a watchdog renewal': stallsUnseen,
        ...errorRows,
        missing: missing.length,
        'per-key order violations': violations.length,
        'leaked handles after stop': Object.keys(leaked).length === 0 ? 'none' : JSON.stringify(leaked),
      });

      expect(putFailures).toBe(0);
      expect(acknowledged.length).toBe(PROFILE.waves * PROFILE.keys);
      expect({ delivered, missing: missing.slice(0, 10) }).toEqual({ delivered: true, missing: [] });
      expect(violations.slice(0, 10)).toEqual([]);
      expect(leaked).toEqual({});
      // The chaos reached the consumer.
      expect(done['resource-in-use']).toBeGreaterThan(0);
      expect(resourceInUse).toBeGreaterThan(0);
      expect(idleTimeouts).toBeGreaterThan(0);
      expect(stallsUnseen).toBe(0);
      expect(endedByError).toBeGreaterThan(0);
      expect(errors.filter((e) => e.error.name === 'InternalFailureException').length).toBeGreaterThan(0);
      expect(dropped).toBeGreaterThan(0);
      expect(errors.filter((e) => e.kind === 'network').length).toBeGreaterThan(0);
    },
    PROFILE.deliveryBoundMs + 120_000,
  );
});
