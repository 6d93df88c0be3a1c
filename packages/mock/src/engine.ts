import { FULL_HASH_KEY_RANGE, splitHashKeyRange, type HashKeyRange } from '@kinesis-kit/aggregation';
import { parseStreamConsumerArn, silentLogger, systemClock, type Clock, type Logger } from '@kinesis-kit/core';
import {
  AwsErrorName,
  invalidArgument,
  limitExceeded,
  resourceInUse,
  resourceNotFound,
  ServiceError,
  validationError,
} from './errors.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { ConsumerState, parseShardId, ShardState, StreamState, type StreamMode } from './model.js';
import { parseSequenceNumber } from './sequence-number.js';
import { decodeShardIterator, encodeShardIterator } from './shard-iterator.js';

export const ON_DEMAND_SHARD_COUNT = 4;
export const ITERATOR_TTL_MS = 300_000;
export const MIN_RETENTION_HOURS = 24;
export const MAX_RETENTION_HOURS = 8760;

export interface EngineOptions {
  clock?: Clock;
  limits?: Limits;
  region?: string;
  accountId?: string;
  /** How long a new stream stays CREATING (0 = ACTIVE at once). */
  createStreamDelayMs?: number;
  /** How long a deleted stream stays DELETING before it disappears. */
  deleteStreamDelayMs?: number;
  /** How long a stream stays UPDATING for a reshard, mode, encryption change. */
  updateStreamDelayMs?: number;
  /** How long a registered consumer stays CREATING (and a deregistered one DELETING). */
  consumerActivationDelayMs?: number;
  logger?: Logger;
}

export interface StreamRef {
  streamName?: string;
  streamArn?: string;
}

/** One record of a PutRecords call, validated by the API layer. */
export interface PutEntry {
  partitionKey: string;
  keyBytes: number;
  /** Valid base64 text (from JSON) or bytes (direct inserts). */
  data: string | Uint8Array;
  dataBytes: number;
  /** Routing hash key as 32 hex digits (hash-routing.ts: effectiveHashKeyHex). */
  hashKeyHex: string;
}

export type PutResult = { shard: ShardState; counter: number } | { errorCode: string; errorMessage: string };

export type IteratorType = 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

export interface StartingPosition {
  type: IteratorType;
  sequenceNumber?: string;
  /** Epoch ms. */
  timestampMs?: number;
}

export interface ReadBatch {
  shard: ShardState;
  stream: StreamState;
  /** Counters [from, to) of the records read. */
  from: number;
  to: number;
  bytes: number;
  /** Position after the batch. */
  next: number;
  millisBehindLatest: number;
  /** True when the shard is closed and the batch reaches its end. */
  shardEnd: boolean;
}

export interface ChildShard {
  ShardId: string;
  ParentShards: string[];
  HashKeyRange: { StartingHashKey: string; EndingHashKey: string };
}

/**
 * The Kinesis data model and its rules: streams, shards, records, resharding, consumers, limits.
 * Inputs are already shape-checked by the API layer; the engine throws ServiceError for semantic
 * failures (missing stream, wrong state, throttling) with AWS's error names and wording.
 */
export class KinesisEngine {
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  limits: Limits;
  createStreamDelayMs: number;
  deleteStreamDelayMs: number;
  updateStreamDelayMs: number;
  consumerActivationDelayMs: number;
  readonly streams = new Map<string, StreamState>();
  private readonly timers = new Set<() => void>();
  private generation = 0;
  private closed = false;
  private readonly logger: Logger;
  /** Called when a stream goes away (subscriptions end). */
  onStreamDeleted: (stream: StreamState) => void = () => {};
  onConsumerDeleted: (consumer: ConsumerState) => void = () => {};

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.limits = options.limits ?? { ...DEFAULT_LIMITS };
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.createStreamDelayMs = options.createStreamDelayMs ?? 0;
    this.deleteStreamDelayMs = options.deleteStreamDelayMs ?? 0;
    this.updateStreamDelayMs = options.updateStreamDelayMs ?? 0;
    this.consumerActivationDelayMs = options.consumerActivationDelayMs ?? 0;
    this.logger = options.logger ?? silentLogger;
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Cancels every pending state transition. */
  close(): void {
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  setLimits(limits: Limits): void {
    this.limits = limits;
    const now = this.clock.monotonic();
    for (const stream of this.streams.values()) for (const shard of stream.shards) shard.applyLimits(limits, now);
  }

  /** Runs `fn` after `delayMs` on the engine clock (at once when 0). */
  private schedule(delayMs: number, fn: () => void): void {
    if (delayMs <= 0) {
      fn();
      return;
    }
    if (this.closed) return;
    const cancel = this.clock.setTimer(() => {
      this.timers.delete(cancel);
      fn();
    }, delayMs);
    this.timers.add(cancel);
  }

  // ---- names and lookups -----------------------------------------------------------------

  streamArn(name: string): string {
    return `arn:aws:kinesis:${this.region}:${this.accountId}:stream/${name}`;
  }

  /** The stream name in one of our stream ARNs; throws ResourceNotFound for another region/account. */
  streamNameFromArn(arn: string): string {
    const m = /^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]+)$/.exec(arn);
    if (!m) throw invalidArgument(`StreamARN ${arn} is not a valid stream ARN.`);
    if (m[1] !== this.region || m[2] !== this.accountId) throw resourceNotFound(`Stream ${m[3]} under account ${m[2]} not found.`);
    return m[3]!;
  }

  /** Finds a stream by name or ARN (both must agree when both are given); any status. */
  findStream(ref: StreamRef): StreamState {
    let name = ref.streamName;
    if (ref.streamArn !== undefined) {
      const fromArn = this.streamNameFromArn(ref.streamArn);
      if (name !== undefined && name !== fromArn) {
        throw invalidArgument(`StreamARN ${ref.streamArn} and StreamName ${name} do not identify the same stream.`);
      }
      name = fromArn;
    }
    if (name === undefined) throw invalidArgument('Either StreamName or StreamARN must be provided.');
    const stream = this.streams.get(name);
    if (!stream) throw resourceNotFound(`Stream ${name} under account ${this.accountId} not found.`);
    return stream;
  }

  /** A stream that accepts data-plane calls (ACTIVE or UPDATING). */
  usableStream(ref: StreamRef): StreamState {
    const stream = this.findStream(ref);
    if (stream.status === 'CREATING' || stream.status === 'DELETING') {
      throw resourceNotFound(`Stream ${stream.name} under account ${this.accountId} not found.`);
    }
    return stream;
  }

  private activeStream(ref: StreamRef): StreamState {
    const stream = this.findStream(ref);
    if (stream.status !== 'ACTIVE') {
      throw resourceInUse(`Stream ${stream.name} under account ${this.accountId} not ACTIVE, instead in state ${stream.status}`);
    }
    return stream;
  }

  /**
   * An ACTIVE stream that may be resharded by hand. SplitShard, MergeShards and UpdateShardCount are
   * "only supported for the data streams with the provisioned capacity mode"; the Kinesis API model
   * documents ValidationException for a call on an ON_DEMAND stream. The message wording is ours (assumed).
   */
  private reshardableStream(ref: StreamRef, operation: string): StreamState {
    const stream = this.activeStream(ref);
    if (stream.mode !== 'PROVISIONED') {
      throw validationError(
        `${operation} is not supported for stream ${stream.name} under account ${this.accountId} in ${stream.mode} mode. This API is only supported for the data streams with the provisioned capacity mode.`,
      );
    }
    return stream;
  }

  findShard(stream: StreamState, shardId: string): ShardState {
    const index = parseShardId(shardId);
    const shard = index === undefined ? undefined : stream.shards[index];
    if (!shard) throw resourceNotFound(`Shard ${shardId} in stream ${stream.name} under account ${this.accountId} does not exist`);
    return shard;
  }

  openShardCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.openShards.length;
    return n;
  }

  private checkShardLimit(additional: number): void {
    const current = this.openShardCount();
    if (current + additional > this.limits.shardLimit) {
      throw limitExceeded(
        `This request would exceed the shard limit for the account ${this.accountId} in ${this.region}. ` +
          `Current shard count for the account: ${current}. Limit: ${this.limits.shardLimit}. ` +
          `Number of additional shards that would have resulted from this request: ${additional}. ` +
          'Refer to the AWS Service Limits page (https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.',
      );
    }
  }

  // ---- streams -----------------------------------------------------------------------------

  createStream(name: string, shardCount: number | undefined, mode: StreamMode = 'PROVISIONED', tags?: Record<string, string>): StreamState {
    if (this.streams.has(name)) throw resourceInUse(`Stream ${name} under account ${this.accountId} already exists.`);
    const count = mode === 'ON_DEMAND' ? ON_DEMAND_SHARD_COUNT : shardCount;
    if (count === undefined) throw invalidArgument('ShardCount is required for PROVISIONED streams.');
    if (mode === 'ON_DEMAND') {
      const onDemand = [...this.streams.values()].filter((s) => s.mode === 'ON_DEMAND').length;
      if (onDemand + 1 > this.limits.onDemandStreamCountLimit) {
        throw limitExceeded(`This request would exceed the on-demand stream count limit of ${this.limits.onDemandStreamCountLimit} for the account ${this.accountId} in ${this.region}.`);
      }
    }
    this.checkShardLimit(count);
    const now = this.clock.now();
    const stream = new StreamState(name, this.streamArn(name), ++this.generation, now, mode);
    for (const [k, v] of Object.entries(tags ?? {})) stream.tags.set(k, v);
    const mono = this.clock.monotonic();
    for (const range of splitHashKeyRange(FULL_HASH_KEY_RANGE, count)) {
      stream.shards.push(new ShardState(stream.shards.length, range, now, this.limits, mono));
    }
    stream.rebuildRoutingTable();
    this.streams.set(name, stream);
    this.logger.debug({ streamName: name, shardCount: count, mode }, 'stream created');
    this.schedule(this.createStreamDelayMs, () => {
      if (stream.status === 'CREATING') stream.status = 'ACTIVE';
    });
    return stream;
  }

  deleteStream(ref: StreamRef, enforceConsumerDeletion: boolean): void {
    const stream = this.findStream(ref);
    if (stream.status === 'DELETING') return;
    if (stream.consumers.size > 0 && !enforceConsumerDeletion) {
      throw resourceInUse(`Stream ${stream.name} under account ${this.accountId} has registered consumers.`);
    }
    stream.status = 'DELETING';
    for (const consumer of stream.consumers.values()) {
      consumer.status = 'DELETING';
      this.onConsumerDeleted(consumer);
    }
    this.onStreamDeleted(stream);
    this.schedule(this.deleteStreamDelayMs, () => {
      if (this.streams.get(stream.name) === stream) this.streams.delete(stream.name);
    });
  }

  /** Runs `change` after the update delay with the stream UPDATING meanwhile (at once when the delay is 0). */
  private update(stream: StreamState, change: () => void): void {
    if (this.updateStreamDelayMs <= 0) {
      change();
      return;
    }
    stream.status = 'UPDATING';
    this.schedule(this.updateStreamDelayMs, () => {
      if (stream.status !== 'UPDATING') return;
      change();
      stream.status = 'ACTIVE';
    });
  }

  setRetention(ref: StreamRef, hours: number, direction: 'increase' | 'decrease'): void {
    const stream = this.activeStream(ref);
    if (hours < MIN_RETENTION_HOURS || hours > MAX_RETENTION_HOURS) {
      throw invalidArgument(`Minimum allowed retention period is ${MIN_RETENTION_HOURS} hours. Maximum allowed retention period is ${MAX_RETENTION_HOURS} hours.`);
    }
    if (direction === 'increase' && hours < stream.retentionHours) {
      throw invalidArgument(
        `Requested retention period (${hours} hours) for stream ${stream.name} can not be shorter than existing retention period (${stream.retentionHours} hours). Use DecreaseRetentionPeriod API.`,
      );
    }
    if (direction === 'decrease' && hours > stream.retentionHours) {
      throw invalidArgument(
        `Requested retention period (${hours} hours) for stream ${stream.name} can not be longer than existing retention period (${stream.retentionHours} hours). Use IncreaseRetentionPeriod API.`,
      );
    }
    stream.retentionHours = hours;
    for (const shard of stream.shards) this.trim(stream, shard);
  }

  setStreamMode(ref: StreamRef, mode: StreamMode): void {
    const stream = this.activeStream(ref);
    if (stream.mode === mode) throw invalidArgument(`Stream ${stream.name} is already in ${mode} mode.`);
    this.update(stream, () => {
      stream.mode = mode;
    });
  }

  setEncryption(ref: StreamRef, type: 'NONE' | 'KMS', keyId: string | undefined): void {
    const stream = this.activeStream(ref);
    this.update(stream, () => {
      stream.encryptionType = type;
      stream.keyId = type === 'KMS' ? keyId : undefined;
    });
  }

  /** ON_DEMAND streams in the account (DescribeLimits). */
  onDemandStreamCount(): number {
    return [...this.streams.values()].filter((s) => s.mode === 'ON_DEMAND').length;
  }

  // ---- resharding ---------------------------------------------------------------------------

  private newShard(stream: StreamState, range: HashKeyRange, nowMs: number, parent?: ShardState, adjacent?: ShardState): ShardState {
    const shard = new ShardState(
      stream.shards.length,
      range,
      nowMs,
      this.limits,
      this.clock.monotonic(),
      parent?.shardId,
      adjacent?.shardId,
    );
    stream.shards.push(shard);
    parent?.children.push(shard);
    adjacent?.children.push(shard);
    return shard;
  }

  private closeShards(shards: ShardState[], nowMs: number): void {
    for (const s of shards) s.closedAtMs = nowMs;
    for (const s of shards) s.notify();
  }

  splitShard(ref: StreamRef, shardId: string, newStartingHashKey: bigint): void {
    const stream = this.reshardableStream(ref, 'SplitShard');
    const parent = this.findShard(stream, shardId);
    if (!parent.open) throw resourceInUse(`Shard ${shardId} in stream ${stream.name} under account ${this.accountId} has already been merged or split, and thus is not eligible for merging or splitting.`);
    // As AWS's message says (and kinesalite checks): above StartingHashKey + 1 and below EndingHashKey.
    if (newStartingHashKey <= parent.range.startingHashKey + 1n || newStartingHashKey >= parent.range.endingHashKey) {
      throw invalidArgument(
        `NewStartingHashKey ${newStartingHashKey} used in SplitShard() on shard ${shardId} in stream ${stream.name} under account ${this.accountId} is not both greater than one plus the shard's StartingHashKey ${parent.range.startingHashKey} and less than the shard's EndingHashKey ${parent.range.endingHashKey}.`,
      );
    }
    this.checkShardLimit(1);
    this.update(stream, () => {
      const now = this.clock.now();
      this.newShard(stream, { startingHashKey: parent.range.startingHashKey, endingHashKey: newStartingHashKey - 1n }, now, parent);
      this.newShard(stream, { startingHashKey: newStartingHashKey, endingHashKey: parent.range.endingHashKey }, now, parent);
      this.closeShards([parent], now);
      stream.rebuildRoutingTable();
    });
  }

  mergeShards(ref: StreamRef, shardId: string, adjacentShardId: string): void {
    const stream = this.reshardableStream(ref, 'MergeShards');
    const a = this.findShard(stream, shardId);
    const b = this.findShard(stream, adjacentShardId);
    for (const s of [a, b]) {
      if (!s.open) throw resourceInUse(`Shard ${s.shardId} in stream ${stream.name} under account ${this.accountId} has already been merged or split, and thus is not eligible for merging or splitting.`);
    }
    const adjacent = a.range.endingHashKey + 1n === b.range.startingHashKey || b.range.endingHashKey + 1n === a.range.startingHashKey;
    if (a === b || !adjacent) {
      throw invalidArgument(`Shards ${shardId} and ${adjacentShardId} in stream ${stream.name} under account ${this.accountId} are not an adjacent pair of shards eligible for merging`);
    }
    this.update(stream, () => {
      const now = this.clock.now();
      const lo = a.range.startingHashKey < b.range.startingHashKey ? a : b;
      const hi = lo === a ? b : a;
      this.newShard(stream, { startingHashKey: lo.range.startingHashKey, endingHashKey: hi.range.endingHashKey }, now, a, b);
      this.closeShards([a, b], now);
      stream.rebuildRoutingTable();
    });
  }

  /**
   * UNIFORM_SCALING to `target` shards. Like Kinesis, it gets there through splits and merges:
   * every open shard is split at the target boundaries inside it, then the pieces of each target
   * range are merged pairwise. Intermediate shards are created and closed at once (empty), so every
   * shard has at most two parents and the lineage stays valid for consumers.
   */
  updateShardCount(ref: StreamRef, target: number): { current: number } {
    const stream = this.reshardableStream(ref, 'UpdateShardCount');
    const current = stream.openShards.length;
    if (target > current * 2) {
      throw limitExceeded(`UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: ${current} Target shard count: ${target}`);
    }
    if (target < Math.ceil(current / 2)) {
      throw limitExceeded(`UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: ${current} Target shard count: ${target}`);
    }
    this.checkShardLimit(target - current);
    this.update(stream, () => this.rescale(stream, target));
    return { current };
  }

  private rescale(stream: StreamState, target: number): void {
    const now = this.clock.now();
    const targets = splitHashKeyRange(FULL_HASH_KEY_RANGE, target);
    const cuts = targets.slice(1).map((r) => r.startingHashKey);
    const pieces: ShardState[] = [];
    const closing: ShardState[] = [];
    for (const old of stream.openShards) {
      let current = old;
      for (const cut of cuts) {
        if (cut <= current.range.startingHashKey || cut > current.range.endingHashKey) continue;
        const left = this.newShard(stream, { startingHashKey: current.range.startingHashKey, endingHashKey: cut - 1n }, now, current);
        const right = this.newShard(stream, { startingHashKey: cut, endingHashKey: current.range.endingHashKey }, now, current);
        closing.push(current);
        pieces.push(left);
        current = right;
      }
      pieces.push(current);
    }
    for (const range of targets) {
      const group = pieces.filter((p) => p.range.startingHashKey >= range.startingHashKey && p.range.endingHashKey <= range.endingHashKey);
      let merged = group[0]!;
      for (const next of group.slice(1)) {
        const child = this.newShard(stream, { startingHashKey: merged.range.startingHashKey, endingHashKey: next.range.endingHashKey }, now, merged, next);
        closing.push(merged, next);
        merged = child;
      }
    }
    this.closeShards(closing, now);
    stream.rebuildRoutingTable();
  }

  childShards(shard: ShardState): ChildShard[] {
    return shard.children.map((c) => ({
      ShardId: c.shardId,
      ParentShards: c.adjacentParentShardId ? [c.parentShardId!, c.adjacentParentShardId] : [c.parentShardId!],
      HashKeyRange: { StartingHashKey: c.rangeStrings.startingHashKey, EndingHashKey: c.rangeStrings.endingHashKey },
    }));
  }

  // ---- records -----------------------------------------------------------------------------

  /** Drops records older than the stream's retention period. */
  trim(stream: StreamState, shard: ShardState): void {
    const log = shard.log;
    if (log.length === 0) return;
    const horizon = this.clock.now() - stream.retentionMs;
    if (log.arrivalMs(log.firstCounter) < horizon) log.trimBefore(horizon);
  }

  /**
   * Appends records, applying per-shard write limits entry by entry. `failEntry(i)` lets fault
   * injection fail chosen entries with ProvisionedThroughputExceededException.
   */
  putRecords(stream: StreamState, entries: readonly PutEntry[], failEntry?: (index: number) => boolean): PutResult[] {
    const now = this.clock.now();
    const mono = this.clock.monotonic();
    const results: PutResult[] = new Array<PutResult>(entries.length);
    const touched = new Set<ShardState>();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const shard = stream.route(e.hashKeyHex);
      const size = e.keyBytes + e.dataBytes;
      if (failEntry?.(i) || !this.admitWrite(shard, size, mono)) {
        results[i] = {
          errorCode: AwsErrorName.THROUGHPUT_EXCEEDED,
          errorMessage: `Rate exceeded for shard ${shard.shardId} in stream ${stream.name} under account ${this.accountId}.`,
        };
        continue;
      }
      if (!touched.has(shard)) {
        this.trim(stream, shard);
        touched.add(shard);
      }
      results[i] = { shard, counter: shard.log.append(e.partitionKey, e.keyBytes, e.data, e.dataBytes, now) };
    }
    for (const shard of touched) if (shard.listeners.size > 0) shard.notify();
    return results;
  }

  private admitWrite(shard: ShardState, size: number, mono: number): boolean {
    if (shard.writeRecords.unlimited && shard.writeBytes.unlimited) return true;
    if (shard.writeRecords.available(mono) < 1 || shard.writeBytes.available(mono) < size) return false;
    shard.writeRecords.takeDebt(1, mono);
    shard.writeBytes.takeDebt(size, mono);
    return true;
  }

  /** Where a reader starts in `shard` for `position`. */
  startingCounter(stream: StreamState, shard: ShardState, position: StartingPosition): number {
    this.trim(stream, shard);
    const log = shard.log;
    switch (position.type) {
      case 'TRIM_HORIZON':
        return log.firstCounter;
      case 'LATEST':
        return log.nextCounter;
      case 'AT_TIMESTAMP': {
        const now = this.clock.now();
        const ts = position.timestampMs!;
        if (ts > now) {
          throw invalidArgument(
            `The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: ${ts}, currentTimestampInMillis: ${now}`,
          );
        }
        return log.counterAtTimestamp(ts);
      }
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        const seq = position.sequenceNumber!;
        const parsed = parseSequenceNumber(seq);
        if (!parsed || parsed.shardIndex !== shard.index) {
          throw invalidArgument(`Invalid StartingSequenceNumber. It encodes a different shard, or it is not a sequence number of shard ${shard.shardId} in stream ${stream.name} under account ${this.accountId}.`);
        }
        const counter = position.type === 'AT_SEQUENCE_NUMBER' ? parsed.counter : parsed.counter + 1;
        if (counter > log.nextCounter) {
          throw invalidArgument(`StartingSequenceNumber ${seq} used in GetShardIterator on shard ${shard.shardId} in stream ${stream.name} under account ${this.accountId} is invalid because it did not come from this stream.`);
        }
        return Math.max(counter, log.firstCounter);
      }
    }
  }

  getShardIterator(ref: StreamRef, shardId: string, position: StartingPosition): string {
    const stream = this.usableStream(ref);
    const shard = this.findShard(stream, shardId);
    if (!shard.iteratorCalls.tryTake(1, this.clock.monotonic())) {
      throw new ServiceError(
        AwsErrorName.THROUGHPUT_EXCEEDED,
        `Rate exceeded for shard ${shard.shardId} in stream ${stream.name} under account ${this.accountId}.`,
      );
    }
    const counter = this.startingCounter(stream, shard, position);
    return encodeShardIterator({ streamName: stream.name, generation: stream.generation, shardIndex: shard.index, counter, issuedAtMs: this.clock.now() });
  }

  /** Resolves a shard iterator and reads a batch (GetRecords), applying read limits. */
  getRecords(iterator: string, limit: number, streamArn?: string): ReadBatch & { nextIterator: string | null } {
    const it = decodeShardIterator(iterator);
    if (!it) throw invalidArgument(`Invalid ShardIterator.`);
    const now = this.clock.now();
    if (now - it.issuedAtMs > ITERATOR_TTL_MS) {
      throw new ServiceError(
        AwsErrorName.EXPIRED_ITERATOR,
        `Iterator expired. The iterator was created at time ${new Date(it.issuedAtMs).toUTCString()} while right now it is ${new Date(now).toUTCString()} which is further in the future than the tolerated delay of ${ITERATOR_TTL_MS} milliseconds.`,
      );
    }
    const stream = this.streams.get(it.streamName);
    if (!stream || stream.generation !== it.generation || stream.status === 'DELETING') {
      throw resourceNotFound(`Stream ${it.streamName} under account ${this.accountId} not found.`);
    }
    if (streamArn !== undefined && streamArn !== stream.arn) throw invalidArgument(`StreamARN ${streamArn} does not match the shard iterator's stream.`);
    const shard = stream.shards[it.shardIndex];
    if (!shard) throw invalidArgument('Invalid ShardIterator.');
    const mono = this.clock.monotonic();
    if (!shard.readCalls.tryTake(1, mono) || shard.readBytes.available(mono) <= 0) {
      throw new ServiceError(
        AwsErrorName.THROUGHPUT_EXCEEDED,
        `Rate exceeded for shard ${shard.shardId} in stream ${stream.name} under account ${this.accountId}.`,
      );
    }
    const batch = this.read(stream, shard, it.counter, Math.min(limit, this.limits.getRecordsMaxRecords), this.limits.getRecordsMaxBytes);
    shard.readBytes.takeDebt(batch.bytes, mono);
    const nextIterator = batch.shardEnd
      ? null
      : encodeShardIterator({ streamName: stream.name, generation: stream.generation, shardIndex: shard.index, counter: batch.next, issuedAtMs: now });
    return { ...batch, nextIterator };
  }

  /** Reads up to `maxRecords` / `maxBytes` from `counter` on (no limits applied). */
  read(stream: StreamState, shard: ShardState, counter: number, maxRecords: number, maxBytes: number): ReadBatch {
    this.trim(stream, shard);
    const log = shard.log;
    const from = Math.max(counter, log.firstCounter);
    const end = log.nextCounter;
    const { to, bytes } = log.scan(from, maxRecords, maxBytes);
    const millisBehindLatest = to < end ? Math.max(0, this.clock.now() - log.arrivalMs(to)) : 0;
    return { shard, stream, from, to, bytes, next: to, millisBehindLatest, shardEnd: !shard.open && to >= end };
  }

  // ---- consumers ---------------------------------------------------------------------------

  consumerArn(stream: StreamState, name: string, createdAtMs: number): string {
    return `${stream.arn}/consumer/${name}:${Math.floor(createdAtMs / 1000)}`;
  }

  registerConsumer(streamArn: string, name: string): { consumer: ConsumerState; statusAtCreation: 'CREATING' } {
    const stream = this.findStream({ streamArn });
    if (stream.status === 'CREATING' || stream.status === 'DELETING') {
      throw resourceInUse(`Stream ${stream.name} under account ${this.accountId} not ACTIVE, instead in state ${stream.status}`);
    }
    if (stream.consumers.has(name)) throw resourceInUse(`Consumer ${name} under stream ${stream.name} under account ${this.accountId} already exists.`);
    if (stream.consumers.size >= this.limits.consumersPerStream) {
      throw limitExceeded(`Consumer limit of ${this.limits.consumersPerStream} for stream ${stream.name} under account ${this.accountId} exceeded.`);
    }
    let creating = 0;
    for (const c of stream.consumers.values()) if (c.status === 'CREATING') creating++;
    if (creating >= this.limits.consumersCreatingPerStream) {
      throw limitExceeded(
        `Only ${this.limits.consumersCreatingPerStream} consumers can be in CREATING status at the same time; stream ${stream.name} under account ${this.accountId} has ${creating}.`,
      );
    }
    const now = this.clock.now();
    const consumer = new ConsumerState(name, this.consumerArn(stream, name, now), now, stream);
    stream.consumers.set(name, consumer);
    this.schedule(this.consumerActivationDelayMs, () => {
      if (consumer.status === 'CREATING') consumer.status = 'ACTIVE';
    });
    return { consumer, statusAtCreation: 'CREATING' };
  }

  /** Finds a consumer by ARN, or by stream ARN + name. */
  findConsumer(ref: { consumerArn?: string; streamArn?: string; consumerName?: string }): ConsumerState {
    if (ref.consumerArn !== undefined) {
      const parts = parseStreamConsumerArn(ref.consumerArn);
      if (!parts) throw invalidArgument(`ConsumerARN ${ref.consumerArn} is not a valid consumer ARN.`);
      const stream = this.findStream({ streamArn: parts.streamArn });
      const consumer = stream.consumers.get(parts.consumerName);
      if (!consumer || consumer.arn !== ref.consumerArn) {
        throw resourceNotFound(`Consumer ${ref.consumerArn} under account ${this.accountId} not found.`);
      }
      return consumer;
    }
    if (ref.streamArn === undefined || ref.consumerName === undefined) {
      throw invalidArgument('Either ConsumerARN or both StreamARN and ConsumerName must be provided.');
    }
    const stream = this.findStream({ streamArn: ref.streamArn });
    const consumer = stream.consumers.get(ref.consumerName);
    if (!consumer) throw resourceNotFound(`Consumer ${ref.consumerName} under stream ${stream.name} under account ${this.accountId} not found.`);
    return consumer;
  }

  deregisterConsumer(ref: { consumerArn?: string; streamArn?: string; consumerName?: string }): void {
    const consumer = this.findConsumer(ref);
    if (consumer.status === 'DELETING') return;
    consumer.status = 'DELETING';
    this.onConsumerDeleted(consumer);
    this.schedule(this.consumerActivationDelayMs, () => {
      if (consumer.stream.consumers.get(consumer.name) === consumer) consumer.stream.consumers.delete(consumer.name);
    });
  }
}
