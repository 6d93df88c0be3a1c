import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import {
  isKinesisName,
  isStreamArn,
  isStreamConsumerArn,
  noopMetricsSink,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
  type MetricsSink,
  type StreamSelector,
} from '@kinesis-kit/core';
import { ConsumerConfigError } from '../errors.js';
import type { LeaseManagementOptions } from '../leases/options.js';
import { resolveFailurePolicy, type FailurePolicyOptions, type ResolvedFailurePolicy } from '../processing/failure-policy.js';
import { eachBatchProcessorFactory, eachRecordProcessorFactory } from '../processing/handler-processor.js';
import type { EachBatchHandler, EachRecordHandler, ShardRecordProcessorFactory } from '../processing/processor.js';
import { FANOUT_DEFAULTS, type FanOutOptions } from '../retrieval/fanout-fetcher.js';
import { POLLING_DEFAULTS, type PollingOptions } from '../retrieval/polling-fetcher.js';
import type { InitialPositionSentinel } from '../shards/lease-creation-plan.js';
import type { StreamRef } from './stream-ref.js';
import { boolOption as bool, intOption as int } from '../config-checks.js';

export type InitialPosition = 'LATEST' | 'TRIM_HORIZON' | { timestamp: Date };

export type PollingRetrievalOptions = { mode: 'polling' } & Partial<PollingOptions>;
export interface FanOutRetrievalOptions extends Partial<FanOutOptions> {
  mode: 'fanout';
  /** The registered stream consumer's name (KCL FanOutConfig.consumerName). Default: the application name. */
  consumerName?: string;
  /** A consumer registered beforehand (IaC): used as is, never registered or described. */
  consumerArn?: string;
  /** How long start() waits for a newly registered consumer to become ACTIVE. Default 30000. */
  activationTimeoutMillis?: number;
}

export interface ResolvedFanOutOptions extends FanOutOptions {
  consumerName: string;
  consumerArn: string | undefined;
  activationTimeoutMillis: number;
}

/**
 * Options of `new KinesisConsumer(...)`: the stream (exactly one of streamName / streamArn), the
 * handler (exactly one of processorFactory / eachBatch / eachRecord) and the settings. Names and
 * defaults are the KCL's where it has one.
 */
export type KinesisConsumerOptions = StreamSelector & ConsumerHandler & ConsumerSettings;

/** How records are handed over: exactly one of the three. */
export type ConsumerHandler =
  | {
      /** One processor per shard (KCL ShardRecordProcessorFactory). */
      processorFactory: ShardRecordProcessorFactory;
      eachBatch?: undefined;
      eachRecord?: undefined;
    }
  | {
      /** KafkaJS-style: a handler per batch, checkpointed after each batch that succeeds. */
      eachBatch: EachBatchHandler;
      processorFactory?: undefined;
      eachRecord?: undefined;
    }
  | {
      /** A handler per record, in order, checkpointed after each batch that succeeds. */
      eachRecord: EachRecordHandler;
      processorFactory?: undefined;
      eachBatch?: undefined;
    };

/** Everything in KinesisConsumerOptions but the stream and the handler. */
export interface ConsumerSettings {
  /** The KCL application name: the lease table's name unless tableName is given. */
  applicationName: string;
  /** Ready clients (not destroyed by stop()). Without them, clients are built from region/endpoint/credentials. */
  kinesisClient?: KinesisClient;
  dynamoDbClient?: DynamoDBClient;
  region?: string;
  /** Kinesis endpoint (e.g. LocalStack or the mock); also used for DynamoDB unless dynamoDbEndpoint is given. */
  endpoint?: string;
  dynamoDbEndpoint?: string;
  /** Passed to the SDK as-is; the consumer never reads credentials itself. */
  credentials?: KinesisClientConfig['credentials'];
  tableName?: string;
  /** Unique per live process; reuse it across restarts to keep leases. Default host:pid:random. */
  workerId?: string;
  /** Where leases of new shards start (KCL initialPositionInStream). Default LATEST, as the KCL. */
  initialPosition?: InitialPosition;
  retrieval?: PollingRetrievalOptions | FanOutRetrievalOptions;
  leaseManagement?: LeaseManagementOptions;
  failurePolicy?: FailurePolicyOptions;
  /** Checkpoint SHARD_END when shardEnded returns without doing it, so children are never blocked. Default true. */
  autoCheckpointAtShardEnd?: boolean;
  /** KCL callProcessRecordsEvenForEmptyRecordList. Default false. */
  callProcessRecordsEvenForEmptyRecordList?: boolean;
  /** How often a child waiting on a parent held by another worker re-reads the parent's lease (KCL 10000). Default 2000. */
  parentShardPollIntervalMillis?: number;
  /** Period of the ListShards audit that creates missing leases and cleans up finished ones (and of the look at a KCL 3.x fleet's migration state). Default 60000. */
  shardSyncIntervalMillis?: number;
  /** How long stop() waits for processors to finish and checkpoint. Default 30000. */
  shutdownTimeoutMillis?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: MetricsSink;
  random?: () => number;
}

export interface ResolvedConsumerOptions {
  applicationName: string;
  stream: StreamRef;
  tableName: string;
  workerId: string;
  initialPosition: InitialPositionSentinel;
  initialTimestamp: Date | undefined;
  /** Polling settings (used when fanout is undefined). */
  polling: PollingOptions;
  /** Set in fan-out mode. */
  fanout: ResolvedFanOutOptions | undefined;
  processorFactory: ShardRecordProcessorFactory;
  leaseManagement: LeaseManagementOptions;
  failurePolicy: ResolvedFailurePolicy;
  autoCheckpointAtShardEnd: boolean;
  callProcessRecordsEvenForEmptyRecordList: boolean;
  parentShardPollIntervalMillis: number;
  shardSyncIntervalMillis: number;
  shutdownTimeoutMillis: number;
  clock: Clock;
  logger: Logger;
  metrics: MetricsSink;
  random: () => number;
}

export const CONSUMER_DEFAULTS = {
  initialPosition: 'LATEST',
  autoCheckpointAtShardEnd: true,
  callProcessRecordsEvenForEmptyRecordList: false,
  parentShardPollIntervalMillis: 2_000,
  shardSyncIntervalMillis: 60_000,
  shutdownTimeoutMillis: 30_000,
} as const;

/** Validates once and fills defaults; throws ConsumerConfigError naming the option. */
export function resolveConsumerOptions(options: KinesisConsumerOptions): ResolvedConsumerOptions {
  if (!options || typeof options !== 'object') throw new ConsumerConfigError('options', 'required');
  const o = options;
  if (typeof o.applicationName !== 'string' || o.applicationName.length === 0) {
    throw new ConsumerConfigError('applicationName', 'must be a non-empty string');
  }
  const stream = resolveStream(o);
  const handlers = [o.processorFactory, o.eachBatch, o.eachRecord].filter((h) => h !== undefined);
  if (handlers.length !== 1) {
    throw new ConsumerConfigError('processorFactory', 'give exactly one of processorFactory, eachBatch or eachRecord');
  }
  if (typeof handlers[0] !== 'function') throw new ConsumerConfigError('processorFactory', 'must be a function');
  const processorFactory = o.processorFactory ?? (o.eachBatch ? eachBatchProcessorFactory(o.eachBatch) : eachRecordProcessorFactory(o.eachRecord));

  for (const field of ['leaseManagement', 'failurePolicy', 'retrieval'] as const) {
    const value: unknown = o[field];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ConsumerConfigError(field, `must be an object, got ${JSON.stringify(value)}`);
    }
  }
  const { initialPosition, initialTimestamp } = resolveInitialPosition(o.initialPosition ?? CONSUMER_DEFAULTS.initialPosition);
  const d = CONSUMER_DEFAULTS;
  const workerId = o.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (typeof workerId !== 'string' || workerId.length === 0) throw new ConsumerConfigError('workerId', 'must be a non-empty string');
  return {
    applicationName: o.applicationName,
    stream,
    tableName: o.tableName ?? o.applicationName,
    workerId,
    initialPosition,
    initialTimestamp,
    polling: resolvePolling(o.retrieval),
    fanout: resolveFanOut(o.retrieval, o.applicationName),
    processorFactory,
    leaseManagement: { ...o.leaseManagement },
    failurePolicy: resolveFailurePolicy(o.failurePolicy),
    autoCheckpointAtShardEnd: bool('autoCheckpointAtShardEnd', o.autoCheckpointAtShardEnd ?? d.autoCheckpointAtShardEnd),
    callProcessRecordsEvenForEmptyRecordList: bool(
      'callProcessRecordsEvenForEmptyRecordList',
      o.callProcessRecordsEvenForEmptyRecordList ?? d.callProcessRecordsEvenForEmptyRecordList,
    ),
    parentShardPollIntervalMillis: int('parentShardPollIntervalMillis', o.parentShardPollIntervalMillis ?? d.parentShardPollIntervalMillis, 10),
    shardSyncIntervalMillis: int('shardSyncIntervalMillis', o.shardSyncIntervalMillis ?? d.shardSyncIntervalMillis, 100),
    shutdownTimeoutMillis: int('shutdownTimeoutMillis', o.shutdownTimeoutMillis ?? d.shutdownTimeoutMillis, 0),
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
    metrics: o.metrics ?? noopMetricsSink,
    random: o.random ?? Math.random,
  };
}

function resolveStream(o: KinesisConsumerOptions): StreamRef {
  if (o.streamArn !== undefined && o.streamName !== undefined) {
    throw new ConsumerConfigError('streamArn', 'give streamName or streamArn, not both');
  }
  if (o.streamArn !== undefined) {
    if (!isStreamArn(o.streamArn)) {
      throw new ConsumerConfigError('streamArn', `not a Kinesis stream ARN: ${JSON.stringify(o.streamArn)}`);
    }
    return { StreamARN: o.streamArn };
  }
  if (!isKinesisName(o.streamName)) {
    throw new ConsumerConfigError('streamName', `streamName (1-128 of a-z A-Z 0-9 _ . -) or streamArn is required, got ${JSON.stringify(o.streamName)}`);
  }
  return { StreamName: o.streamName };
}

function resolveInitialPosition(p: InitialPosition): { initialPosition: InitialPositionSentinel; initialTimestamp: Date | undefined } {
  if (p === 'LATEST' || p === 'TRIM_HORIZON') return { initialPosition: p, initialTimestamp: undefined };
  if (p && typeof p === 'object' && p.timestamp instanceof Date && !Number.isNaN(p.timestamp.getTime())) {
    return { initialPosition: 'AT_TIMESTAMP', initialTimestamp: p.timestamp };
  }
  throw new ConsumerConfigError('initialPosition', `must be 'LATEST', 'TRIM_HORIZON' or { timestamp: Date }, got ${JSON.stringify(p)}`);
}

function resolvePolling(retrieval: KinesisConsumerOptions['retrieval']): PollingOptions {
  const r = retrieval ?? { mode: 'polling' };
  if (r.mode !== 'polling' && r.mode !== 'fanout') {
    throw new ConsumerConfigError('retrieval.mode', `must be 'polling' or 'fanout', got ${JSON.stringify((r as { mode?: unknown }).mode)}`);
  }
  const d = POLLING_DEFAULTS;
  const p: Partial<PollingOptions> = r.mode === 'polling' ? r : {};
  const maxRecords = int('retrieval.maxRecords', p.maxRecords ?? d.maxRecords, 1);
  if (maxRecords > 10_000) throw new ConsumerConfigError('retrieval.maxRecords', 'GetRecords returns at most 10000 records');
  return {
    maxRecords,
    minTimeBetweenReadsMillis: int('retrieval.minTimeBetweenReadsMillis', p.minTimeBetweenReadsMillis ?? d.minTimeBetweenReadsMillis, 0),
    idleTimeBetweenReadsMillis: int('retrieval.idleTimeBetweenReadsMillis', p.idleTimeBetweenReadsMillis ?? d.idleTimeBetweenReadsMillis, 0),
    maxPrefetchRecords: int('retrieval.maxPrefetchRecords', p.maxPrefetchRecords ?? d.maxPrefetchRecords, 1),
    maxPrefetchBytes: int('retrieval.maxPrefetchBytes', p.maxPrefetchBytes ?? d.maxPrefetchBytes, 1),
  };
}

function resolveFanOut(retrieval: KinesisConsumerOptions['retrieval'], applicationName: string): ResolvedFanOutOptions | undefined {
  if (retrieval?.mode !== 'fanout') return undefined;
  const r = retrieval;
  const consumerName = r.consumerName ?? applicationName;
  if (!isKinesisName(consumerName)) {
    throw new ConsumerConfigError(r.consumerName !== undefined ? 'retrieval.consumerName' : 'applicationName', `not a valid stream consumer name (1-128 of a-z A-Z 0-9 _ . -): ${JSON.stringify(consumerName)}`);
  }
  if (r.consumerArn !== undefined && !isStreamConsumerArn(r.consumerArn)) {
    throw new ConsumerConfigError('retrieval.consumerArn', `not a stream consumer ARN: ${JSON.stringify(r.consumerArn)}`);
  }
  const d = FANOUT_DEFAULTS;
  return {
    consumerName,
    consumerArn: r.consumerArn,
    activationTimeoutMillis: int('retrieval.activationTimeoutMillis', r.activationTimeoutMillis ?? 30_000, 0),
    subscriptionIdleTimeoutMillis: int('retrieval.subscriptionIdleTimeoutMillis', r.subscriptionIdleTimeoutMillis ?? d.subscriptionIdleTimeoutMillis, 100),
    maxPrefetchRecords: int('retrieval.maxPrefetchRecords', r.maxPrefetchRecords ?? d.maxPrefetchRecords, 1),
    maxPrefetchBytes: int('retrieval.maxPrefetchBytes', r.maxPrefetchBytes ?? d.maxPrefetchBytes, 1),
    subscribeCooldownMillis: int('retrieval.subscribeCooldownMillis', r.subscribeCooldownMillis ?? d.subscribeCooldownMillis, 0),
  };
}
