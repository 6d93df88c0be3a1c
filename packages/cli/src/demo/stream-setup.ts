import {
  CreateStreamCommand,
  DeleteStreamCommand,
  ListShardsCommand,
  SplitShardCommand,
  waitUntilStreamExists,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Creates the stream (if it is not there) and waits until it is ACTIVE. */
export async function ensureStream(kinesis: KinesisClient, streamName: string, shardCount: number, signal: AbortSignal): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }), { abortSignal: signal });
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 300, minDelay: 1, maxDelay: 5, abortSignal: signal }, { StreamName: streamName });
}

export async function listOpenShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await kinesis.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }));
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
}

/** Splits the open shard with the widest hash range at its midpoint; returns the parent's id. */
export async function splitWidestShard(kinesis: KinesisClient, streamName: string): Promise<string> {
  const width = (s: Shard): bigint => BigInt(s.HashKeyRange?.EndingHashKey ?? '0') - BigInt(s.HashKeyRange?.StartingHashKey ?? '0');
  const open = await listOpenShards(kinesis, streamName);
  const widest = open.reduce((a, b) => (width(b) > width(a) ? b : a));
  const start = BigInt(widest.HashKeyRange?.StartingHashKey ?? '0');
  const midpoint = start + width(widest) / 2n + 1n;
  await kinesis.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: widest.ShardId, NewStartingHashKey: midpoint.toString() }));
  return widest.ShardId ?? '';
}

/** Removes what the demo created on an external endpoint. */
export async function deleteDemoResources(kinesis: KinesisClient, dynamodb: DynamoDBClient, streamName: string, tableName: string): Promise<void> {
  await Promise.allSettled([
    kinesis.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true })),
    dynamodb.send(new DeleteTableCommand({ TableName: tableName })),
  ]);
}
