import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type _Record,
  type ChildShard,
  type KinesisClient,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { deaggregate, type UserRecord } from '@kinesis-kit/aggregation';
import { FANOUT_DEFAULTS, FanOutFetcher, MetricsScope, type StartPosition } from '@kinesis-kit/consumer';
import { backoffDelay, classifyAwsError, noopMetricsSink, silentLogger, sleep, systemClock, type Clock } from '@kinesis-kit/core';

export type TailPosition = { type: 'TRIM_HORIZON' | 'LATEST' } | { type: 'AT_TIMESTAMP'; timestamp: Date };

export interface TailedRecord extends UserRecord {
  shardId: string;
}

export interface ShardTailerOptions {
  kinesis: KinesisClient;
  streamName: string;
  from: TailPosition;
  onRecords: (records: TailedRecord[]) => void | Promise<void>;
  /** Wait between GetRecords calls on a caught-up shard (AWS allows 5 calls/s/shard). Default 1000. */
  idlePollMs?: number;
  /** Read with enhanced fan-out through this registered stream consumer instead of polling. */
  fanOutConsumerArn?: string;
  clock?: Clock;
}

/**
 * A lease-free reader for `kinesis-kit tail`: every shard in parallel, parents before children
 * (a child starts when all its parents present at start have ended), children followed at shard end.
 * It writes nothing anywhere, so it can watch a stream without disturbing its consumers.
 */
export class ShardTailer {
  private readonly idlePollMs: number;
  private readonly clock: Clock;
  private readonly started = new Set<string>();
  private readonly ended = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private shards = new Map<string, Shard>();
  /** Children found at a parent's end: read from their first record whatever `from` says. */
  private readonly fromStart = new Set<string>();

  constructor(private readonly options: ShardTailerOptions) {
    this.idlePollMs = options.idlePollMs ?? 1000;
    this.clock = options.clock ?? systemClock;
  }

  /** Runs until the signal aborts (resolves) or an unrecoverable error (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    this.shards = await this.listShards(signal);
    // LATEST and AT_TIMESTAMP only need the open shards and those whose range covers the timestamp;
    // reading closed parents from LATEST yields nothing but costs calls, so start at the leaves.
    if (this.options.from.type === 'LATEST') for (const s of this.shards.values()) if (s.SequenceNumberRange?.EndingSequenceNumber) this.ended.add(s.ShardId ?? '');
    const failure = new AbortController();
    let firstError: unknown;
    const startReady = (): void => {
      for (const shard of this.shards.values()) {
        const id = shard.ShardId ?? '';
        if (this.started.has(id) || this.ended.has(id)) continue;
        const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => p !== undefined && this.shards.has(p));
        if (!parents.every((p) => this.ended.has(p))) continue;
        this.started.add(id);
        const task = this.tailShard(id, AbortSignal.any([signal, failure.signal]), startReady).catch((err: unknown) => {
          if (signal.aborted) return;
          firstError ??= err;
          failure.abort(err);
        });
        this.running.add(task);
        void task.finally(() => this.running.delete(task));
      }
    };
    startReady();
    while (this.running.size > 0) await Promise.race(this.running);
    if (firstError !== undefined) throw firstError as Error;
  }

  private async listShards(signal: AbortSignal): Promise<Map<string, Shard>> {
    const shards = new Map<string, Shard>();
    let nextToken: string | undefined;
    do {
      const page = await this.options.kinesis.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: this.options.streamName }),
        { abortSignal: signal },
      );
      for (const shard of page.Shards ?? []) if (shard.ShardId) shards.set(shard.ShardId, shard);
      nextToken = page.NextToken;
    } while (nextToken);
    return shards;
  }

  private async iterator(shardId: string, signal: AbortSignal, after?: string): Promise<string | undefined> {
    const from = this.options.from;
    const position: { ShardIteratorType: ShardIteratorType; StartingSequenceNumber?: string; Timestamp?: Date } =
      after !== undefined
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
        : from.type === 'AT_TIMESTAMP' && !this.fromStart.has(shardId)
          ? { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: from.timestamp }
          : // A child found at its parent's end is read from its start so nothing between the two is missed.
            { ShardIteratorType: this.fromStart.has(shardId) ? 'TRIM_HORIZON' : from.type };
    const out = await this.options.kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.options.streamName, ShardId: shardId, ...position }),
      { abortSignal: signal },
    );
    return out.ShardIterator;
  }

  private async tailShard(shardId: string, signal: AbortSignal, onEnded: () => void): Promise<void> {
    if (this.options.fanOutConsumerArn !== undefined) return this.tailShardFanOut(shardId, this.options.fanOutConsumerArn, signal, onEnded);
    let lastSequence: string | undefined;
    let iterator = await this.iterator(shardId, signal);
    let failures = 0;
    while (iterator !== undefined && !signal.aborted) {
      let out;
      try {
        out = await this.options.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }), { abortSignal: signal });
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        const kind = (err as { name?: string }).name === 'ExpiredIteratorException' ? 'expired' : classifyAwsError(err).kind;
        if (kind === 'permanent') throw err;
        if (kind === 'expired') iterator = await this.iterator(shardId, signal, lastSequence);
        else await sleep(backoffDelay(failures++, { baseMs: 200, maxMs: 5000 }), signal, this.clock).catch(() => undefined);
        continue;
      }
      const last = out.Records?.at(-1)?.SequenceNumber;
      if (last !== undefined) lastSequence = last;
      const records = this.userRecords(shardId, out.Records ?? []);
      if (records.length > 0) await this.options.onRecords(records);
      this.addChildren(out.ChildShards ?? []);
      iterator = out.NextShardIterator ?? undefined;
      if (iterator === undefined) break;
      if ((out.Records?.length ?? 0) === 0 || (out.MillisBehindLatest ?? 0) === 0) {
        await sleep(this.idlePollMs, signal, this.clock).catch(() => undefined);
      }
    }
    if (iterator === undefined) {
      this.ended.add(shardId);
      onEnded();
    }
  }

  /** Enhanced fan-out for one shard: the consumer package's fetcher (resubscribes, watchdog, back-pressure). */
  private async tailShardFanOut(shardId: string, consumerArn: string, signal: AbortSignal, onEnded: () => void): Promise<void> {
    const from = this.options.from;
    // A child found at its parent's end is read from its start, so nothing between the two is missed.
    const start: StartPosition = this.fromStart.has(shardId) ? { type: 'TRIM_HORIZON' } : from;
    const fetcher = new FanOutFetcher({
      kinesis: this.options.kinesis,
      consumerArn,
      shardId,
      start,
      options: FANOUT_DEFAULTS,
      clock: this.clock,
      random: Math.random,
      logger: silentLogger,
      metrics: new MetricsScope(noopMetricsSink, this.clock, {}),
      onError: () => undefined,
    });
    try {
      for (;;) {
        const batch = await fetcher.next(signal);
        const records = this.userRecords(shardId, batch.records);
        if (records.length > 0) await this.options.onRecords(records);
        if (batch.shardEnd) {
          this.addChildren(batch.shardEnd.childShards.map((c) => ({ ShardId: c.shardId, ParentShards: c.parentShards, HashKeyRange: { StartingHashKey: c.hashKeyRange.startingHashKey, EndingHashKey: c.hashKeyRange.endingHashKey } })));
          break;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      await fetcher.close();
    }
    this.ended.add(shardId);
    onEnded();
  }

  /** Deaggregated user records of one shard's Kinesis records, with the shard's hash range applied. */
  private userRecords(shardId: string, input: readonly _Record[]): TailedRecord[] {
    const range = this.shards.get(shardId)?.HashKeyRange;
    const options = range?.StartingHashKey && range.EndingHashKey ? { hashKeyRange: { startingHashKey: range.StartingHashKey, endingHashKey: range.EndingHashKey } } : {};
    const records: TailedRecord[] = [];
    for (const record of input) for (const user of deaggregate(record, options)) records.push({ ...user, shardId });
    return records;
  }

  /** Children found at a parent's end: read from their first record whatever `from` says. */
  private addChildren(children: readonly ChildShard[]): void {
    for (const child of children) {
      if (child.ShardId && !this.shards.has(child.ShardId)) {
        this.fromStart.add(child.ShardId);
        this.shards.set(child.ShardId, { ShardId: child.ShardId, ParentShardId: child.ParentShards?.[0], AdjacentParentShardId: child.ParentShards?.[1], HashKeyRange: child.HashKeyRange, SequenceNumberRange: undefined });
      }
    }
  }
}
