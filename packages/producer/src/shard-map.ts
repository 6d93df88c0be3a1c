import { ListShardsCommand, type KinesisClient, type ListShardsCommandInput } from '@aws-sdk/client-kinesis';
import { parseHashKeyRange, type HashKeyRange } from '@kinesis-kit/aggregation';
import { backoffDelay, classifyAwsError, errorFields, type Clock, type Logger } from '@kinesis-kit/core';
import { compareWords, hashKeyToWords, type HashKeyWords } from './hash-key-words.js';
import { CONSTANTS } from './options.js';

export interface ShardMapOptions {
  client: KinesisClient;
  streamName: string | undefined;
  streamArn: string | undefined;
  clock: Clock;
  logger: Logger;
  requestTimeout: number;
  onUpdate?: (openShards: number) => void;
  onFailure?: (error: Error, retryInMs: number) => void;
}

interface Entry {
  endingHashKey: bigint;
  shardId: string;
}

/**
 * The stream's open shards by hash range, from ListShards (AT_LATEST, paginated with NextToken
 * alone). One refresh at a time is shared by every caller; failures retry with the KPL's backoff
 * (1 s x1.5 up to 30 s). Ranges of shards seen earlier stay known after they close, so a record
 * that landed on a closed parent or a child can still be checked against its range.
 */
export class ShardMap {
  private entries: Entry[] = [];
  private open = new Set<string>();
  /** The entries' ending hash keys, 4 big-endian words each, for predictWords. */
  private endingWords = new Uint32Array(0);
  private readonly ranges = new Map<string, HashKeyRange>();
  private inflight: Promise<boolean> | undefined;
  private updatedAt = -Infinity;
  private failures = 0;
  private cancelRetry: (() => void) | undefined;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly options: ShardMapOptions) {}

  /** True once a map has been loaded (it stays usable, if stale, while a refresh runs). */
  get ready(): boolean {
    return this.entries.length > 0;
  }

  get openShardIds(): string[] {
    return this.entries.map((e) => e.shardId);
  }

  /** True when the shard is open in the current map. */
  isOpen(shardId: string): boolean {
    return this.open.has(shardId);
  }

  /** Monotonic time of the last successful update. */
  get lastUpdated(): number {
    return this.updatedAt;
  }

  /** The open shard whose range holds `hashKey`, or undefined while no map is known. */
  predict(hashKey: bigint): string | undefined {
    const entries = this.entries;
    let lo = 0;
    let hi = entries.length - 1;
    if (hi < 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.endingHashKey >= hashKey) hi = mid;
      else lo = mid + 1;
    }
    const entry = entries[lo]!;
    return entry.endingHashKey >= hashKey ? entry.shardId : undefined;
  }

  /** predict() for a hash key given as 4 big-endian words (the producer's hot path: no bigint). */
  predictWords(hashKey: HashKeyWords): string | undefined {
    const entries = this.entries;
    const table = this.endingWords;
    let lo = 0;
    let hi = entries.length - 1;
    if (hi < 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(hashKey, table, mid * 4) <= 0) hi = mid;
      else lo = mid + 1;
    }
    return compareWords(hashKey, table, lo * 4) <= 0 ? entries[lo]!.shardId : undefined;
  }

  /** The hash range of a shard seen in any map so far. */
  rangeOf(shardId: string): HashKeyRange | undefined {
    return this.ranges.get(shardId);
  }

  /**
   * The map was seen to be stale at monotonic time `seenAt` (a record landed elsewhere): refresh
   * unless a refresh already started after that moment.
   */
  invalidate(seenAt: number): Promise<boolean> {
    if (this.inflight) return this.inflight;
    if (seenAt < this.updatedAt) return Promise.resolve(true);
    return this.refresh();
  }

  /** Loads the map now (shared with any refresh already running). Resolves false on failure. */
  refresh(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.inflight) return this.inflight;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const started = this.options.clock.monotonic();
    this.inflight = this.load().then(
      (entries) => {
        this.inflight = undefined;
        this.entries = entries;
        this.open = new Set(entries.map((e) => e.shardId));
        const words = new Uint32Array(entries.length * 4);
        entries.forEach((e, i) => hashKeyToWords(e.endingHashKey, words.subarray(i * 4, i * 4 + 4)));
        this.endingWords = words;
        this.updatedAt = started;
        this.failures = 0;
        this.options.logger.debug({ openShards: entries.length }, 'shard map updated');
        this.options.onUpdate?.(entries.length);
        return true;
      },
      (err: unknown) => {
        this.inflight = undefined;
        if (this.closed) return false;
        this.failures++;
        const delay = backoffDelay(this.failures, {
          baseMs: CONSTANTS.shardMapRetryBaseMs,
          maxMs: CONSTANTS.shardMapRetryMaxMs,
          multiplier: CONSTANTS.shardMapRetryMultiplier,
          jitter: 'none',
        });
        const error = err instanceof Error ? err : new Error(String(err));
        this.options.logger.warn({ ...errorFields(err), retryInMs: delay, code: classifyAwsError(err).code }, 'shard map refresh failed');
        this.options.onFailure?.(error, delay);
        this.cancelRetry = this.options.clock.setTimer(() => {
          this.cancelRetry = undefined;
          void this.refresh();
        }, delay);
        return false;
      },
    );
    return this.inflight;
  }

  close(): void {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    this.abort.abort();
  }

  private async load(): Promise<Entry[]> {
    const { client, streamName, streamArn, clock, requestTimeout } = this.options;
    const entries: Entry[] = [];
    let nextToken: string | undefined;
    do {
      // Later pages carry NextToken alone: adding the stream name (or ARN) is an error (KPL issue #481).
      const input: ListShardsCommandInput = nextToken
        ? { NextToken: nextToken, MaxResults: CONSTANTS.listShardsMaxResults }
        : {
            ...(streamName !== undefined ? { StreamName: streamName } : {}),
            ...(streamArn !== undefined ? { StreamARN: streamArn } : {}),
            ShardFilter: { Type: 'AT_LATEST' },
            MaxResults: CONSTANTS.listShardsMaxResults,
          };
      const timeout = new AbortController();
      const onClose = () => timeout.abort();
      this.abort.signal.addEventListener('abort', onClose, { once: true });
      const cancel = clock.setTimer(() => timeout.abort(), requestTimeout);
      try {
        const out = await client.send(new ListShardsCommand(input), { abortSignal: timeout.signal });
        for (const shard of out.Shards ?? []) {
          if (!shard.ShardId || !shard.HashKeyRange?.StartingHashKey || !shard.HashKeyRange.EndingHashKey) continue;
          const range = parseHashKeyRange({ startingHashKey: shard.HashKeyRange.StartingHashKey, endingHashKey: shard.HashKeyRange.EndingHashKey });
          this.ranges.set(shard.ShardId, range);
          if (shard.SequenceNumberRange?.EndingSequenceNumber === undefined) entries.push({ endingHashKey: range.endingHashKey, shardId: shard.ShardId });
        }
        nextToken = out.NextToken;
      } finally {
        cancel();
        this.abort.signal.removeEventListener('abort', onClose);
      }
    } while (nextToken);
    if (entries.length === 0) throw new Error('ListShards returned no open shard');
    entries.sort((a, b) => (a.endingHashKey < b.endingHashKey ? -1 : a.endingHashKey > b.endingHashKey ? 1 : 0));
    return entries;
  }
}
