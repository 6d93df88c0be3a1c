import type { KinesisEngine, StreamRef } from '../engine.js';
import type { ConsumerState, ShardState, StreamState } from '../model.js';
import type { Input} from './input.js';
import { STREAM_ARN_RULE, STREAM_NAME_RULE } from './input.js';

/** A validated SubscribeToShard request, for the server to turn into an event stream. */
export interface SubscriptionRequest {
  consumer: ConsumerState;
  stream: StreamState;
  shard: ShardState;
  /** Counter of the first record to push. */
  startCounter: number;
}

/** A response: an object to serialize, JSON text, JSON bytes, or an event stream to start. */
export type ApiResult = { json: unknown } | { raw: string } | { bytes: Buffer } | { subscription: SubscriptionRequest };

export interface ApiContext {
  engine: KinesisEngine;
  /** Fault injection: true fails this PutRecords entry with ProvisionedThroughputExceededException. */
  throttleEntry?: () => boolean;
}

export type Operation = (input: Input, ctx: ApiContext) => ApiResult;

export const epochSeconds = (ms: number): number => ms / 1000;

/** Reads StreamName / StreamARN (AWS accepts either on most operations). */
export function readStreamRef(input: Input): StreamRef {
  return { streamName: input.string('StreamName', STREAM_NAME_RULE), streamArn: input.string('StreamARN', STREAM_ARN_RULE) };
}

/**
 * A page-size member (ListShards MaxResults, DescribeStream Limit, ...): AWS accepts 1..10000 (more is a
 * ValidationException) but returns at most `cap` items, "If you specify a value greater than `cap`, at
 * most `cap` results are returned"; the cap is also the default.
 */
export function readPageSize(input: Input, key: string, cap: number): number {
  return Math.min(input.integer(key, { min: 1, max: 10_000 }) ?? cap, cap);
}

export const EMPTY: ApiResult = { raw: '{}' };
