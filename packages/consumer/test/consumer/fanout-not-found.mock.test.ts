/**
 * checkSubscriptionNotFound against the mock over HTTP: what a ResourceNotFoundException from
 * SubscribeToShard is taken for, from DescribeStreamSummary, ListShards and DescribeStreamConsumer.
 */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DeregisterStreamConsumerCommand,
  KinesisClient,
  ListShardsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { parseStreamConsumerArn, silentLogger, systemClock } from '@kinesis-kit/core';
import { startMockServer, type MockServer, type MockServerOptions } from '@kinesis-kit/mock';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSubscriptionNotFound, type NotFoundVerdict } from '../../src/retrieval/fanout-not-found.js';
import { until } from './harness.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/fan';
const SHARD = 'shardId-000000000000';

let server: MockServer | undefined;
let kinesis: KinesisClient | undefined;
afterEach(async () => {
  kinesis?.destroy();
  await server?.close();
  server = kinesis = undefined;
});

async function setup(options: MockServerOptions = {}): Promise<string> {
  server = await startMockServer({ streams: [{ name: 'fan', shardCount: 1 }], ...options });
  kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
  return register();
}

async function register(): Promise<string> {
  return (await kinesis!.send(new RegisterStreamConsumerCommand({ StreamARN: STREAM_ARN, ConsumerName: 'app' }))).Consumer!.ConsumerARN!;
}

/** A check with a client of its own: lookups are shared per client for a moment, and each check here must see the present. */
async function check(consumerArn: string, shardId = SHARD, originalConsumerArn = consumerArn): Promise<NotFoundVerdict> {
  const client = new KinesisClient({ ...server!.clientConfig(), maxAttempts: 1 });
  try {
    return await checkSubscriptionNotFound(
      { kinesis: client, consumerArn, originalConsumerArn, shardId, clock: systemClock, random: Math.random, logger: silentLogger },
      new AbortController().signal,
    );
  } finally {
    client.destroy();
  }
}

async function laterSecondThan(arn: string): Promise<void> {
  const second = parseStreamConsumerArn(arn)!.createdAtSeconds;
  await until(() => Math.floor(Date.now() / 1000) > second, 'the next second', 3_000);
}

describe('checkSubscriptionNotFound', () => {
  it('consumer deregistered, shard open: retry with a retriable FanOutConsumerNotFoundError, never the shard end', async () => {
    const arn = await setup();
    await kinesis!.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    const verdict = await check(arn);
    expect(verdict).toMatchObject({ action: 'retry', reason: 'consumer-missing' });
    const error = (verdict as { error: Error }).error;
    expect(error).toMatchObject({ name: 'FanOutConsumerNotFoundError', code: 'FANOUT_CONSUMER_NOT_FOUND', retriable: true, consumerState: 'absent', consumerName: 'app', stream: STREAM_ARN, shardId: SHARD });
    expect(error.message).toContain('was deregistered');
  });

  it('consumer DELETING or registered again and still CREATING: retry', async () => {
    const arn = await setup({ consumerActivationDelayMs: 60_000 });
    expect(await check(arn)).toMatchObject({ action: 'retry', reason: 'consumer-missing', error: { consumerState: 'CREATING' } });
    await kinesis!.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    expect(await check(arn)).toMatchObject({ action: 'retry', reason: 'consumer-missing', error: { consumerState: 'DELETING' } });
  });

  it('consumer registered again under a new ARN and ACTIVE: resubscribe with it', async () => {
    const arn = await setup();
    await kinesis!.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    await laterSecondThan(arn);
    const again = await register();
    expect(again).not.toBe(arn);
    expect(await check(arn)).toEqual({ action: 'resubscribe', consumerArn: again });
  });

  it('consumer ACTIVE and the shard open: unconfirmed, retried', async () => {
    const arn = await setup();
    expect(await check(arn)).toMatchObject({ action: 'retry', reason: 'unconfirmed' });
  });

  it('a closed shard: its end when the consumer is fine, a retry when the consumer is missing (its rest is unread)', async () => {
    const arn = await setup();
    const parent = (await kinesis!.send(new ListShardsCommand({ StreamName: 'fan' }))).Shards![0]!;
    await kinesis!.send(new SplitShardCommand({ StreamName: 'fan', ShardToSplit: SHARD, NewStartingHashKey: (BigInt(parent.HashKeyRange!.EndingHashKey!) / 2n).toString() }));
    expect(await check(arn)).toEqual({ action: 'shard-end', reason: 'shard-closed' });
    await kinesis!.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    expect(await check(arn)).toMatchObject({ action: 'retry', reason: 'consumer-missing' });
  });

  it('a shard not listed: its end', async () => {
    const arn = await setup();
    expect(await check(arn, 'shardId-000000000099')).toEqual({ action: 'shard-end', reason: 'shard-gone' });
  });

  it('a deleted stream: the shard end; a stream of the same name created after the consumer: the shard end too', async () => {
    const arn = await setup();
    await kinesis!.send(new DeleteStreamCommand({ StreamName: 'fan', EnforceConsumerDeletion: true }));
    expect(await check(arn)).toEqual({ action: 'shard-end', reason: 'stream-deleted' });
    await laterSecondThan(arn);
    await kinesis!.send(new CreateStreamCommand({ StreamName: 'fan', ShardCount: 1 }));
    expect(await check(arn)).toEqual({ action: 'shard-end', reason: 'stream-recreated' });
  });

  it('a lookup that fails is unconfirmed (retried), never the shard end', async () => {
    const arn = await setup({ faults: { rules: [{ operation: 'DescribeStreamSummary', errorRate: 1, errorCode: 'LimitExceededException', statusCode: 400 }] } });
    await kinesis!.send(new DeregisterStreamConsumerCommand({ ConsumerARN: arn }));
    expect(await check(arn)).toMatchObject({ action: 'retry', reason: 'unconfirmed', cause: { name: 'LimitExceededException' } });
  });
});
