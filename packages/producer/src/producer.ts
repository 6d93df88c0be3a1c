import { PutRecordsCommand, type KinesisClient, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import {
  canonicalExplicitHashKey,
  effectiveHashKey,
  hashKeyInRange,
  RecordAggregator,
  validatePartitionKey,
  type HashKeyRange,
} from '@kinesis-kit/aggregation';
import {
  backoffDelay,
  childLogger,
  classifyAwsError,
  errorFields,
  RepeatedLog,
  Semaphore,
  speaksAwsJson11,
  TypedEmitter,
  type ClassifiedAwsError,
  type Logger,
} from '@kinesis-kit/core';
import { BatchSettlement } from './batch.js';
import { buildKinesisClient } from './client.js';
import { Collector } from './collector.js';
import { BackPressureError, InvalidRecordError, ProducerClosedError, ProducerErrorCode, ShardMapUnavailableError, UserRecordFailedError } from './errors.js';
import { hashKeyToWords, partitionKeyHashWords, type HashKeyWords } from './hash-key-words.js';
import { LimiterStage } from './limiter-stage.js';
import { ProducerMetricName as M, ProducerMetrics } from './metrics.js';
import { CONSTANTS, containerMaxSize, resolveProducerOptions, type KinesisProducerOptions, type ResolvedProducerOptions } from './options.js';
import { addAttempt, attemptCount, containerFromAggregated, NO_ATTEMPTS, PendingList, recordBytes, singleContainer, type Container, type PendingRecord } from './pending.js';
import { ReadyGate } from './ready-gate.js';
import { useNativeRecordsBody } from './records-body.js';
import { ShardAggregators } from './shard-aggregators.js';
import { ShardMap } from './shard-map.js';
import type { Attempt, FailedUserRecordResult, ProducerEvents, ProducerRecord, SuccessfulUserRecordResult } from './types.js';
import { UnroutedRecords } from './unrouted.js';

const THROTTLED = 'ProvisionedThroughputExceededException';
const WRONG_SHARD = 'Wrong Shard';
const EXPIRED = 'Expired';

/** Validated records waiting for room, admitted in order from `next` (a put() waits as a batch of one). */
interface Waiter {
  records: PendingRecord[];
  next: number;
}

/** Scratch for an explicit hash key's words while routing. */
const EXPLICIT_WORDS: HashKeyWords = new Uint32Array(4);

/** The words a record routes by (valid until the next call). */
function routingWords(r: PendingRecord): HashKeyWords {
  return r.explicitHashKey === undefined ? partitionKeyHashWords(r.partitionKey) : hashKeyToWords(BigInt(r.explicitHashKey), EXPLICIT_WORDS);
}

const unsettled = (): void => {
  throw new Error('internal: record settled before admission');
};

// One shared executor hands out each new promise's resolve function (executors run synchronously),
// so put() allocates no closure of its own per record. Only `resolve` is kept: a record fails by
// resolving with a rejected promise (which the put() promise adopts), so the reject function dies
// young instead of living as long as the record (~70 bytes less per outstanding record).
let capturedResolve: PendingRecord['resolve'] = unsettled;
function captureResolve(resolve: PendingRecord['resolve']): void {
  capturedResolve = resolve;
}

/** The result of a record that finally failed: its attempts so far (a fresh array when it made none). */
function failedResult(r: PendingRecord): FailedUserRecordResult {
  const result: FailedUserRecordResult = { successful: false, attempts: r.attempts === NO_ATTEMPTS ? [] : r.attempts };
  if (r.attemptsOmitted > 0) result.attemptsOmitted = r.attemptsOmitted;
  return result;
}

/** Hands a record's final failure to its put() promise (rejecting it) or to its putMany() batch. */
function deliverFailure(r: PendingRecord, error: UserRecordFailedError | ProducerClosedError, result: FailedUserRecordResult): void {
  if (r.batch === undefined) r.resolve(Promise.reject(error));
  else r.batch.fail(r.batchIndex, r.original, error, result);
}

/** ListShards on a stream being created (CREATING): it becomes listable by itself. */
const STREAM_NOT_ACTIVE = 'ResourceInUseException';

/**
 * A ListShards failure that retrying will not fix (no such stream, access denied, no region), or
 * undefined for one it may: network trouble, throttling, a stream still being created.
 */
function lastingListShardsError(error: Error): ClassifiedAwsError | undefined {
  const classified = classifyAwsError(error);
  return classified.retriable || classified.code === STREAM_NOT_ACTIVE ? undefined : classified;
}

/**
 * A KPL-compatible producer: put() -> validate -> predicted shard -> that shard's aggregator ->
 * per-shard rate limiter -> PutRecords collector -> sender (maxConnections in flight, SDK retries
 * off) -> each record's promise settles with shard, sequence and sub-sequence number. Failures go
 * back through backoff and re-aggregation until recordTtl. Outstanding records and bytes are bounded.
 */
export class KinesisProducer {
  private readonly options: ResolvedProducerOptions;
  private readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private readonly logger: Logger;
  /** A failing PutRecords is logged once per error code per 10 s (with how many went unlogged). */
  private readonly failureLog: RepeatedLog;
  private readonly emitter: TypedEmitter<ProducerEvents>;
  private readonly metrics: ProducerMetrics;
  private readonly shardMap: ShardMap;
  private readonly readyGate = new ReadyGate();
  private readonly aggregators: ShardAggregators;
  private readonly limiter: LimiterStage;
  private readonly collector: Collector;
  private readonly semaphore: Semaphore;
  /** aggregationMaxSize capped to what one PutRecords entry may carry (containerMaxSize). */
  private readonly containerMaxSize: number;

  /** Accepted, unsettled records in put() order (the first is the oldest). */
  private readonly pending = new PendingList();
  private nextId = 1;
  private bytesOutstanding = 0;
  private readonly waiters: Waiter[] = [];
  private capacityListeners: (() => void)[] = [];
  private flushWaiters: { lastId: number; resolve: () => void }[] = [];
  /** A pushOut() is queued for the end of this turn. */
  private pushOutQueued = false;
  /** Strict ordering: records held until the shard map is known (or a reshard is handled). */
  private readonly unrouted: UnroutedRecords;
  /**
   * Strict ordering: the last ListShards error when it was permanent (missing stream, access
   * denied) and no map is known; records that would wait for the map fail with it instead.
   */
  private shardMapError: ClassifiedAwsError | undefined;
  private failUnroutedQueued = false;
  /**
   * Strict ordering: containers sent again after landing on another shard (a reshard) that have not
   * been re-queued yet. While any is pending, new records wait unrouted, so none of them can reach
   * the new shard before the older records of the same key.
   */
  private reshardRetries = 0;
  /**
   * Strict ordering: shards the map says are closed that still hold records (queued, buffered or
   * in flight), with their ranges. They keep taking the records of their range until they have
   * drained (see strictShardFor).
   */
  private readonly drainingParents = new Map<string, HashKeyRange>();
  private readonly retryTimers = new Set<() => void>();
  /** Requests in flight by abort controller: the cancel of each one's requestTimeout timer, and its batch. */
  private readonly inflight = new Map<AbortController, { cancelTimeout: () => void; batch: Container[] }>();
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Whether PutRecords bodies are written by records-body.ts (see there) rather than the SDK's serializer. */
  private nativeRecordsBody: boolean;
  private readonly stopNativeRecordsBody = (): void => {
    if (this.nativeRecordsBody) this.logger.warn({}, 'the SDK client wrote an unexpected PutRecords body; its own serializer writes them from now on');
    this.nativeRecordsBody = false;
  };

  constructor(options: KinesisProducerOptions) {
    const o = resolveProducerOptions(options);
    this.options = o;
    this.logger = childLogger(o.logger, { component: 'KinesisProducer', streamName: o.streamLabel });
    this.failureLog = new RepeatedLog(o.clock);
    this.emitter = new TypedEmitter<ProducerEvents>(this.logger);
    this.metrics = new ProducerMetrics(o.metrics, o.metricsLevel, o.metricsGranularity, o.streamLabel, o.clock);
    this.ownsClient = o.kinesisClient === undefined;
    this.client = o.kinesisClient ?? buildKinesisClient(o);
    this.nativeRecordsBody = speaksAwsJson11(this.client);
    this.semaphore = new Semaphore(o.maxConnections);
    this.shardMap = new ShardMap({
      client: this.client,
      streamName: o.streamName,
      streamArn: o.streamArn,
      clock: o.clock,
      logger: this.logger,
      requestTimeout: o.requestTimeout,
      onUpdate: (openShards) => {
        this.shardMapError = undefined;
        this.readyGate.open();
        if (o.strictOrdering) this.findDrainingParents();
        // Shards that closed: their aggregators and queues go once they hold nothing (bounded memory).
        this.aggregators.retireClosed();
        this.limiter.retireClosed();
        this.emitter.emit('shardMapUpdated', { openShards });
        this.routeUnrouted();
      },
      onFailure: (error, retryInMs) => {
        const lasting = lastingListShardsError(error);
        this.shardMapFailed(lasting);
        this.failReadyWaiters(error, lasting);
        this.emitter.emit('shardMapRefreshFailed', { error, retryInMs });
      },
    });
    this.unrouted = new UnroutedRecords(o.clock, CONSTANTS.limiterDrainMs, (records, now) => {
      for (const r of records) this.expire(r, now, 'Expiration reached while waiting for the shard map');
    });
    this.containerMaxSize = containerMaxSize(o);
    const isOpen = (shardId: string): boolean => this.shardMap.isOpen(shardId);
    this.aggregators = new ShardAggregators(
      { maxCount: o.aggregationMaxCount, maxSize: this.containerMaxSize },
      o.clock,
      (c) => this.limiter.enqueue(c.predictedShardId!, c),
      isOpen,
    );
    this.limiter = new LimiterStage(
      {
        rateLimit: o.rateLimit,
        recordsPerSecond: CONSTANTS.shardRecordsPerSecond,
        bytesPerSecond: CONSTANTS.shardBytesPerSecond,
        largestRecordBytes: Math.max(this.containerMaxSize, o.maxUserRecordSize),
        drainMs: CONSTANTS.limiterDrainMs,
        strict: o.strictOrdering,
      },
      o.clock,
      (c) => {
        this.collector.add(c);
        this.pushOut();
      },
      (c, shardId) => this.expiredInLimiter(c, shardId),
      isOpen,
    );
    const lingerMs = Math.min(CONSTANTS.collectorLingerMaxMs, CONSTANTS.collectorLingerShare * o.recordMaxBufferedTime);
    this.collector = new Collector({ maxCount: o.collectionMaxCount, maxSize: o.collectionMaxSize, lingerMs }, o.clock, (batch) => {
      void this.dispatch(batch);
    });
    void this.shardMap.refresh();
  }

  // ---- public face -----------------------------------------------------------------------------

  /** Accepted records not yet settled (the KPL's getOutstandingRecordsCount()). */
  get outstandingRecords(): number {
    return this.pending.size;
  }

  /** Bytes (partition key + data) of the outstanding records. */
  get outstandingBytes(): number {
    return this.bytesOutstanding;
  }

  /** Age of the oldest outstanding record, ms (0 when none). */
  get oldestRecordAgeMs(): number {
    const first = this.pending.oldest;
    return first === undefined ? 0 : Math.max(0, this.options.clock.monotonic() - first.arrival);
  }

  /** True when put() would be accepted at once (below both outstanding limits, nobody waiting). */
  get hasCapacity(): boolean {
    return this.waiters.length === 0 && this.pending.size < this.options.maxOutstandingRecords && this.bytesOutstanding < this.options.maxOutstandingBytes;
  }

  /** Resolves when `hasCapacity` is true (or the producer is closed). */
  waitForCapacity(): Promise<void> {
    if (this.hasCapacity || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.capacityListeners.push(resolve));
  }

  /**
   * Resolves once the shard map is loaded (records put before then go out unaggregated and skip
   * the per-shard rate limiter). Rejects with ShardMapUnavailableError while ListShards fails with
   * an error retrying will not fix (no such stream, access denied): the producer keeps retrying in
   * the background, so a later call may resolve. Rejects with ProducerClosedError as soon as
   * close() is called before the map was known, and with the signal's reason when `signal` aborts.
   */
  ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.readyGate.wait(options.signal);
  }

  on<K extends keyof ProducerEvents>(event: K, listener: (payload: ProducerEvents[K]) => void | Promise<void>): () => void {
    return this.emitter.on(event, listener);
  }

  /**
   * Sends a user record. Resolves with where it landed; rejects with InvalidRecordError (at once, for
   * bad input), BackPressureError (limit reached and backPressure 'reject'), ProducerClosedError, or
   * UserRecordFailedError (carrying the result and the record) when it finally fails.
   */
  put(record: ProducerRecord): Promise<SuccessfulUserRecordResult> {
    if (this.closed) return Promise.reject(new ProducerClosedError(undefined, { streamName: this.options.streamLabel }));
    let valid: PendingRecord;
    try {
      valid = this.validate(record);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.waiters.length === 0 && this.hasRoom(valid.bytes)) return this.admit(valid);
    if (this.options.backPressure === 'reject') {
      return Promise.reject(
        new BackPressureError(
          `outstanding limit reached (${this.pending.size} records, ${this.bytesOutstanding} bytes; maxOutstandingRecords ${this.options.maxOutstandingRecords}, maxOutstandingBytes ${this.options.maxOutstandingBytes})`,
          { streamName: this.options.streamLabel },
        ),
      );
    }
    return new Promise((resolve) => {
      valid.resolve = resolve;
      this.waiters.push({ records: [valid], next: 0 });
    });
  }

  /**
   * Sends many user records with one promise for all of them, as KafkaJS's send() does: at high
   * rates the promise and callbacks of each put() cost about a third of the producer's CPU.
   * Resolves once every record is written, with their results in input order. Rejects with
   * BatchFailedError (every result, and each failed record with its error) when any record finally
   * fails; the others are still written. Rejects at once, accepting none of the records, with
   * InvalidRecordError for bad input (`field` is `records[i].<field>`), BackPressureError
   * (backPressure 'reject' and not all of them fit now) or ProducerClosedError. With
   * backPressure 'wait', records are accepted in order as room appears, so a batch may be larger
   * than maxOutstandingRecords.
   */
  putMany(records: readonly ProducerRecord[]): Promise<SuccessfulUserRecordResult[]> {
    if (this.closed) return Promise.reject(new ProducerClosedError(undefined, { streamName: this.options.streamLabel }));
    const given: unknown = records; // checked through a copy: Array.isArray narrows a readonly array to any[]
    if (!Array.isArray(given)) {
      return Promise.reject(new InvalidRecordError(ProducerErrorCode.INVALID_RECORD, 'records', 'putMany() takes an array of records'));
    }
    if (records.length === 0) return Promise.resolve([]);
    const valid: PendingRecord[] = new Array<PendingRecord>(records.length);
    try {
      for (let i = 0; i < records.length; i++) valid[i] = this.validate(records[i]!, `records[${i}].`);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.options.backPressure === 'reject' && !(this.waiters.length === 0 && this.allFit(valid))) {
      return Promise.reject(
        new BackPressureError(
          `a batch of ${valid.length} records does not fit the outstanding limits now (${this.pending.size} records, ${this.bytesOutstanding} bytes outstanding; maxOutstandingRecords ${this.options.maxOutstandingRecords}, maxOutstandingBytes ${this.options.maxOutstandingBytes})`,
          { streamName: this.options.streamLabel },
        ),
      );
    }
    let batch: BatchSettlement | undefined;
    const promise = new Promise<SuccessfulUserRecordResult[]>((resolve, reject) => {
      batch = new BatchSettlement(valid.length, resolve, reject, this.options.streamLabel);
    });
    for (let i = 0; i < valid.length; i++) {
      valid[i]!.batch = batch;
      valid[i]!.batchIndex = i;
    }
    const waiter: Waiter = { records: valid, next: 0 };
    if (this.waiters.length === 0) this.admitFrom(waiter);
    if (waiter.next < valid.length) this.waiters.push(waiter);
    return promise;
  }

  /**
   * Sends everything buffered now and resolves when every record accepted before the call has
   * settled, retries included: until then, what becomes ready again goes out at once (pushOut).
   */
  async flush(): Promise<void> {
    this.aggregators.flushAll();
    this.collector.flush();
    if (this.pending.size === 0) return;
    const lastId = this.nextId - 1;
    await new Promise<void>((resolve) => this.flushWaiters.push({ lastId, resolve }));
  }

  /**
   * Rejects further puts, flushes and waits for every outstanding record (through its retries, up to
   * recordTtl), then releases every timer and socket. With `signal`, aborting fails what is left
   * with ProducerClosedError and closes at once.
   */
  close(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.closed = true;
    // Waiting for the map to put records is over: puts are refused from now on.
    this.readyGate.close(new ProducerClosedError('the producer was closed before the shard map was known', { streamName: this.options.streamLabel }));
    const { signal } = options;
    if (signal?.aborted) this.abandonOnClose();
    const closing = (this.closing ??= this.closeNow());
    // Also when close() was already called: a later call's signal still ends the wait.
    if (signal && !signal.aborted) {
      const abandon = (): void => this.abandonOnClose();
      signal.addEventListener('abort', abandon, { once: true });
      const forget = (): void => signal.removeEventListener('abort', abandon);
      closing.then(forget, forget);
    }
    return closing;
  }

  // ---- intake ----------------------------------------------------------------------------------

  /**
   * Checks the record and returns it as a PendingRecord not yet admitted (no id, times or promise).
   * `at` prefixes the field an error names (`records[3].` in a batch).
   */
  private validate(record: ProducerRecord, at = ''): PendingRecord {
    if (typeof record !== 'object' || record === null) {
      throw new InvalidRecordError(ProducerErrorCode.INVALID_RECORD, at === '' ? 'record' : at.slice(0, -1), 'a record must be an object with partitionKey and data');
    }
    const raw: unknown = record.data;
    let data: Uint8Array;
    if (raw instanceof Uint8Array) data = raw;
    else if (typeof raw === 'string') data = Buffer.from(raw, 'utf8');
    else {
      throw new InvalidRecordError(
        ProducerErrorCode.INVALID_DATA,
        `${at}data`,
        `data must be a Uint8Array, Buffer or string, got ${raw === null ? 'null' : typeof raw}`,
      );
    }
    const { partitionKey } = record;
    try {
      validatePartitionKey(partitionKey);
    } catch (err) {
      throw new InvalidRecordError(ProducerErrorCode.INVALID_PARTITION_KEY, `${at}partitionKey`, (err as Error).message, { cause: err });
    }
    let explicitHashKey: string | undefined;
    const ehk: unknown = record.explicitHashKey;
    if (ehk !== undefined && ehk !== null) {
      try {
        explicitHashKey = canonicalExplicitHashKey(ehk);
      } catch (err) {
        throw new InvalidRecordError(ProducerErrorCode.INVALID_EXPLICIT_HASH_KEY, `${at}explicitHashKey`, (err as Error).message, { cause: err });
      }
    }
    const bytes = recordBytes(partitionKey, data);
    if (bytes > this.options.maxUserRecordSize) {
      throw new InvalidRecordError(
        ProducerErrorCode.RECORD_TOO_LARGE,
        `${at}data`,
        `partition key + data is ${bytes} bytes, over maxUserRecordSize ${this.options.maxUserRecordSize}`,
      );
    }
    return {
      id: 0,
      partitionKey,
      explicitHashKey,
      data,
      original: record,
      bytes,
      arrival: 0,
      expiration: 0,
      deadline: 0,
      lastEnd: 0,
      attempts: NO_ATTEMPTS,
      attemptsOmitted: 0,
      resolve: unsettled,
      batch: undefined,
      batchIndex: 0,
      done: false,
      prev: undefined,
      next: undefined,
    };
  }

  private hasRoom(bytes: number): boolean {
    return this.fits(this.pending.size, this.bytesOutstanding, bytes);
  }

  /** The outstanding limits: whether a record of `bytes` may join `count` records of `outstandingBytes`. */
  private fits(count: number, outstandingBytes: number, bytes: number): boolean {
    if (count === 0) return true; // a record bigger than maxOutstandingBytes still goes, alone
    return count < this.options.maxOutstandingRecords && outstandingBytes + bytes <= this.options.maxOutstandingBytes;
  }

  /** Whether hasRoom() would admit every one of the records, one after the other, now. */
  private allFit(records: readonly PendingRecord[]): boolean {
    let count = this.pending.size;
    let bytes = this.bytesOutstanding;
    for (const r of records) {
      if (!this.fits(count, bytes, r.bytes)) return false;
      count++;
      bytes += r.bytes;
    }
    return true;
  }

  /** Admits the waiter's records in order while there is room; `next` says how far it got. */
  private admitFrom(waiter: Waiter): void {
    const records = waiter.records;
    const now = Math.floor(this.options.clock.monotonic());
    while (waiter.next < records.length && this.hasRoom(records[waiter.next]!.bytes)) this.admitWith(records[waiter.next++]!, now);
  }

  private admit(record: PendingRecord): Promise<SuccessfulUserRecordResult> {
    const promise = new Promise<SuccessfulUserRecordResult>(captureResolve);
    record.resolve = capturedResolve;
    this.admitWith(record);
    return promise;
  }

  /**
   * Admits a validated record whose resolve (or batch) is set. `now` is whole ms, so the record's
   * time fields stay small integers (see PendingRecord); a batch reads the clock once.
   */
  private admitWith(record: PendingRecord, now = Math.floor(this.options.clock.monotonic())): void {
    const expiration = now + this.options.recordTtl;
    record.id = this.nextId++;
    record.arrival = now;
    record.expiration = expiration;
    record.deadline = Math.min(now + this.options.recordMaxBufferedTime, expiration);
    record.lastEnd = now;
    this.pending.append(record);
    this.bytesOutstanding += record.bytes;
    if (this.metrics.detailed) this.metrics.record(M.UserRecordsReceived, 1, 'Count');
    this.route(record);
  }

  // ---- routing ---------------------------------------------------------------------------------

  private route(record: PendingRecord): void {
    if (this.reshardRetries > 0) {
      this.unrouted.push(record);
      return;
    }
    let shardId = this.shardMap.predictWords(routingWords(record));
    if (shardId === undefined) {
      if (this.options.strictOrdering) {
        this.unrouted.push(record);
        if (this.shardMapError) this.failUnroutedSoon();
        return;
      }
      // No map yet (KPL behaviour): the record goes alone and skips the limiter.
      this.collector.add(singleContainer(record, undefined));
      return;
    }
    if (this.options.strictOrdering) shardId = this.strictShardFor(record, shardId);
    if (this.options.aggregationEnabled) this.aggregators.add(shardId, record);
    else this.limiter.enqueue(shardId, singleContainer(record, shardId));
  }

  /**
   * Strict ordering: the shard a record with this predicted shard is queued for. A closed shard
   * still holding records keeps taking those of its range, behind them, until it has drained:
   * after a merge, one parent's container can land on the child (which moves that parent's
   * records there) while the other parent still holds older records of its keys, and records put
   * meanwhile must not reach the child before them. (Its containers land on the child in turn.)
   */
  private strictShardFor(r: PendingRecord, predicted: string): string {
    if (this.drainingParents.size === 0) return predicted;
    const hashKey = effectiveHashKey(r.partitionKey, r.explicitHashKey);
    for (const [shardId, range] of this.drainingParents) {
      if (!hashKeyInRange(hashKey, range)) continue;
      if (this.holdsRecords(shardId)) return shardId;
      this.drainingParents.delete(shardId);
    }
    return predicted;
  }

  /**
   * Strict ordering, on a new shard map: the shards it shows closed that still hold records. Those
   * that have drained are forgotten now rather than when strictShardFor next meets them (the same
   * outcome: nothing is routed to a parent that holds nothing), so the map cannot grow with shards
   * whose keys stopped coming.
   */
  private findDrainingParents(): void {
    for (const shardId of this.drainingParents.keys()) {
      if (!this.holdsRecords(shardId)) this.drainingParents.delete(shardId);
    }
    for (const shardId of new Set([...this.limiter.shardIds(), ...this.aggregators.shardIds()])) {
      if (this.shardMap.isOpen(shardId) || this.drainingParents.has(shardId)) continue;
      const range = this.shardMap.rangeOf(shardId);
      if (range && this.holdsRecords(shardId)) this.drainingParents.set(shardId, range);
    }
  }

  /** Whether a shard still has records buffered in its aggregator, queued in the limiter, or (strict) in flight. */
  private holdsRecords(shardId: string): boolean {
    return this.limiter.holds(shardId) || this.aggregators.holds(shardId);
  }

  private routeUnrouted(): void {
    if (this.unrouted.size === 0) return;
    for (const r of this.unrouted.take()) if (!r.done) this.route(r);
    this.pushOut();
  }

  /**
   * Strict ordering: a refresh failed while no map is known. A lasting error (missing stream,
   * access denied) fails the records waiting for the map, and later ones until a refresh succeeds
   * or fails in a way a retry can fix (the lasting one may no longer hold), as the PutRecords a
   * non-strict producer sends unrouted would fail them; otherwise they wait (up to recordTtl) for
   * the next refresh.
   */
  private shardMapFailed(lasting: ClassifiedAwsError | undefined): void {
    if (!this.options.strictOrdering || this.shardMap.ready) return;
    this.shardMapError = lasting;
    if (lasting) this.failUnroutedSoon();
  }

  /**
   * ready() waits end on a ListShards error retrying will not fix (see lastingListShardsError); a
   * failure a retry can fix after such an error means it may no longer hold: later waits wait again.
   */
  private failReadyWaiters(error: Error, lasting: ClassifiedAwsError | undefined): void {
    if (!lasting) {
      this.readyGate.clearFailure();
      return;
    }
    const streamName = this.options.streamLabel;
    this.readyGate.fail(
      new ShardMapUnavailableError(`the shards of stream ${streamName} cannot be listed: ${lasting.code}: ${lasting.message}`, {
        cause: error,
        streamName,
        awsErrorCode: lasting.code,
      }),
    );
  }

  /** Out of band (a microtask), so a put() never settles records while it is being admitted. */
  private failUnroutedSoon(): void {
    if (this.failUnroutedQueued) return;
    this.failUnroutedQueued = true;
    queueMicrotask(() => {
      this.failUnroutedQueued = false;
      const error = this.shardMapError;
      if (!error || this.shardMap.ready || this.reshardRetries > 0) return;
      const now = Math.floor(this.options.clock.monotonic());
      for (const r of this.unrouted.take()) {
        if (r.done) continue;
        addAttempt(r, { delay: now - r.lastEnd, duration: 0, successful: false, errorCode: error.code, errorMessage: `ListShards failed: ${error.message}` });
        r.lastEnd = now;
        this.fail(r, false);
      }
    });
  }

  /** Strict ordering: records going back go to the head of their (re-predicted) shards' queues, in order. */
  private requeueAtHead(records: PendingRecord[]): void {
    const byShard = new Map<string, PendingRecord[]>();
    for (const r of records) {
      const predicted = this.shardMap.predictWords(routingWords(r));
      if (predicted === undefined) {
        this.unrouted.push(r);
        if (this.shardMapError) this.failUnroutedSoon();
        continue;
      }
      const shardId = this.strictShardFor(r, predicted);
      let list = byShard.get(shardId);
      if (!list) byShard.set(shardId, (list = []));
      list.push(r);
    }
    for (const [shardId, list] of byShard) {
      const containers: Container[] = [];
      if (this.options.aggregationEnabled) {
        const agg = new RecordAggregator<PendingRecord>({ maxCount: this.options.aggregationMaxCount, maxSize: this.containerMaxSize });
        for (const r of list) for (const done of agg.add(r)) containers.push(containerFromAggregated(done, shardId));
        const last = agg.flush();
        if (last) containers.push(containerFromAggregated(last, shardId));
      } else {
        for (const r of list) containers.push(singleContainer(r, shardId));
      }
      this.limiter.unshift(shardId, containers);
    }
    for (const shardId of byShard.keys()) this.limiter.drain(shardId);
  }

  /**
   * Strict ordering after a container landed on another shard: when its predicted shard has closed,
   * the records still queued for that shard go back with it, behind it, and the records that
   * arrived meanwhile (held unrouted) follow once this is done.
   */
  private requeueAfterReshard(records: PendingRecord[], shardId: string | undefined): void {
    // The shard is still held for the container that landed elsewhere, so nothing of it is in flight.
    if (shardId !== undefined && this.shardMap.ready && !this.shardMap.isOpen(shardId)) {
      const queued = this.limiter.takeQueued(shardId).flatMap((c) => c.records);
      const buffered = this.options.aggregationEnabled ? this.aggregators.takeRecords(shardId) : [];
      // Now it holds nothing: released (with an empty queue) and drained, its records go to the open shards.
      this.limiter.release(shardId);
      this.drainingParents.delete(shardId);
      this.requeueAtHead([...records, ...queued, ...buffered].filter((r) => !r.done));
    } else {
      this.requeueAtHead(records);
      if (shardId !== undefined) this.limiter.release(shardId);
    }
    this.reshardRetries--;
    if (this.reshardRetries === 0) this.routeUnrouted();
  }

  private expiredInLimiter(container: Container, _shardId: string): void {
    const now = this.options.clock.monotonic();
    const live: PendingRecord[] = [];
    for (const r of container.records) {
      if (r.done) continue;
      if (r.expiration <= now) this.expire(r, now, 'Expiration reached while waiting in limiter');
      else live.push(r);
    }
    if (live.length === 0) return;
    if (this.options.strictOrdering) {
      // The container had not passed the limiter: its shard is not held for it.
      this.requeueAtHead(live);
    } else {
      for (const r of live) this.route(r);
    }
    this.pushOut();
  }

  // ---- sending ---------------------------------------------------------------------------------

  private async dispatch(containers: Container[]): Promise<void> {
    try {
      await this.semaphore.acquire();
    } catch {
      return; // never rejects without a signal; kept for safety
    }
    const batch = this.unsettledOnly(containers);
    if (batch.length === 0) {
      this.semaphore.release();
      return;
    }
    const clock = this.options.clock;
    const start = clock.monotonic();
    const timeout = new AbortController();
    const cancel = clock.setTimer(() => timeout.abort(), this.options.requestTimeout);
    this.inflight.set(timeout, { cancelTimeout: cancel, batch });
    let response: PutRecordsCommandOutput | undefined;
    let error: unknown;
    try {
      const command = new PutRecordsCommand({
        ...(this.options.streamName !== undefined ? { StreamName: this.options.streamName } : {}),
        ...(this.options.streamArn !== undefined ? { StreamARN: this.options.streamArn } : {}),
        Records: batch.map((c) => ({ Data: c.data, PartitionKey: c.partitionKey, ExplicitHashKey: c.explicitHashKey })),
      });
      if (this.nativeRecordsBody) useNativeRecordsBody(command, this.stopNativeRecordsBody);
      response = await this.client.send(command, { abortSignal: timeout.signal });
    } catch (err) {
      error = err;
    } finally {
      cancel();
      this.inflight.delete(timeout);
      this.semaphore.release();
    }
    const end = clock.monotonic();
    try {
      await this.handleOutcome(batch, response, error, timeout.signal.aborted, start, end);
    } catch (err) {
      // Never wedge: whatever went wrong, every record of the batch is retried or settled.
      this.logger.error({ ...errorFields(err) }, 'internal error while handling a PutRecords result');
      for (const c of batch) this.failContainer(c, start, end, 'InternalProducerError', String(err), true, false);
    }
  }

  /**
   * The containers of a batch that still hold an unsettled record. Records can settle while their
   * request waits for a connection: an aborted close() fails them all as not written, so they must
   * not be written after all (nor start a timer or a request once close() returned).
   */
  private unsettledOnly(batch: Container[]): Container[] {
    const isLive = (c: Container): boolean => c.records.some((r) => !r.done);
    if (batch.every(isLive)) return batch;
    const live: Container[] = [];
    for (const c of batch) {
      if (isLive(c)) live.push(c);
      // Strict ordering: its shard was held for it; nothing will settle it now.
      else if (this.options.strictOrdering && c.predictedShardId !== undefined) this.limiter.release(c.predictedShardId);
    }
    return live;
  }

  private async handleOutcome(
    batch: Container[],
    response: PutRecordsCommandOutput | undefined,
    error: unknown,
    timedOut: boolean,
    start: number,
    end: number,
  ): Promise<void> {
    const duration = end - start;
    let userRecords = 0;
    for (const c of batch) userRecords += c.records.length;
    if (this.metrics.detailed) {
      this.metrics.record(M.RequestTime, duration, 'Milliseconds');
      this.metrics.record(M.KinesisRecordsPerPutRecordsRequest, batch.length, 'Count');
      this.metrics.record(M.UserRecordsPerPutRecordsRequest, userRecords, 'Count');
      this.metrics.record(M.UserRecordsPending, this.pending.size, 'Count');
    }
    if (error !== undefined || response === undefined) {
      const classified = classifyAwsError(error);
      const code = timedOut && !this.closed ? 'RequestTimeout' : classified.code;
      if (this.metrics.summary) {
        this.metrics.record(M.ErrorsByCode, 1, 'Count', undefined, { ErrorCode: code });
        this.metrics.record(M.AllErrors, 1, 'Count');
      }
      this.failureLog.note(code, (repeats) => this.logger.warn({ code, kind: classified.kind, entries: batch.length, userRecords, ...repeats }, 'PutRecords failed'));
      this.emitter.emit('requestCompleted', { entries: batch.length, userRecords, failedEntries: batch.length, durationMs: duration, errorCode: code });
      const retriable = timedOut || classified.retriable;
      // failIfThrottled covers ProvisionedThroughputExceededException only, as in the KPL: other
      // throttling (LimitExceededException, KMSThrottlingException, HTTP 429) is retried.
      for (const c of batch) this.failContainer(c, start, end, code, classified.message, retriable, code === THROTTLED);
      return;
    }
    const results = response.Records ?? [];
    if (results.length !== batch.length) {
      for (const c of batch) this.failContainer(c, start, end, 'Record Count Mismatch', `sent ${batch.length} records, got ${results.length} results`, true, false);
      return;
    }
    let failed = 0;
    const checks: Promise<void>[] = [];
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      const r = results[i]!;
      if (r.SequenceNumber && r.ShardId) {
        if (this.metrics.summary) this.metrics.record(M.KinesisRecordsPut, 1, 'Count', r.ShardId);
        if (this.metrics.detailed) {
          this.metrics.record(M.KinesisRecordsDataPut, c.data.length, 'Bytes', r.ShardId);
          this.metrics.record(M.UserRecordsPerKinesisRecord, c.records.length, 'Count', r.ShardId);
        }
        const check = this.succeedContainer(c, r.ShardId, r.SequenceNumber, start, end);
        if (check) checks.push(check);
      } else {
        failed++;
        const code = r.ErrorCode ?? 'UnknownError';
        if (this.metrics.summary) {
          this.metrics.record(M.KinesisRecordsPut, 0, 'Count', c.predictedShardId);
          this.metrics.record(M.ErrorsByCode, 1, 'Count', c.predictedShardId, { ErrorCode: code });
          this.metrics.record(M.AllErrors, 1, 'Count', c.predictedShardId);
        }
        const throttled = code === THROTTLED;
        const retriable = classifyAwsError({ name: code, $metadata: {} }).retriable || code === 'InternalFailure';
        this.failContainer(c, start, end, code, r.ErrorMessage ?? '', retriable, throttled);
      }
    }
    this.emitter.emit('requestCompleted', { entries: batch.length, userRecords, failedEntries: failed, durationMs: duration });
    if (checks.length > 0) await Promise.all(checks);
  }

  /** Settles a container's records as written, unless some of them are outside the shard it landed on. */
  private succeedContainer(c: Container, shardId: string, sequenceNumber: string, start: number, end: number): Promise<void> | undefined {
    const predicted = c.predictedShardId;
    if (predicted !== undefined && predicted !== shardId) {
      // Strict ordering: the map was stale (a reshard). Until the map is refreshed and what is still
      // queued for the predicted shard is re-routed, new records wait, so none overtakes older ones.
      if (this.options.strictOrdering) this.reshardRetries++;
      if (!c.aggregated) {
        // A record sent alone always lies in the range of the shard its hash key routed it to.
        this.succeedRecords(c, shardId, sequenceNumber, start, end, false);
        const refreshed = this.shardMap.invalidate(start);
        return this.options.strictOrdering ? refreshed.then(() => this.requeueAfterReshard([], predicted)) : undefined;
      }
      const range = this.shardMap.rangeOf(shardId);
      if (range === undefined) {
        // A shard we have never seen (a child after a split): learn its range, then decide.
        return this.shardMap.invalidate(start).then(() => this.settleLanded(c, shardId, sequenceNumber, start, end));
      }
      return this.settleLanded(c, shardId, sequenceNumber, start, end);
    }
    this.succeedRecords(c, shardId, sequenceNumber, start, end);
    return undefined;
  }

  /** A container landed on another shard than predicted; in strict mode the caller raised reshardRetries. */
  private settleLanded(c: Container, shardId: string, sequenceNumber: string, start: number, end: number): Promise<void> | undefined {
    const range = this.shardMap.rangeOf(shardId);
    const allInRange = range !== undefined && c.records.every((r) => hashKeyInRange(effectiveHashKey(r.partitionKey, r.explicitHashKey), range));
    const refreshed = this.shardMap.invalidate(start);
    if (allInRange) {
      this.succeedRecords(c, shardId, sequenceNumber, start, end, false);
      return this.options.strictOrdering ? refreshed.then(() => this.requeueAfterReshard([], c.predictedShardId)) : undefined;
    }
    // A range-checking reader (KCL) drops the whole container, so every record in it is sent again.
    this.emitter.emit('wrongShard', { predictedShardId: c.predictedShardId!, actualShardId: shardId, records: c.records.length });
    this.logger.info({ predictedShardId: c.predictedShardId, actualShardId: shardId, records: c.records.length }, 'container landed on another shard; retrying it whole');
    this.failContainer(c, start, end, WRONG_SHARD, `written to ${shardId} (sequence ${sequenceNumber}) outside the range of some sub-records`, true, false);
    return undefined;
  }

  /**
   * Settles a container's records as written. Strict ordering releases its predicted shard, unless
   * `release` is false: it landed elsewhere (a reshard) and requeueAfterReshard releases the shard.
   */
  private succeedRecords(c: Container, shardId: string, sequenceNumber: string, start: number, end: number, release = true): void {
    const records = c.records;
    // Whole ms, like the KPL's attempt times (and V8 keeps small integers unboxed in each Attempt).
    const from = Math.floor(start);
    const duration = Math.floor(end) - from;
    let settled = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.done) continue;
      const attempt: Attempt = { delay: from - r.lastEnd, duration, successful: true };
      addAttempt(r, attempt);
      if (this.metrics.summary) {
        this.metrics.record(M.UserRecordsPut, 1, 'Count', shardId);
        this.metrics.record(M.BufferingTime, attempt.delay, 'Milliseconds', shardId);
        if (this.metrics.detailed) {
          this.metrics.record(M.UserRecordsDataPut, r.data.length, 'Bytes', shardId);
          this.metrics.record(M.RetriesPerRecord, attemptCount(r) - 1, 'Count', shardId);
        }
      }
      this.unlink(r);
      settled++;
      const result: SuccessfulUserRecordResult = { successful: true, shardId, sequenceNumber, subSequenceNumber: c.aggregated ? i : 0, attempts: r.attempts };
      if (r.attemptsOmitted > 0) result.attemptsOmitted = r.attemptsOmitted;
      if (r.batch === undefined) r.resolve(result);
      else r.batch.succeed(r.batchIndex, result);
    }
    if (settled > 0) this.afterSettling();
    if (release && this.options.strictOrdering && c.predictedShardId !== undefined) this.limiter.release(c.predictedShardId);
  }

  private failContainer(c: Container, start: number, end: number, code: string, message: string, retriable: boolean, throttled: boolean): void {
    const live: PendingRecord[] = [];
    const from = Math.floor(start);
    const to = Math.floor(end);
    for (const r of c.records) {
      if (r.done) continue;
      const delay = from - r.lastEnd;
      addAttempt(r, { delay, duration: to - from, successful: false, errorCode: code, errorMessage: message });
      r.lastEnd = to;
      if (this.metrics.summary) this.metrics.record(M.BufferingTime, delay, 'Milliseconds', c.predictedShardId);
      live.push(r);
    }
    if (!retriable || (throttled && this.options.failIfThrottled)) {
      for (const r of live) this.fail(r, false);
      if (this.options.strictOrdering && c.predictedShardId !== undefined) this.limiter.release(c.predictedShardId);
      return;
    }
    this.scheduleRetry(live, code, c.predictedShardId);
  }

  /** Backs off (exponential, jittered, never past the earliest expiration), then re-aggregates. */
  private scheduleRetry(records: PendingRecord[], code: string, shardId: string | undefined): void {
    const clock = this.options.clock;
    const now = clock.monotonic();
    const live: PendingRecord[] = [];
    let failures = 0;
    let earliestExpiration = Infinity;
    for (const r of records) {
      if (r.expiration <= now) {
        this.expire(r, now, 'Record has reached expiration');
        continue;
      }
      live.push(r);
      const made = attemptCount(r);
      if (made > failures) failures = made;
      if (r.expiration < earliestExpiration) earliestExpiration = r.expiration;
    }
    const strict = this.options.strictOrdering;
    if (live.length === 0) {
      if (strict && code === WRONG_SHARD) this.requeueAfterReshard([], shardId);
      else if (strict && shardId !== undefined) this.limiter.release(shardId);
      return;
    }
    const delay = Math.max(
      0,
      Math.min(
        backoffDelay(failures, { baseMs: this.options.retryBaseDelay, maxMs: this.options.retryMaxDelay, jitter: 'equal' }),
        earliestExpiration - now,
      ),
    );
    this.emitter.emit('retrying', { records: live.length, errorCode: code, delayMs: delay, ...(shardId !== undefined ? { shardId } : {}) });
    const cancel = clock.setTimer(() => {
      this.retryTimers.delete(cancel);
      const at = clock.monotonic();
      const again: PendingRecord[] = [];
      for (const r of live) {
        if (r.done) continue;
        if (r.expiration <= at) {
          this.expire(r, at, 'Record has reached expiration');
          continue;
        }
        r.deadline = Math.min(Math.floor(at + this.options.recordMaxBufferedTime / 2), r.expiration);
        again.push(r);
      }
      if (strict) {
        // The shard stayed busy through the backoff, so nothing of it overtook these records.
        if (code === WRONG_SHARD) {
          this.requeueAfterReshard(again, shardId);
          this.pushOut();
          return;
        }
        this.requeueAtHead(again);
        if (shardId !== undefined) this.limiter.release(shardId);
      } else {
        for (const r of again) this.route(r);
      }
      this.pushOut();
    }, delay);
    this.retryTimers.add(cancel);
  }

  // ---- settlement ------------------------------------------------------------------------------

  private expire(r: PendingRecord, now: number, message: string): void {
    addAttempt(r, { delay: Math.floor(now) - r.lastEnd, duration: 0, successful: false, errorCode: EXPIRED, errorMessage: message });
    r.lastEnd = Math.floor(now);
    if (this.metrics.summary) this.metrics.record(M.UserRecordExpired, 1, 'Count');
    this.fail(r, true);
  }

  private fail(r: PendingRecord, expired: boolean): void {
    if (r.done) return;
    const result = failedResult(r);
    const error = new UserRecordFailedError(result, r.original, { streamName: this.options.streamLabel, expired });
    if (this.metrics.summary) {
      this.metrics.record(M.UserRecordsPut, 0, 'Count');
      if (this.metrics.detailed) this.metrics.record(M.RetriesPerRecord, Math.max(0, attemptCount(r) - 1), 'Count');
    }
    this.settle(r);
    this.emitter.emit('recordFailed', { error });
    deliverFailure(r, error, result);
  }

  private settle(r: PendingRecord): void {
    this.unlink(r);
    this.afterSettling();
  }

  /** A record leaves the outstanding set (call afterSettling once after a run of these). */
  private unlink(r: PendingRecord): void {
    r.done = true;
    this.pending.remove(r);
    this.bytesOutstanding -= r.bytes;
  }

  /** Room was made: admit waiting puts, wake capacity listeners, resolve flushes that are done. */
  private afterSettling(): void {
    if (this.waiters.length > 0) this.admitWaiters();
    if (this.capacityListeners.length > 0 && this.hasCapacity) {
      const listeners = this.capacityListeners;
      this.capacityListeners = [];
      for (const l of listeners) l();
    }
    if (this.flushWaiters.length > 0) this.checkFlushWaiters();
  }

  private admitWaiters(): void {
    // close() waits for the waiting records too: once admitted they need not wait for their deadline.
    if (this.closed) this.pushOut();
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      this.admitFrom(w);
      if (w.next < w.records.length) return;
      // Admitting can settle records and re-enter here, which may have removed w already.
      if (this.waiters[0] === w) this.waiters.shift();
    }
  }

  private checkFlushWaiters(): void {
    const oldest = this.pending.oldest?.id ?? Infinity;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      if (oldest > w.lastId) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /**
   * While a flush() or close() waits, what becomes ready (a retry after its backoff, a container
   * the rate limiter releases, records routed once the shard map is known) goes out at once rather
   * than at its recordMaxBufferedTime deadline, which may lie past its expiration (or at Infinity).
   * Once per turn, so what a turn releases shares requests. Outside a flush, deadlines hold: a
   * record whose deadline reaches its expiration expires unsent, as in the KPL.
   */
  private pushOut(): void {
    if (this.pushOutQueued || !(this.closed || this.flushWaiters.length > 0)) return;
    this.pushOutQueued = true;
    queueMicrotask(() => {
      this.pushOutQueued = false;
      this.aggregators.flushAll();
      this.collector.flush();
    });
  }

  // ---- shutdown --------------------------------------------------------------------------------

  private async closeNow(): Promise<void> {
    try {
      while (this.pending.size > 0 || this.waiters.length > 0) {
        if (this.pending.size === 0) this.admitWaiters();
        await this.flush();
      }
    } finally {
      this.shutdown();
    }
  }

  /**
   * Fails everything still outstanding or waiting (an aborted close()). A record whose request was
   * in flight may have been written (its request is aborted, not undone): its error says so.
   */
  private abandonOnClose(): void {
    const streamName = this.options.streamLabel;
    const unsent = new ProducerClosedError('close() was aborted before the record was written', { streamName });
    const inFlight = new ProducerClosedError('close() was aborted while the record was being sent: it may have been written', { streamName });
    const sending = new Set<PendingRecord>();
    for (const [ac, { cancelTimeout, batch }] of this.inflight) {
      cancelTimeout();
      ac.abort();
      for (const c of batch) for (const r of c.records) sending.add(r);
    }
    for (const w of this.waiters.splice(0)) {
      for (let i = w.next; i < w.records.length; i++) deliverFailure(w.records[i]!, unsent, failedResult(w.records[i]!));
    }
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
    for (const r of this.pending.toArray()) {
      this.settle(r);
      deliverFailure(r, sending.has(r) ? inFlight : unsent, failedResult(r));
    }
    this.unrouted.close();
  }

  private shutdown(): void {
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
    this.shardMap.close();
    this.unrouted.close();
    this.aggregators.close();
    this.limiter.close();
    this.collector.close();
    for (const l of this.capacityListeners.splice(0)) l();
    if (this.ownsClient) this.client.destroy();
    this.logger.debug({}, 'producer closed');
  }
}
