import { ManualClock, noopMetricsSink, silentLogger, systemClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { Checkpointer } from '../checkpoint/checkpointer.js';
import { ConsumerConfigError } from '../errors.js';
import { FAILURE_POLICY_DEFAULTS } from '../processing/failure-policy.js';
import type { ShardRecordProcessorFactory } from '../processing/processor.js';
import { POLLING_DEFAULTS } from '../retrieval/polling-fetcher.js';
import { CONSUMER_DEFAULTS, resolveConsumerOptions, type KinesisConsumerOptions } from './options.js';

const eachBatch = (): void => undefined;
const base: KinesisConsumerOptions = { applicationName: 'orders-app', streamName: 'orders', eachBatch };

/** Asserts a ConsumerConfigError (INVALID_CONFIG) naming `field`. */
function expectConfigError(options: unknown, field: string): void {
  let caught: unknown;
  try {
    resolveConsumerOptions(options as KinesisConsumerOptions);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConsumerConfigError);
  expect(caught).toMatchObject({ code: 'INVALID_CONFIG', field, retriable: false });
  expect((caught as Error).message.startsWith(`${field}: `)).toBe(true);
}

describe('resolveConsumerOptions', () => {
  it('fills the defaults', () => {
    const o = resolveConsumerOptions(base);
    expect(o).toMatchObject({
      applicationName: 'orders-app',
      stream: { StreamName: 'orders' },
      tableName: 'orders-app',
      initialPosition: 'LATEST',
      initialTimestamp: undefined,
      polling: POLLING_DEFAULTS,
      leaseManagement: {},
      failurePolicy: { ...FAILURE_POLICY_DEFAULTS, onFailure: undefined },
      autoCheckpointAtShardEnd: CONSUMER_DEFAULTS.autoCheckpointAtShardEnd,
      callProcessRecordsEvenForEmptyRecordList: false,
      parentShardPollIntervalMillis: 2_000,
      shardSyncIntervalMillis: 60_000,
      shutdownTimeoutMillis: 30_000,
    });
    expect(o.autoCheckpointAtShardEnd).toBe(true);
    expect(o.clock).toBe(systemClock);
    expect(o.logger).toBe(silentLogger);
    expect(o.metrics).toBe(noopMetricsSink);
    expect(o.random).toBe(Math.random);
    // host:pid:8 random hex characters, unique per process start.
    expect(o.workerId).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{8}$`));
    expect(resolveConsumerOptions(base).workerId).not.toBe(o.workerId);
  });

  it('keeps the values given', () => {
    const clock = new ManualClock();
    const random = (): number => 0.25;
    const o = resolveConsumerOptions({
      ...base,
      tableName: 'leases',
      workerId: 'worker-1',
      autoCheckpointAtShardEnd: false,
      callProcessRecordsEvenForEmptyRecordList: true,
      parentShardPollIntervalMillis: 10,
      shardSyncIntervalMillis: 100,
      shutdownTimeoutMillis: 0,
      leaseManagement: { failoverTimeMillis: 20_000 },
      failurePolicy: { maxRetries: 3 },
      retrieval: { mode: 'polling', maxRecords: 500, idleTimeBetweenReadsMillis: 2_000 },
      clock,
      random,
    });
    expect(o).toMatchObject({
      tableName: 'leases',
      workerId: 'worker-1',
      autoCheckpointAtShardEnd: false,
      callProcessRecordsEvenForEmptyRecordList: true,
      parentShardPollIntervalMillis: 10,
      shardSyncIntervalMillis: 100,
      shutdownTimeoutMillis: 0,
      leaseManagement: { failoverTimeMillis: 20_000 },
      failurePolicy: { maxRetries: 3, retryBaseDelayMillis: 500 },
      polling: { ...POLLING_DEFAULTS, maxRecords: 500, idleTimeBetweenReadsMillis: 2_000 },
    });
    expect(o.clock).toBe(clock);
    expect(o.random).toBe(random);
  });

  it.each([
    [null, 'options'],
    [{ ...base, applicationName: '' }, 'applicationName'],
    [{ ...base, applicationName: undefined }, 'applicationName'],
    [{ ...base, workerId: '' }, 'workerId'],
    [{ ...base, autoCheckpointAtShardEnd: 'yes' }, 'autoCheckpointAtShardEnd'],
    [{ ...base, callProcessRecordsEvenForEmptyRecordList: 1 }, 'callProcessRecordsEvenForEmptyRecordList'],
    [{ ...base, parentShardPollIntervalMillis: 9 }, 'parentShardPollIntervalMillis'],
    [{ ...base, shardSyncIntervalMillis: 99 }, 'shardSyncIntervalMillis'],
    [{ ...base, shutdownTimeoutMillis: -1 }, 'shutdownTimeoutMillis'],
    [{ ...base, shutdownTimeoutMillis: 1.5 }, 'shutdownTimeoutMillis'],
    [{ ...base, failurePolicy: { maxRetries: -1 } }, 'failurePolicy.maxRetries'],
  ])('rejects %o naming %s', (options, field) => {
    expectConfigError(options, field);
  });

  describe('handlers', () => {
    it('takes exactly one of processorFactory, eachBatch and eachRecord', () => {
      const factory: ShardRecordProcessorFactory = () => ({ processRecords: () => undefined });
      const noHandler = { applicationName: 'a', streamName: 's' };
      expectConfigError(noHandler, 'processorFactory');
      expectConfigError({ ...noHandler, processorFactory: factory, eachBatch }, 'processorFactory');
      expectConfigError({ ...noHandler, eachBatch, eachRecord: () => undefined }, 'processorFactory');
      expectConfigError({ ...noHandler, processorFactory: factory, eachBatch, eachRecord: () => undefined }, 'processorFactory');
      expectConfigError({ ...noHandler, eachRecord: 'not a function' }, 'processorFactory');
      expect(resolveConsumerOptions({ ...noHandler, processorFactory: factory }).processorFactory).toBe(factory);
    });

    it('wraps eachBatch and eachRecord into processor factories that call them', async () => {
      const seen: string[] = [];
      const checkpointer = { checkpoint: async () => undefined } as unknown as Checkpointer;
      const record = { partitionKey: 'k', data: new Uint8Array(), sequenceNumber: '1', subSequenceNumber: 0, aggregated: false };
      const input = { shardId: 'shardId-1', records: [record], checkpointer, millisBehindLatest: 0, isAtShardEnd: false, attempt: 0, signal: new AbortController().signal };

      const batchFactory = resolveConsumerOptions({ ...base, eachBatch: ({ shardId, records }) => void seen.push(`batch ${shardId} ${records.length}`) }).processorFactory;
      await batchFactory('shardId-1').processRecords(input);
      const { eachBatch: _omit, ...noBatch } = base;
      const recordFactory = resolveConsumerOptions({ ...noBatch, eachRecord: ({ record: r }) => void seen.push(`record ${r.sequenceNumber}`) }).processorFactory;
      await recordFactory('shardId-1').processRecords(input);
      expect(seen).toEqual(['batch shardId-1 1', 'record 1']);
    });
  });

  describe('stream', () => {
    it('accepts a stream name of 1-128 characters of a-z A-Z 0-9 _ . -', () => {
      expect(resolveConsumerOptions({ ...base, streamName: 'My_stream.v2-x' }).stream).toEqual({ StreamName: 'My_stream.v2-x' });
      expect(resolveConsumerOptions({ ...base, streamName: 'a'.repeat(128) }).stream).toEqual({ StreamName: 'a'.repeat(128) });
    });

    it.each([undefined, '', 'a'.repeat(129), 'has space', 'slash/name', 42])('rejects the stream name %o', (streamName) => {
      expectConfigError({ ...base, streamName }, 'streamName');
    });

    it('accepts a stream ARN instead of a name (any AWS partition)', () => {
      const { streamName: _omit, ...noName } = base;
      const arn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';
      expect(resolveConsumerOptions({ ...noName, streamArn: arn }).stream).toEqual({ StreamARN: arn });
      const china = 'arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders';
      expect(resolveConsumerOptions({ ...noName, streamArn: china }).stream).toEqual({ StreamARN: china });
    });

    it.each([
      '',
      'orders',
      'arn:aws:kinesis:eu-west-1:12345:stream/orders',
      'arn:aws:sqs:eu-west-1:123456789012:stream/orders',
      'arn:aws:kinesis:eu-west-1:123456789012:table/orders',
      'arn:aws:kinesis:eu-west-1:123456789012:stream/',
    ])('rejects the stream ARN %o', (streamArn) => {
      const { streamName: _omit, ...noName } = base;
      expectConfigError({ ...noName, streamArn }, 'streamArn');
    });

    it('rejects a stream name and an ARN together (which one is meant?)', () => {
      expectConfigError({ ...base, streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders' }, 'streamArn');
    });
  });

  describe('initialPosition', () => {
    it('LATEST (default), TRIM_HORIZON and { timestamp } (AT_TIMESTAMP with the time kept apart)', () => {
      expect(resolveConsumerOptions({ ...base, initialPosition: 'LATEST' })).toMatchObject({ initialPosition: 'LATEST', initialTimestamp: undefined });
      expect(resolveConsumerOptions({ ...base, initialPosition: 'TRIM_HORIZON' })).toMatchObject({ initialPosition: 'TRIM_HORIZON', initialTimestamp: undefined });
      const timestamp = new Date(Date.UTC(2026, 0, 2));
      expect(resolveConsumerOptions({ ...base, initialPosition: { timestamp } })).toMatchObject({ initialPosition: 'AT_TIMESTAMP', initialTimestamp: timestamp });
    });

    it.each(['AT_TIMESTAMP', 'latest', 'SHARD_END', { timestamp: new Date(Number.NaN) }, { timestamp: 1_700_000_000_000 }, {}, 0])(
      'rejects %o',
      (initialPosition) => {
        expectConfigError({ ...base, initialPosition }, 'initialPosition');
      },
    );
  });

  describe('retrieval', () => {
    it('accepts enhanced fan-out (consumer name defaults to the application name) and rejects unknown modes', () => {
      expect(resolveConsumerOptions({ ...base, retrieval: { mode: 'fanout' } }).fanout).toMatchObject({ consumerName: base.applicationName, consumerArn: undefined, subscriptionIdleTimeoutMillis: 30_000 });
      expect(resolveConsumerOptions({ ...base, retrieval: { mode: 'fanout', consumerName: 'c' } }).fanout?.consumerName).toBe('c');
      expect(resolveConsumerOptions(base).fanout).toBeUndefined();
      expectConfigError({ ...base, retrieval: { mode: 'fanout', consumerName: 'bad name' } }, 'retrieval.consumerName');
      expectConfigError({ ...base, retrieval: { mode: 'fanout', consumerArn: 'arn:nope' } }, 'retrieval.consumerArn');
      expectConfigError({ ...base, retrieval: { mode: 'push' } }, 'retrieval.mode');
      expectConfigError({ ...base, retrieval: {} }, 'retrieval.mode');
    });

    it('maxRecords: 1 to 10000 (the GetRecords limit)', () => {
      expect(resolveConsumerOptions({ ...base, retrieval: { mode: 'polling', maxRecords: 10_000 } }).polling.maxRecords).toBe(10_000);
      expect(resolveConsumerOptions({ ...base, retrieval: { mode: 'polling', maxRecords: 1 } }).polling.maxRecords).toBe(1);
      expectConfigError({ ...base, retrieval: { mode: 'polling', maxRecords: 10_001 } }, 'retrieval.maxRecords');
      expectConfigError({ ...base, retrieval: { mode: 'polling', maxRecords: 0 } }, 'retrieval.maxRecords');
    });

    it.each([
      ['minTimeBetweenReadsMillis', -1],
      ['idleTimeBetweenReadsMillis', 0.5],
      ['maxPrefetchRecords', 0],
      ['maxPrefetchBytes', '8MiB'],
    ])('rejects retrieval.%s = %o', (key, value) => {
      expectConfigError({ ...base, retrieval: { mode: 'polling', [key]: value } }, `retrieval.${key}`);
    });
  });
});
