import { DescribeStreamConsumerCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { abortReason, classifyAwsError, parseStreamConsumerArn, untilAborted, type Clock, type Logger } from '@kinesis-kit/core';
import { FanOutConsumerNotFoundError, ShardListingError, type FanOutConsumerState } from '../errors.js';
import { ShardLister, type ShardInfo } from '../shards/shard-lister.js';

/**
 * What a ResourceNotFoundException from SubscribeToShard means. The service answers it for a
 * missing stream, a missing shard, and a missing stream consumer alike, and only the first two are
 * the shard's end: a deregistered consumer on a live stream must not turn an open shard into
 * SHARD_END (everything written to it later would be skipped for good). So before a subscription's
 * ResourceNotFound is taken for the shard's end, the stream, the shard and the consumer are looked
 * up: DescribeStreamSummary, ListShards (ShardLister) and DescribeStreamConsumer by name.
 */

/** What to do about a subscription's ResourceNotFoundException. */
export type NotFoundVerdict =
  /** The shard's end: the stream is deleted (or was deleted and created again), or the shard is no longer listed, or it is closed and the consumer is fine. */
  | { action: 'shard-end'; reason: 'stream-deleted' | 'stream-recreated' | 'shard-gone' | 'shard-closed' }
  /** The consumer is missing: report `error`, back off, subscribe again. */
  | { action: 'retry'; reason: 'consumer-missing'; error: FanOutConsumerNotFoundError }
  /** A consumer of the same name is ACTIVE under a new ARN: subscribe with it. */
  | { action: 'resubscribe'; consumerArn: string }
  /** Nothing explains it, or the checks failed: not the shard's end until confirmed; back off and subscribe again. */
  | { action: 'retry'; reason: 'unconfirmed'; detail: string; cause?: unknown };

export interface NotFoundCheckContext {
  kinesis: KinesisClient;
  /** The ARN the failed subscription used. */
  consumerArn: string;
  /** The ARN the fetcher started with: a stream created after this consumer is another stream of the same name. */
  originalConsumerArn: string;
  shardId: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
}

/** The stream, its shards and the consumer of that name, as one lookup saw them. */
interface StreamConsumerView {
  streamArn: string;
  consumerName: string;
  stream: 'deleted' | { createdAtSeconds: number | undefined };
  shards?: ShardInfo[];
  /** 'absent': DescribeStreamConsumer answered ResourceNotFound. */
  consumer?: 'absent' | { arn: string; status: string };
}

/**
 * A lookup is shared by the fetchers of every shard that lost its subscription together (one
 * deregistered consumer cuts all of them at once), and reused for this long: DescribeStreamSummary
 * and DescribeStreamConsumer allow about 20 calls a second (per account, per stream).
 */
export const NOT_FOUND_VIEW_TTL_MS = 2_000;

interface CachedView {
  promise: Promise<StreamConsumerView>;
  settledAt?: number;
}
const views = new WeakMap<KinesisClient, Map<string, CachedView>>();

/**
 * Decides whether a subscription's ResourceNotFoundException is the shard's end. Rejects only
 * when `signal` aborts; a lookup that fails is 'unconfirmed' (retried, never taken for the end).
 */
export async function checkSubscriptionNotFound(ctx: NotFoundCheckContext, signal: AbortSignal): Promise<NotFoundVerdict> {
  const parsed = parseStreamConsumerArn(ctx.consumerArn);
  if (!parsed) return { action: 'retry', reason: 'unconfirmed', detail: `cannot tell the stream of consumer ARN ${ctx.consumerArn}` };
  let view: StreamConsumerView;
  try {
    view = await sharedView(ctx, parsed, signal);
  } catch (err) {
    if (signal.aborted) throw abortReason(signal);
    return { action: 'retry', reason: 'unconfirmed', detail: 'the stream, shard and consumer could not be looked up', cause: err };
  }
  return verdict(ctx, view);
}

function verdict(ctx: NotFoundCheckContext, view: StreamConsumerView): NotFoundVerdict {
  if (view.stream === 'deleted') return { action: 'shard-end', reason: 'stream-deleted' };
  // A consumer is never older than its stream: a newer stream is another one under the same name (and ARN).
  const original = parseStreamConsumerArn(ctx.originalConsumerArn);
  const streamCreated = view.stream.createdAtSeconds;
  if (original && streamCreated !== undefined && streamCreated > original.createdAtSeconds) return { action: 'shard-end', reason: 'stream-recreated' };
  const shard = view.shards?.find((s) => s.shardId === ctx.shardId);
  if (!shard) return { action: 'shard-end', reason: 'shard-gone' };
  const consumer = view.consumer;
  const missing = (state: FanOutConsumerState): NotFoundVerdict => ({
    action: 'retry',
    reason: 'consumer-missing',
    error: new FanOutConsumerNotFoundError(view.streamArn, ctx.consumerArn, view.consumerName, state, ctx.shardId),
  });
  if (consumer === undefined || consumer === 'absent') return missing('absent');
  if (consumer.status === 'DELETING') return missing('DELETING');
  if (consumer.status !== 'ACTIVE') return missing('CREATING');
  if (consumer.arn !== ctx.consumerArn) return { action: 'resubscribe', consumerArn: consumer.arn };
  // Our consumer is there, so the shard itself was not found. A closed shard can be at its end; an open one cannot.
  if (shard.endingSequenceNumber !== undefined) return { action: 'shard-end', reason: 'shard-closed' };
  return { action: 'retry', reason: 'unconfirmed', detail: `shard ${ctx.shardId} is open and consumer ${ctx.consumerArn} is ACTIVE` };
}

/** The view of `ctx.consumerArn`: one in flight or settled under NOT_FOUND_VIEW_TTL_MS ago, else a new lookup. */
function sharedView(ctx: NotFoundCheckContext, parsed: { streamArn: string; consumerName: string }, signal: AbortSignal): Promise<StreamConsumerView> {
  let byArn = views.get(ctx.kinesis);
  if (!byArn) views.set(ctx.kinesis, (byArn = new Map<string, CachedView>()));
  const now = ctx.clock.monotonic();
  for (const [arn, cached] of byArn) if (cached.settledAt !== undefined && now - cached.settledAt >= NOT_FOUND_VIEW_TTL_MS) byArn.delete(arn);
  let cached = byArn.get(ctx.consumerArn);
  if (!cached) {
    const entry: CachedView = { promise: lookUp(ctx, parsed, signal) };
    const map = byArn;
    entry.promise.then(
      () => void (entry.settledAt = ctx.clock.monotonic()),
      () => void (map.get(ctx.consumerArn) === entry && map.delete(ctx.consumerArn)),
    );
    map.set(ctx.consumerArn, entry);
    cached = entry;
  }
  return untilAborted(cached.promise, signal);
}

/** DescribeStreamSummary, then ListShards, then DescribeStreamConsumer by name (stopping early when the stream is gone). */
async function lookUp(ctx: NotFoundCheckContext, parsed: { streamArn: string; consumerName: string }, signal: AbortSignal): Promise<StreamConsumerView> {
  const { kinesis } = ctx;
  const { streamArn, consumerName } = parsed;
  const view: StreamConsumerView = { streamArn, consumerName, stream: 'deleted' };
  try {
    const summary = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamARN: streamArn }), { abortSignal: signal })).StreamDescriptionSummary;
    if (summary?.StreamStatus === 'DELETING') return view;
    const created = summary?.StreamCreationTimestamp;
    view.stream = { createdAtSeconds: created ? Math.floor(created.getTime() / 1000) : undefined };
  } catch (err) {
    if (classifyAwsError(err).code === 'ResourceNotFoundException') return view;
    throw err;
  }
  const lister = new ShardLister({ kinesis, stream: { StreamARN: streamArn }, clock: ctx.clock, random: ctx.random, logger: ctx.logger, maxAttempts: 3 });
  try {
    view.shards = await lister.list(undefined, signal);
  } catch (err) {
    if (err instanceof ShardListingError && err.awsErrorCode === 'ResourceNotFoundException') {
      view.stream = 'deleted';
      return view;
    }
    throw err;
  }
  try {
    const c = (await kinesis.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }), { abortSignal: signal }))
      .ConsumerDescription;
    view.consumer = c?.ConsumerARN && c.ConsumerStatus ? { arn: c.ConsumerARN, status: c.ConsumerStatus } : 'absent';
  } catch (err) {
    if (classifyAwsError(err).code !== 'ResourceNotFoundException') throw err;
    view.consumer = 'absent';
  }
  return view;
}
