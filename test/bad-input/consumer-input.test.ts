/**
 * Bad input, everywhere: the consumer.
 *
 * Bad options throw ConsumerConfigError (INVALID_CONFIG, not retriable, `field` naming the option).
 * Bad checkpoints made by a running processor against the mock reject with InvalidCheckpointError
 * (backwards / beyond-delivered / malformed / shard-end-not-reached) or LeaseLostError, write
 * nothing, leave good checkpoints working, and a restart resumes right after the last good one.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import type { UserRecord } from '@kinesis-kit/aggregation';
import {
  ConsumerConfigError,
  InvalidCheckpointError,
  KinesisConsumer,
  KinesisConsumerError,
  LeaseLostError,
  LeaseTable,
  type Checkpointer,
  type InitializationInput,
  type InvalidCheckpointReason,
  type KinesisConsumerOptions,
  type ShardRecordProcessor,
} from '@kinesis-kit/consumer';
import { KinesisProducer } from '@kinesis-kit/producer';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_LEASES, stealLease, until, useBackendPerTest, type Backend } from '../../packages/consumer/test/consumer/harness.js';

// ---- options -------------------------------------------------------------------------------------

describe('bad input: consumer options', () => {
  const config = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  const kinesisClient = new KinesisClient(config);
  const dynamoDbClient = new DynamoDBClient(config);
  afterAll(() => {
    kinesisClient.destroy();
    dynamoDbClient.destroy();
  });
  const eachBatch = (): void => undefined;
  const base: KinesisConsumerOptions = { applicationName: 'bad-options-app', streamName: 'orders', eachBatch, kinesisClient, dynamoDbClient };
  const lm = (leaseManagement: object): KinesisConsumerOptions => ({ ...base, leaseManagement });
  const poll = (retrieval: object): KinesisConsumerOptions => ({ ...base, retrieval: { mode: 'polling', ...retrieval } as never });
  const fan = (retrieval: object): KinesisConsumerOptions => ({ ...base, retrieval: { mode: 'fanout', ...retrieval } as never });
  const fp = (failurePolicy: object): KinesisConsumerOptions => ({ ...base, failurePolicy });

  const table: [string, unknown, string][] = [
    ['options null', null, 'options'],
    ['applicationName empty', { ...base, applicationName: '' }, 'applicationName'],
    ['applicationName a number', { ...base, applicationName: 7 }, 'applicationName'],
    // The table name defaults to applicationName: the error names the option the user gave.
    ['applicationName not a table name (space)', { ...base, applicationName: 'my app' }, 'applicationName'],
    ['applicationName too short for a table name', { ...base, applicationName: 'ab' }, 'applicationName'],
    ['tableName too short', { ...base, tableName: 'ab' }, 'tableName'],
    ['tableName with a slash', { ...base, tableName: 'a/b/c' }, 'tableName'],
    ['no stream', { ...base, streamName: undefined }, 'streamName'],
    ['streamName with a slash', { ...base, streamName: 'a/b' }, 'streamName'],
    ['streamName 129 characters', { ...base, streamName: 'x'.repeat(129) }, 'streamName'],
    ['streamName and streamArn', { ...base, streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' }, 'streamArn'],
    ['streamArn not an ARN', { ...base, streamName: undefined, streamArn: 'orders' }, 'streamArn'],
    ['streamArn with a short account', { ...base, streamName: undefined, streamArn: 'arn:aws:kinesis:us-east-1:123:stream/orders' }, 'streamArn'],
    ['no handler', { ...base, eachBatch: undefined }, 'processorFactory'],
    ['two handlers', { ...base, eachRecord: eachBatch }, 'processorFactory'],
    ['handler not a function', { ...base, eachBatch: undefined, processorFactory: {} }, 'processorFactory'],
    ['workerId empty', { ...base, workerId: '' }, 'workerId'],
    ['workerId a number', { ...base, workerId: 42 }, 'workerId'],
    ['initialPosition EARLIEST', { ...base, initialPosition: 'EARLIEST' }, 'initialPosition'],
    ['initialPosition AT_TIMESTAMP without a timestamp', { ...base, initialPosition: 'AT_TIMESTAMP' }, 'initialPosition'],
    ['initialPosition an invalid Date', { ...base, initialPosition: { timestamp: new Date(Number.NaN) } }, 'initialPosition'],
    ['initialPosition a timestamp string', { ...base, initialPosition: { timestamp: '2024-01-01' } }, 'initialPosition'],
    ['autoCheckpointAtShardEnd "yes"', { ...base, autoCheckpointAtShardEnd: 'yes' }, 'autoCheckpointAtShardEnd'],
    ['callProcessRecordsEvenForEmptyRecordList 1', { ...base, callProcessRecordsEvenForEmptyRecordList: 1 }, 'callProcessRecordsEvenForEmptyRecordList'],
    ['parentShardPollIntervalMillis 9', { ...base, parentShardPollIntervalMillis: 9 }, 'parentShardPollIntervalMillis'],
    ['shardSyncIntervalMillis 99', { ...base, shardSyncIntervalMillis: 99 }, 'shardSyncIntervalMillis'],
    ['shutdownTimeoutMillis -1', { ...base, shutdownTimeoutMillis: -1 }, 'shutdownTimeoutMillis'],
    ['shutdownTimeoutMillis Infinity', { ...base, shutdownTimeoutMillis: Number.POSITIVE_INFINITY }, 'shutdownTimeoutMillis'],
    // retrieval.*
    ['retrieval.mode push', { ...base, retrieval: { mode: 'push' } }, 'retrieval.mode'],
    ['retrieval a string', { ...base, retrieval: 'polling' }, 'retrieval'],
    ['retrieval.maxRecords 0', poll({ maxRecords: 0 }), 'retrieval.maxRecords'],
    ['retrieval.maxRecords 10001', poll({ maxRecords: 10_001 }), 'retrieval.maxRecords'],
    ['retrieval.maxRecords a string', poll({ maxRecords: '100' }), 'retrieval.maxRecords'],
    ['retrieval.minTimeBetweenReadsMillis NaN', poll({ minTimeBetweenReadsMillis: Number.NaN }), 'retrieval.minTimeBetweenReadsMillis'],
    ['retrieval.idleTimeBetweenReadsMillis -1', poll({ idleTimeBetweenReadsMillis: -1 }), 'retrieval.idleTimeBetweenReadsMillis'],
    ['retrieval.maxPrefetchRecords 0', poll({ maxPrefetchRecords: 0 }), 'retrieval.maxPrefetchRecords'],
    ['retrieval.maxPrefetchBytes 1.5', poll({ maxPrefetchBytes: 1.5 }), 'retrieval.maxPrefetchBytes'],
    ['fanout retrieval.consumerName with a space', fan({ consumerName: 'my consumer' }), 'retrieval.consumerName'],
    ['fanout without consumerName and an applicationName not a consumer name', { ...fan({}), applicationName: 'x'.repeat(129) }, 'applicationName'],
    ['fanout retrieval.consumerArn not an ARN', fan({ consumerArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' }), 'retrieval.consumerArn'],
    ['fanout retrieval.activationTimeoutMillis -1', fan({ activationTimeoutMillis: -1 }), 'retrieval.activationTimeoutMillis'],
    ['fanout retrieval.subscriptionIdleTimeoutMillis 99', fan({ subscriptionIdleTimeoutMillis: 99 }), 'retrieval.subscriptionIdleTimeoutMillis'],
    ['fanout retrieval.subscribeCooldownMillis -1', fan({ subscribeCooldownMillis: -1 }), 'retrieval.subscribeCooldownMillis'],
    ['fanout retrieval.maxPrefetchRecords 0', fan({ maxPrefetchRecords: 0 }), 'retrieval.maxPrefetchRecords'],
    // failurePolicy.*
    ['failurePolicy.maxRetries -1', fp({ maxRetries: -1 }), 'failurePolicy.maxRetries'],
    ['failurePolicy.maxRetries 1.5', fp({ maxRetries: 1.5 }), 'failurePolicy.maxRetries'],
    ['failurePolicy.maxRetries NaN', fp({ maxRetries: Number.NaN }), 'failurePolicy.maxRetries'],
    ['failurePolicy.retryBaseDelayMillis -1', fp({ retryBaseDelayMillis: -1 }), 'failurePolicy.retryBaseDelayMillis'],
    ['failurePolicy.retryMaxDelayMillis below the base', fp({ retryBaseDelayMillis: 1_000, retryMaxDelayMillis: 999 }), 'failurePolicy.retryMaxDelayMillis'],
    ['failurePolicy.maxRecordAgeMillis 0', fp({ maxRecordAgeMillis: 0 }), 'failurePolicy.maxRecordAgeMillis'],
    ['failurePolicy.bisectOnError "yes"', fp({ bisectOnError: 'yes' }), 'failurePolicy.bisectOnError'],
    ['failurePolicy.onFailure a string', fp({ onFailure: 'dlq' }), 'failurePolicy.onFailure'],
    // leaseManagement.*: validated by the LeaseCoordinator the constructor builds; the consumer names
    // them with their "leaseManagement." prefix.
    ['leaseManagement.failoverTimeMillis 99', lm({ failoverTimeMillis: 99 }), 'leaseManagement.failoverTimeMillis'],
    ['leaseManagement.failoverTimeMillis a string', lm({ failoverTimeMillis: '10000' }), 'leaseManagement.failoverTimeMillis'],
    ['leaseManagement.epsilonMillis -1', lm({ epsilonMillis: -1 }), 'leaseManagement.epsilonMillis'],
    ['leaseManagement.epsilonMillis over failover/3', lm({ failoverTimeMillis: 300, epsilonMillis: 100 }), 'leaseManagement.epsilonMillis'],
    ['leaseManagement.maxLeasesForWorker 0', lm({ maxLeasesForWorker: 0 }), 'leaseManagement.maxLeasesForWorker'],
    ['leaseManagement.maxLeasesToStealAtOneTime 0', lm({ maxLeasesToStealAtOneTime: 0 }), 'leaseManagement.maxLeasesToStealAtOneTime'],
    ['leaseManagement.maxLeaseRenewalConcurrency 0', lm({ maxLeaseRenewalConcurrency: 0 }), 'leaseManagement.maxLeaseRenewalConcurrency'],
    ['leaseManagement.takerInitialJitterMillis -1', lm({ takerInitialJitterMillis: -1 }), 'leaseManagement.takerInitialJitterMillis'],
    ['leaseManagement.takerIntervalMillis 99', lm({ takerIntervalMillis: 99 }), 'leaseManagement.takerIntervalMillis'],
    ['leaseManagement.smallTableMaxLeases -1', lm({ smallTableMaxLeases: -1 }), 'leaseManagement.smallTableMaxLeases'],
    ['leaseManagement.fastTakerIntervalMillis 0', lm({ fastTakerIntervalMillis: 0 }), 'leaseManagement.fastTakerIntervalMillis'],
    ['leaseManagement.maxFastTakerPasses -1', lm({ maxFastTakerPasses: -1 }), 'leaseManagement.maxFastTakerPasses'],
    ['leaseManagement.expiryLookAhead "off"', lm({ expiryLookAhead: 'off' }), 'leaseManagement.expiryLookAhead'],
    ['leaseManagement.releaseLeasesOnStop "no"', lm({ releaseLeasesOnStop: 'no' }), 'leaseManagement.releaseLeasesOnStop'],
    ['leaseManagement.createTableIfMissing 0', lm({ createTableIfMissing: 0 }), 'leaseManagement.createTableIfMissing'],
    ['leaseManagement.billingMode ON_DEMAND', lm({ billingMode: 'ON_DEMAND' }), 'leaseManagement.billingMode'],
    ['leaseManagement.initialLeaseTableReadCapacity 0', lm({ initialLeaseTableReadCapacity: 0 }), 'leaseManagement.initialLeaseTableReadCapacity'],
    ['leaseManagement.initialLeaseTableWriteCapacity 1.5', lm({ initialLeaseTableWriteCapacity: 1.5 }), 'leaseManagement.initialLeaseTableWriteCapacity'],
    ['leaseManagement.tableActiveTimeoutMillis -1', lm({ tableActiveTimeoutMillis: -1 }), 'leaseManagement.tableActiveTimeoutMillis'],
    ['leaseManagement.consistentReads "true"', lm({ consistentReads: 'true' }), 'leaseManagement.consistentReads'],
  ];

  function constructionError(options: unknown): unknown {
    try {
      new KinesisConsumer(options as KinesisConsumerOptions);
    } catch (err) {
      return err;
    }
    return undefined;
  }

  it.each(table)('%s -> ConsumerConfigError', (_name, options, field) => {
    const caught = constructionError(options);
    expect(caught).toBeInstanceOf(ConsumerConfigError);
    expect(caught).toBeInstanceOf(KinesisConsumerError);
    expect(caught).toMatchObject({ name: 'ConsumerConfigError', code: 'INVALID_CONFIG', retriable: false, field });
    expect((caught as Error).message.startsWith(`${field}: `)).toBe(true);
  });

  // Known gaps, kept as failing expectations so they flip when fixed.
  it('a bad leaseManagement option is named with its "leaseManagement." prefix, like retrieval.* and failurePolicy.*', () => {
    expect(constructionError(lm({ failoverTimeMillis: 99 }))).toMatchObject({ field: 'leaseManagement.failoverTimeMillis' });
  });
  it('an applicationName that is not a valid table name (no tableName given) is reported as applicationName', () => {
    expect(constructionError({ ...base, applicationName: 'my app' })).toMatchObject({ field: 'applicationName' });
  });
  it('leaseManagement that is not an object is rejected', () => {
    expect(constructionError({ ...base, leaseManagement: 'fast' })).toBeInstanceOf(ConsumerConfigError);
  });
  it('failurePolicy that is not an object is rejected', () => {
    expect(constructionError({ ...base, failurePolicy: 5 })).toBeInstanceOf(ConsumerConfigError);
  });
});

// ---- checkpoints through a running consumer ------------------------------------------------------

const STREAM = 'bad-checkpoints';
const APP = 'bad-checkpoints-app';
const SHARD = 'shardId-000000000000';
/** One aggregated container of `count` records for one key (put, then flushed together). */
async function produceContainer(kinesis: KinesisClient, prefix: string, count: number): Promise<void> {
  const producer = new KinesisProducer({ streamName: STREAM, kinesisClient: kinesis, recordMaxBufferedTime: 10_000 });
  try {
    await producer.ready();
    const puts = Array.from({ length: count }, (_, i) => producer.put({ partitionKey: 'one-key', data: `${prefix}-${i}` }));
    await producer.flush();
    const results = await Promise.all(puts);
    expect(new Set(results.map((r) => r.sequenceNumber)).size).toBe(1); // one container
  } finally {
    await producer.close();
  }
}

type Outcome = { name: string; syncThrow: boolean; ok: boolean; error?: unknown };

async function attempt(name: string, call: () => Promise<unknown>): Promise<Outcome> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return { name, syncThrow: true, ok: false, error };
  }
  try {
    await promise;
    return { name, syncThrow: false, ok: true };
  } catch (error) {
    return { name, syncThrow: false, ok: false, error };
  }
}

type BadCheckpoint = [name: string, call: (cp: Checkpointer, r: UserRecord[]) => Promise<unknown>, reason: InvalidCheckpointReason, field?: string];

const seqPlus = (s: string, d: bigint): string => (BigInt(s) + d).toString();

/** Tried after a good checkpoint at records[10] of a 30-record container; none may write. */
const BAD_CHECKPOINTS: BadCheckpoint[] = [
  ['an earlier record', (cp, r) => cp.checkpoint(r[5]!), 'backwards'],
  ['same sequence number, lower sub-sequence', (cp, r) => cp.checkpoint(r[0]!.sequenceNumber, 3), 'backwards'],
  ['sequence number without sub-sequence (= sub 0)', (cp, r) => cp.checkpoint(r[0]!.sequenceNumber), 'backwards'],
  ['an earlier sequence number', (cp, r) => cp.checkpoint(seqPlus(r[0]!.sequenceNumber, -1n)), 'backwards'],
  ['prepareCheckpoint of an earlier record', (cp, r) => cp.prepareCheckpoint(r[2]!), 'backwards'],
  ['sub-sequence past the last delivered', (cp, r) => cp.checkpoint(r[0]!.sequenceNumber, 30), 'beyond-delivered'],
  ['the next sequence number', (cp, r) => cp.checkpoint(seqPlus(r[0]!.sequenceNumber, 1n)), 'beyond-delivered'],
  ['128 nines', (cp) => cp.checkpoint('9'.repeat(128)), 'beyond-delivered'],
  ['a record-shaped object past the end', (cp, r) => cp.checkpoint({ sequenceNumber: r[0]!.sequenceNumber, subSequenceNumber: 31 }), 'beyond-delivered'],
  ['prepareCheckpoint past the end', (cp, r) => cp.prepareCheckpoint(seqPlus(r[0]!.sequenceNumber, 1n)), 'beyond-delivered'],
  ['letters', (cp) => cp.checkpoint('abc'), 'malformed', 'sequenceNumber'],
  ['empty string', (cp) => cp.checkpoint(''), 'malformed', 'sequenceNumber'],
  ['negative', (cp) => cp.checkpoint('-1'), 'malformed', 'sequenceNumber'],
  ['decimal point', (cp, r) => cp.checkpoint(`${r[0]!.sequenceNumber}.5`), 'malformed', 'sequenceNumber'],
  ['leading space', (cp, r) => cp.checkpoint(` ${r[0]!.sequenceNumber}`), 'malformed', 'sequenceNumber'],
  ['129 digits', (cp) => cp.checkpoint('1'.repeat(129)), 'malformed', 'sequenceNumber'],
  ['sentinel TRIM_HORIZON', (cp) => cp.checkpoint('TRIM_HORIZON'), 'malformed', 'sequenceNumber'],
  ['sentinel LATEST', (cp) => cp.checkpoint('LATEST'), 'malformed', 'sequenceNumber'],
  ['a number', (cp) => cp.checkpoint(123 as never), 'malformed', 'sequenceNumber'],
  ['null', (cp) => cp.checkpoint(null as never), 'malformed', 'sequenceNumber'],
  ['an empty object', (cp) => cp.checkpoint({} as never), 'malformed', 'sequenceNumber'],
  ['an object with a numeric sequenceNumber', (cp) => cp.checkpoint({ sequenceNumber: 5 } as never), 'malformed', 'sequenceNumber'],
  ['sub-sequence -1', (cp, r) => cp.checkpoint(r[20]!.sequenceNumber, -1), 'malformed', 'subSequenceNumber'],
  ['sub-sequence 1.5', (cp, r) => cp.checkpoint(r[20]!.sequenceNumber, 1.5), 'malformed', 'subSequenceNumber'],
  ['sub-sequence NaN', (cp, r) => cp.checkpoint(r[20]!.sequenceNumber, Number.NaN), 'malformed', 'subSequenceNumber'],
  ['sub-sequence Infinity', (cp, r) => cp.checkpoint(r[20]!.sequenceNumber, Number.POSITIVE_INFINITY), 'malformed', 'subSequenceNumber'],
  ['sub-sequence 2^53', (cp, r) => cp.checkpoint(r[20]!.sequenceNumber, 2 ** 53), 'malformed', 'subSequenceNumber'],
  ['sub-sequence a string', (cp, r) => cp.checkpoint(r[20]!.sequenceNumber, '1' as never), 'malformed', 'subSequenceNumber'],
  ['a record with sub-sequence -1', (cp, r) => cp.checkpoint({ sequenceNumber: r[20]!.sequenceNumber, subSequenceNumber: -1 }), 'malformed', 'subSequenceNumber'],
  ['a record and a sub-sequence', (cp, r) => (cp as unknown as { checkpoint(...a: unknown[]): Promise<void> }).checkpoint(r[20], 3), 'malformed', 'subSequenceNumber'],
  ['prepareCheckpoint letters', (cp) => cp.prepareCheckpoint('abc'), 'malformed', 'sequenceNumber'],
  ['prepareCheckpoint with applicationState first', (cp, r) => (cp as unknown as { prepareCheckpoint(...a: unknown[]): Promise<unknown> }).prepareCheckpoint(new Uint8Array(1), r[20]!.sequenceNumber), 'malformed', 'applicationState'],
  ['SHARD_END on an open shard', (cp) => cp.checkpoint('SHARD_END'), 'shard-end-not-reached'],
  ['SHARD_END with sub-sequence 0', (cp) => cp.checkpoint('SHARD_END', 0), 'shard-end-not-reached'],
  ['prepareCheckpoint SHARD_END', (cp) => cp.prepareCheckpoint('SHARD_END'), 'shard-end-not-reached'],
];

describe('bad input: checkpoints through a running consumer (mock)', () => {
  const backends = useBackendPerTest();
  let backend: Backend | undefined;

  function consumer(workerId: string, processorFactory: (shardId: string) => ShardRecordProcessor): KinesisConsumer {
    const c = new KinesisConsumer({
      applicationName: APP,
      streamName: STREAM,
      kinesisClient: backend!.kinesis,
      dynamoDbClient: backend!.dynamoDb,
      workerId,
      initialPosition: 'TRIM_HORIZON',
      leaseManagement: FAST_LEASES,
      processorFactory,
    });
    return backends.track(c);
  }

  it('rejects each bad checkpoint with its typed error, writes none of them, keeps good ones working, and a restart resumes after the last good one', async () => {
    backend = await backends.start({ limits: false });
    const { kinesis, dynamoDb } = backend;
    await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
    const table = new LeaseTable({ client: dynamoDb, tableName: APP });
    await produceContainer(kinesis, 'first', 30);

    // ---- worker 1: bad checkpoints on the first batch, then lease loss on the second ----
    const firstBatch: UserRecord[] = [];
    const outcomes: Outcome[] = [];
    const lostOutcomes: Outcome[] = [];
    const checkpointAfterGood: { before?: unknown; after?: unknown } = {};
    let calls = 0;
    let secondEntered = false;
    let secondDone = false;
    let leaseLostCalled = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const w1 = consumer('w1', () => ({
      async processRecords({ records, checkpointer }) {
        calls++;
        if (calls === 1) {
          firstBatch.push(...records);
          if (records.length !== 30) return; // checked by the test below
          outcomes.push(await attempt('good: records[10]', () => checkpointer.checkpoint(records[10]!)));
          checkpointAfterGood.before = (await table.getLease(SHARD))?.checkpoint;
          for (const [name, call] of BAD_CHECKPOINTS) outcomes.push(await attempt(name, () => call(checkpointer, records)));
          checkpointAfterGood.after = (await table.getLease(SHARD))?.checkpoint;
          outcomes.push(await attempt('repeat of the good one (no-op)', () => checkpointer.checkpoint(records[10]!.sequenceNumber, 10)));
          outcomes.push(await attempt('good: records[20]', () => checkpointer.checkpoint(records[20]!)));
          return;
        }
        if (calls === 2) {
          secondEntered = true;
          await gate; // the test takes the lease meanwhile
          lostOutcomes.push(await attempt('largest delivered', () => checkpointer.checkpoint()));
          lostOutcomes.push(await attempt('a record of this batch', () => checkpointer.checkpoint(records[4]!)));
          lostOutcomes.push(await attempt('backwards on a lost lease', () => checkpointer.checkpoint(firstBatch[0]!)));
          lostOutcomes.push(await attempt('prepareCheckpoint', () => checkpointer.prepareCheckpoint(records[0]!)));
          lostOutcomes.push(await attempt('malformed on a lost lease', () => checkpointer.checkpoint('abc')));
          secondDone = true;
        }
      },
      leaseLost() {
        leaseLostCalled++;
      },
    }));
    await w1.start();
    await until(() => outcomes.length === BAD_CHECKPOINTS.length + 3, 'w1 to try every checkpoint');

    expect(firstBatch).toHaveLength(30);
    expect(firstBatch.map((r) => r.subSequenceNumber)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const seq1 = firstBatch[0]!.sequenceNumber;
    expect(outcomes[0]).toMatchObject({ ok: true });
    // None of the bad ones wrote anything.
    expect(checkpointAfterGood.before).toEqual({ sequenceNumber: seq1, subSequenceNumber: 10 });
    expect(checkpointAfterGood.after).toEqual({ sequenceNumber: seq1, subSequenceNumber: 10 });
    BAD_CHECKPOINTS.forEach(([name, , reason, field], i) => {
      const o = outcomes[i + 1]!;
      expect(o.name).toBe(name);
      expect(o.syncThrow, `${name}: threw synchronously instead of rejecting`).toBe(false);
      expect(o.ok, `${name}: was accepted`).toBe(false);
      expect(o.error, name).toBeInstanceOf(InvalidCheckpointError);
      expect(o.error, name).toBeInstanceOf(KinesisConsumerError);
      expect(o.error, name).toMatchObject({ name: 'InvalidCheckpointError', code: 'INVALID_CHECKPOINT', retriable: false, reason, shardId: SHARD, leaseKey: SHARD });
      if (field !== undefined) expect((o.error as InvalidCheckpointError).field, name).toBe(field);
    });
    expect(outcomes.at(-2)).toMatchObject({ name: 'repeat of the good one (no-op)', ok: true });
    expect(outcomes.at(-1)).toMatchObject({ name: 'good: records[20]', ok: true });
    expect((await table.getLease(SHARD))?.checkpoint).toEqual({ sequenceNumber: seq1, subSequenceNumber: 20 });
    expect((await table.getLease(SHARD))?.pendingCheckpoint).toBeUndefined(); // no rejected prepare left a pending checkpoint

    // A second container arrives; while its batch is in processRecords, another worker takes the lease.
    await produceContainer(kinesis, 'second', 5);
    await until(() => secondEntered, 'the second batch');
    expect((await table.getLease(SHARD))?.leaseOwner).toBe('w1');
    await stealLease(table, SHARD, 'other');
    openGate();
    await until(() => secondDone, 'w1 to try checkpoints on the lost lease');
    expect(lostOutcomes.map((o) => o.name)).toEqual(['largest delivered', 'a record of this batch', 'backwards on a lost lease', 'prepareCheckpoint', 'malformed on a lost lease']);
    for (const o of lostOutcomes.slice(0, 4)) {
      expect(o.syncThrow).toBe(false);
      expect(o.error, o.name).toBeInstanceOf(LeaseLostError);
      expect(o.error, o.name).toMatchObject({ name: 'LeaseLostError', code: 'LEASE_LOST', retriable: false, leaseKey: SHARD, shardId: SHARD });
    }
    // Argument parsing comes first: a malformed checkpoint is malformed even on a lost lease.
    expect(lostOutcomes[4]!.error).toMatchObject({ code: 'INVALID_CHECKPOINT', reason: 'malformed', field: 'sequenceNumber' });
    await until(() => leaseLostCalled === 1, 'leaseLost on w1');
    const afterLoss = await table.getLease(SHARD);
    expect(afterLoss).toMatchObject({ leaseOwner: 'other', checkpoint: { sequenceNumber: seq1, subSequenceNumber: 20 } });
    await w1.stop({ timeoutMillis: 2_000 });

    // ---- worker 2: takes the lease from "other" (which never renews) and resumes after records[20] ----
    const delivered: UserRecord[] = [];
    let initInput: InitializationInput | undefined;
    const w2 = consumer('w2', () => ({
      initialize(input) {
        initInput = input;
      },
      async processRecords({ records, checkpointer }) {
        delivered.push(...records);
        await checkpointer.checkpoint();
      },
    }));
    await w2.start();
    await until(() => delivered.length >= 14, 'w2 to deliver what came after the last good checkpoint');
    expect(initInput).toMatchObject({ shardId: SHARD, sequenceNumber: seq1, subSequenceNumber: 20 });
    const text = (r: UserRecord): string => Buffer.from(r.data).toString('utf8');
    expect(delivered.map(text)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `first-${21 + i}`),
      ...Array.from({ length: 5 }, (_, i) => `second-${i}`),
    ]);
    expect(delivered.slice(0, 9).map((r) => r.subSequenceNumber)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29]);
    const seq2 = delivered[9]!.sequenceNumber;
    await until(async () => (await table.getLease(SHARD))?.checkpoint?.sequenceNumber === seq2, 'w2 checkpoint');
    expect(await table.getLease(SHARD)).toMatchObject({ leaseOwner: 'w2', checkpoint: { sequenceNumber: seq2, subSequenceNumber: 4 } });
    expect(delivered).toHaveLength(14); // nothing before the good checkpoint was read again
  });
});
