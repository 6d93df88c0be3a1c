import { invalidArgument, ServiceError, AwsErrorName } from '../errors.js';
import type { KinesisEngine } from '../engine.js';
import type { ShardState, StreamMode, StreamState } from '../model.js';
import { EMPTY, epochSeconds, readPageSize, readStreamRef, type ApiContext, type ApiResult } from './context.js';
import type { Input} from './input.js';
import { SHARD_ID_RULE, STREAM_ARN_RULE, STREAM_NAME_RULE, HASH_KEY_RULE } from './input.js';
import { parseExplicitHashKey } from '@kinesis-kit/aggregation';

const STREAM_MODES = ['PROVISIONED', 'ON_DEMAND'] as const;
const NEXT_TOKEN_TTL_MS = 300_000;
/** Items per page at most (see readPageSize). */
const LIST_SHARDS_PAGE_CAP = 1000;
const DESCRIBE_STREAM_PAGE_CAP = 100;
const LIST_STREAMS_PAGE_CAP = 100;
const SHARD_FILTER_TYPES = ['AFTER_SHARD_ID', 'AT_TRIM_HORIZON', 'FROM_TRIM_HORIZON', 'AT_LATEST', 'AT_TIMESTAMP', 'FROM_TIMESTAMP'] as const;
const SHARD_LEVEL_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
  'ALL',
] as const;

export function shardJson(shard: ShardState): Record<string, unknown> {
  return {
    ShardId: shard.shardId,
    ...(shard.parentShardId ? { ParentShardId: shard.parentShardId } : {}),
    ...(shard.adjacentParentShardId ? { AdjacentParentShardId: shard.adjacentParentShardId } : {}),
    HashKeyRange: { StartingHashKey: shard.rangeStrings.startingHashKey, EndingHashKey: shard.rangeStrings.endingHashKey },
    SequenceNumberRange: {
      StartingSequenceNumber: shard.startingSequenceNumber,
      ...(shard.open ? {} : { EndingSequenceNumber: shard.endingSequenceNumber }),
    },
  };
}

function enhancedMonitoring(stream: StreamState): { ShardLevelMetrics: string[] }[] {
  return [{ ShardLevelMetrics: [...stream.shardLevelMetrics] }];
}

function encryption(stream: StreamState): Record<string, unknown> {
  return { EncryptionType: stream.encryptionType, ...(stream.keyId ? { KeyId: stream.keyId } : {}) };
}

function describeHeader(stream: StreamState): Record<string, unknown> {
  return {
    StreamName: stream.name,
    StreamARN: stream.arn,
    StreamStatus: stream.status,
    StreamModeDetails: { StreamMode: stream.mode },
    RetentionPeriodHours: stream.retentionHours,
    StreamCreationTimestamp: epochSeconds(stream.createdAtMs),
    EnhancedMonitoring: enhancedMonitoring(stream),
    ...encryption(stream),
  };
}

export function createStream(input: Input, { engine }: ApiContext): ApiResult {
  const name = input.string('StreamName', { ...STREAM_NAME_RULE, required: true });
  const shardCount = input.integer('ShardCount', { min: 1, max: 100_000 });
  const modeInput = input.object('StreamModeDetails');
  const mode = (modeInput?.string('StreamMode', { required: true, values: STREAM_MODES }) ?? 'PROVISIONED') as StreamMode;
  const tags = input.stringMap('Tags');
  input.done();
  if (mode === 'ON_DEMAND' && shardCount !== undefined) throw invalidArgument('ShardCount must not be specified for ON_DEMAND streams.');
  engine.createStream(name, shardCount, mode, tags);
  return EMPTY;
}

export function deleteStream(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const enforce = input.boolean('EnforceConsumerDeletion') ?? false;
  input.done();
  engine.deleteStream(ref, enforce);
  return EMPTY;
}

export function describeStream(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const limit = readPageSize(input, 'Limit', DESCRIBE_STREAM_PAGE_CAP);
  const exclusiveStart = input.string('ExclusiveStartShardId', SHARD_ID_RULE);
  input.done();
  const stream = engine.findStream(ref);
  const all = stream.listedShards(engine.clock.now()).filter((s) => exclusiveStart === undefined || s.shardId > exclusiveStart);
  const page = all.slice(0, limit);
  return {
    json: {
      StreamDescription: { ...describeHeader(stream), Shards: page.map(shardJson), HasMoreShards: all.length > page.length },
    },
  };
}

export function describeStreamSummary(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  input.done();
  const stream = engine.findStream(ref);
  return {
    json: {
      StreamDescriptionSummary: {
        ...describeHeader(stream),
        OpenShardCount: stream.openShards.length,
        ConsumerCount: stream.consumers.size,
      },
    },
  };
}

export function listStreams(input: Input, { engine }: ApiContext): ApiResult {
  const limit = readPageSize(input, 'Limit', LIST_STREAMS_PAGE_CAP);
  const exclusiveStart = input.string('ExclusiveStartStreamName', STREAM_NAME_RULE);
  const nextToken = input.string('NextToken', { min: 1, max: 1048576 });
  input.done();
  let after = exclusiveStart;
  if (nextToken !== undefined) {
    const token = decodeToken(nextToken, engine);
    if (typeof token.after !== 'string') throw invalidArgument('NextToken is invalid.');
    after = token.after;
  }
  const names = [...engine.streams.keys()].sort().filter((n) => after === undefined || n > after);
  const page = names.slice(0, limit);
  const more = names.length > page.length;
  return {
    json: {
      StreamNames: page,
      HasMoreStreams: more,
      ...(more ? { NextToken: encodeToken({ after: page[page.length - 1] }, engine) } : {}),
      StreamSummaries: page.map((n) => {
        const s = engine.streams.get(n)!;
        return {
          StreamName: s.name,
          StreamARN: s.arn,
          StreamStatus: s.status,
          StreamModeDetails: { StreamMode: s.mode },
          StreamCreationTimestamp: epochSeconds(s.createdAtMs),
        };
      }),
    },
  };
}

interface ShardFilter {
  type: (typeof SHARD_FILTER_TYPES)[number];
  shardId?: string;
  timestampMs?: number;
}

/** Shards of `stream` matching a ListShards ShardFilter (AWS's definitions). */
function filterShards(stream: StreamState, shards: ShardState[], filter: ShardFilter | undefined, nowMs: number): ShardState[] {
  if (!filter) return shards;
  const trimHorizon = Math.max(nowMs - stream.retentionMs, stream.createdAtMs);
  // AT_TIMESTAMP: "start timestamp is less than or equal to the given timestamp and end timestamp is greater
  // than or equal to the given timestamp or still open", so a shard closed at T is open at T (it may hold
  // records that arrived at T). AT_TRIM_HORIZON ("open at TRIM_HORIZON") asks the same at the trim horizon,
  // where records that arrived exactly then are still retained.
  const openAt = (t: number) => (s: ShardState) => s.createdAtMs <= t && (s.open || s.closedAtMs! >= t);
  switch (filter.type) {
    case 'AFTER_SHARD_ID':
      return shards.filter((s) => s.shardId > filter.shardId!);
    case 'AT_TRIM_HORIZON':
      return shards.filter(openAt(trimHorizon));
    case 'FROM_TRIM_HORIZON':
      return shards;
    case 'AT_LATEST':
      return shards.filter((s) => s.open);
    case 'AT_TIMESTAMP':
      return shards.filter(openAt(Math.max(filter.timestampMs!, stream.createdAtMs)));
    case 'FROM_TIMESTAMP': {
      const t = Math.max(filter.timestampMs!, trimHorizon);
      return shards.filter((s) => s.open || s.closedAtMs! >= t);
    }
  }
}

export function listShards(input: Input, { engine }: ApiContext): ApiResult {
  const streamName = input.string('StreamName', STREAM_NAME_RULE);
  const streamArn = input.string('StreamARN', STREAM_ARN_RULE);
  const nextToken = input.string('NextToken', { min: 1, max: 1048576 });
  const exclusiveStart = input.string('ExclusiveStartShardId', SHARD_ID_RULE);
  const maxResults = readPageSize(input, 'MaxResults', LIST_SHARDS_PAGE_CAP);
  const creation = input.timestampMs('StreamCreationTimestamp');
  const filterInput = input.object('ShardFilter');
  let filter: ShardFilter | undefined;
  if (filterInput) {
    filter = {
      type: filterInput.string('Type', { required: true, values: SHARD_FILTER_TYPES }) as ShardFilter['type'],
      shardId: filterInput.string('ShardId', SHARD_ID_RULE),
      timestampMs: filterInput.timestampMs('Timestamp'),
    };
  }
  input.done();

  let after = exclusiveStart;
  let stream: StreamState;
  if (nextToken !== undefined) {
    if (streamName !== undefined) throw invalidArgument('NextToken and StreamName cannot be provided together.');
    if (exclusiveStart !== undefined) throw invalidArgument('NextToken and ExclusiveStartShardId cannot be provided together.');
    if (creation !== undefined) throw invalidArgument('NextToken and StreamCreationTimestamp cannot be provided together.');
    const token = decodeToken(nextToken, engine);
    if (typeof token.stream !== 'string' || typeof token.after !== 'string') throw invalidArgument('NextToken is invalid.');
    stream = engine.findStream({ streamName: token.stream, streamArn });
    if (stream.generation !== token.generation) throw invalidArgument('NextToken is invalid.');
    after = token.after;
    filter = token.filter as ShardFilter | undefined;
  } else {
    stream = engine.findStream({ streamName, streamArn });
    if (creation !== undefined && Math.floor(creation / 1000) !== Math.floor(stream.createdAtMs / 1000)) {
      throw resourceNotFoundForCreation(stream, engine);
    }
    if (filter?.type === 'AFTER_SHARD_ID' && filter.shardId === undefined) throw invalidArgument('ShardFilter type AFTER_SHARD_ID requires a ShardId.');
    if ((filter?.type === 'AT_TIMESTAMP' || filter?.type === 'FROM_TIMESTAMP') && filter.timestampMs === undefined) {
      throw invalidArgument(`ShardFilter type ${filter.type} requires a Timestamp.`);
    }
  }
  if (stream.status === 'CREATING') throw new ServiceError(AwsErrorName.RESOURCE_IN_USE, `Stream ${stream.name} under account ${engine.accountId} not ACTIVE, instead in state CREATING`);
  const now = engine.clock.now();
  const shards = filterShards(stream, stream.listedShards(now), filter, now).filter((s) => after === undefined || s.shardId > after);
  const page = shards.slice(0, maxResults);
  const more = shards.length > page.length;
  return {
    json: {
      Shards: page.map(shardJson),
      ...(more
        ? { NextToken: encodeToken({ stream: stream.name, generation: stream.generation, after: page[page.length - 1]!.shardId, filter }, engine) }
        : {}),
    },
  };
}

function resourceNotFoundForCreation(stream: StreamState, engine: KinesisEngine): ServiceError {
  return new ServiceError(AwsErrorName.RESOURCE_NOT_FOUND, `Stream ${stream.name} under account ${engine.accountId} with the given creation timestamp not found.`);
}

function encodeToken(payload: Record<string, unknown>, engine: KinesisEngine): string {
  return Buffer.from(JSON.stringify({ ...payload, issuedAt: engine.clock.now() })).toString('base64');
}

function decodeToken(token: string, engine: KinesisEngine): Record<string, unknown> {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidArgument('NextToken is invalid.');
  }
  if (payload === null || typeof payload !== 'object' || typeof payload.issuedAt !== 'number') throw invalidArgument('NextToken is invalid.');
  if (engine.clock.now() - payload.issuedAt > NEXT_TOKEN_TTL_MS) {
    throw new ServiceError(AwsErrorName.EXPIRED_NEXT_TOKEN, 'The NextToken has expired. Tokens expire after 300 seconds.');
  }
  return payload;
}

export function describeLimits(input: Input, { engine }: ApiContext): ApiResult {
  input.done();
  const finite = (n: number) => (Number.isFinite(n) ? n : 2_147_483_647);
  return {
    json: {
      ShardLimit: finite(engine.limits.shardLimit),
      OpenShardCount: engine.openShardCount(),
      OnDemandStreamCount: engine.onDemandStreamCount(),
      OnDemandStreamCountLimit: finite(engine.limits.onDemandStreamCountLimit),
    },
  };
}

export function updateStreamMode(input: Input, { engine }: ApiContext): ApiResult {
  const streamArn = input.string('StreamARN', { ...STREAM_ARN_RULE, required: true });
  const details = input.object('StreamModeDetails', { required: true });
  const mode = details?.string('StreamMode', { required: true, values: STREAM_MODES }) as StreamMode;
  input.done();
  engine.setStreamMode({ streamArn }, mode);
  return EMPTY;
}

export function splitShard(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const shardId = input.string('ShardToSplit', { ...SHARD_ID_RULE, required: true });
  const newStart = input.string('NewStartingHashKey', { ...HASH_KEY_RULE, required: true });
  input.done();
  engine.splitShard(ref, shardId, hashKey(newStart, 'NewStartingHashKey'));
  return EMPTY;
}

export function mergeShards(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const a = input.string('ShardToMerge', { ...SHARD_ID_RULE, required: true });
  const b = input.string('AdjacentShardToMerge', { ...SHARD_ID_RULE, required: true });
  input.done();
  engine.mergeShards(ref, a, b);
  return EMPTY;
}

export function updateShardCount(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const target = input.integer('TargetShardCount', { required: true, min: 1, max: 100_000 })!;
  input.string('ScalingType', { required: true, values: ['UNIFORM_SCALING'] });
  input.done();
  const { current } = engine.updateShardCount(ref, target);
  const stream = engine.findStream(ref);
  return { json: { StreamName: stream.name, StreamARN: stream.arn, CurrentShardCount: current, TargetShardCount: target } };
}

export function changeRetention(direction: 'increase' | 'decrease') {
  return (input: Input, { engine }: ApiContext): ApiResult => {
    const ref = readStreamRef(input);
    const hours = input.integer('RetentionPeriodHours', { required: true, min: 1, max: 8760 })!;
    input.done();
    engine.setRetention(ref, hours, direction);
    return EMPTY;
  };
}

function applyTags(target: Map<string, string>, tags: Record<string, string>, what: string, engine: KinesisEngine): void {
  const keys = new Set([...target.keys(), ...Object.keys(tags)]);
  if (keys.size > 50) {
    throw new ServiceError(AwsErrorName.LIMIT_EXCEEDED, `Failed to add tags to ${what} under account ${engine.accountId} because it cannot have more than 50 tags.`);
  }
  for (const [k, v] of Object.entries(tags)) {
    if (k.length < 1 || k.length > 128 || v.length > 256) throw invalidArgument(`Invalid tag: ${k}`);
  }
  for (const [k, v] of Object.entries(tags)) target.set(k, v);
}

export function addTags(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const tags = input.stringMap('Tags', { required: true }) ?? {};
  input.done();
  const stream = engine.findStream(ref);
  applyTags(stream.tags, tags, `stream ${stream.name}`, engine);
  return EMPTY;
}

/** The tag map of a stream or consumer ARN (TagResource and friends). */
function resourceTags(engine: KinesisEngine, arn: string): { tags: Map<string, string>; what: string } {
  if (arn.includes('/consumer/')) {
    const consumer = engine.findConsumer({ consumerArn: arn });
    return { tags: consumer.tags, what: `consumer ${consumer.name}` };
  }
  const stream = engine.findStream({ streamArn: arn });
  return { tags: stream.tags, what: `stream ${stream.name}` };
}

const RESOURCE_ARN_RULE = { required: true, min: 1, max: 2048, pattern: /^arn:aws.*:kinesis:.*:\d{12}:.+$/, patternText: 'arn:aws.*:kinesis:.*:\\d{12}:.+' } as const;

export function tagResource(input: Input, { engine }: ApiContext): ApiResult {
  const arn = input.string('ResourceARN', RESOURCE_ARN_RULE);
  const tags = input.stringMap('Tags', { required: true }) ?? {};
  input.done();
  const target = resourceTags(engine, arn);
  applyTags(target.tags, tags, target.what, engine);
  return EMPTY;
}

export function untagResource(input: Input, { engine }: ApiContext): ApiResult {
  const arn = input.string('ResourceARN', RESOURCE_ARN_RULE);
  const keys = input.array('TagKeys', { required: true, min: 1, max: 50 }) ?? [];
  input.done();
  const { tags } = resourceTags(engine, arn);
  for (const k of keys) if (typeof k === 'string') tags.delete(k);
  return EMPTY;
}

export function listTagsForResource(input: Input, { engine }: ApiContext): ApiResult {
  const arn = input.string('ResourceARN', RESOURCE_ARN_RULE);
  input.done();
  const { tags } = resourceTags(engine, arn);
  return { json: { Tags: [...tags.keys()].sort().map((k) => ({ Key: k, Value: tags.get(k) })) } };
}

export function removeTags(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const keys = input.array('TagKeys', { required: true, min: 1, max: 50 }) ?? [];
  input.done();
  const stream = engine.findStream(ref);
  for (const k of keys) if (typeof k === 'string') stream.tags.delete(k);
  return EMPTY;
}

export function listTags(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const exclusiveStart = input.string('ExclusiveStartTagKey', { min: 1, max: 128 });
  const limit = input.integer('Limit', { min: 1, max: 50 }) ?? 50;
  input.done();
  const stream = engine.findStream(ref);
  const keys = [...stream.tags.keys()].sort().filter((k) => exclusiveStart === undefined || k > exclusiveStart);
  const page = keys.slice(0, limit);
  return { json: { Tags: page.map((k) => ({ Key: k, Value: stream.tags.get(k) })), HasMoreTags: keys.length > page.length } };
}

export function encryptionChange(start: boolean) {
  return (input: Input, { engine }: ApiContext): ApiResult => {
    const ref = readStreamRef(input);
    input.string('EncryptionType', { required: true, values: ['NONE', 'KMS'] });
    const keyId = input.string('KeyId', { required: true, min: 1, max: 2048 });
    input.done();
    engine.setEncryption(ref, start ? 'KMS' : 'NONE', keyId);
    return EMPTY;
  };
}

export function enhancedMonitoringChange(enable: boolean) {
  return (input: Input, { engine }: ApiContext): ApiResult => {
    const ref = readStreamRef(input);
    const metrics = input.array('ShardLevelMetrics', { required: true, min: 1, max: 7 }) ?? [];
    input.done();
    const stream = engine.findStream(ref);
    const before = [...stream.shardLevelMetrics];
    for (const m of metrics) {
      if (typeof m !== 'string' || !(SHARD_LEVEL_METRICS as readonly string[]).includes(m)) throw invalidArgument(`Invalid shard-level metric: ${String(m)}`);
      const names = m === 'ALL' ? SHARD_LEVEL_METRICS.filter((x) => x !== 'ALL') : [m];
      for (const n of names) {
        if (enable) stream.shardLevelMetrics.add(n);
        else stream.shardLevelMetrics.delete(n);
      }
    }
    return {
      json: {
        StreamName: stream.name,
        StreamARN: stream.arn,
        CurrentShardLevelMetrics: before,
        DesiredShardLevelMetrics: [...stream.shardLevelMetrics],
      },
    };
  };
}

/** Parses a validated decimal hash key; out of [0, 2^128-1] is InvalidArgumentException. */
export function hashKey(value: string, member: string): bigint {
  try {
    return parseExplicitHashKey(value);
  } catch {
    throw invalidArgument(`Invalid ${member}. ${member} must be in the range: [0, 2^128-1]. Specified value was ${value}`);
  }
}
