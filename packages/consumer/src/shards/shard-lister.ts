import { ListShardsCommand, type KinesisClient, type ShardFilter } from '@aws-sdk/client-kinesis';
import { backoffDelay, classifyAwsError, errorFields, sleep, type Clock, type Logger } from '@kinesis-kit/core';
import { describeStreamRef, type StreamRef } from '../consumer/stream-ref.js';
import { ShardListingError } from '../errors.js';

/** A shard as ListShards describes it. */
export interface ShardInfo {
  shardId: string;
  /** Parent and adjacent parent (merge), when they exist. */
  parentShardIds: string[];
  hashKeyRange: { startingHashKey: string; endingHashKey: string };
  startingSequenceNumber: string;
  /** Present once the shard is closed (split or merged). */
  endingSequenceNumber?: string;
}

export interface ShardListerContext {
  kinesis: KinesisClient;
  stream: StreamRef;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Attempts per page on LimitExceeded / throttling / transient errors (KCL maxListShardsRetryAttempts: 50). */
  maxAttempts?: number;
}

/**
 * ListShards with the pagination rules (the first page names the stream, later ones only the
 * NextToken; an expired token restarts the listing) and the KCL's patience with LimitExceeded.
 */
export class ShardLister {
  constructor(private readonly ctx: ShardListerContext) {}

  async list(filter: ShardFilter | undefined, signal: AbortSignal): Promise<ShardInfo[]> {
    for (let restart = 0; ; restart++) {
      try {
        return await this.listOnce(filter, signal);
      } catch (err) {
        if ((err as { name?: string }).name === 'ExpiredNextTokenException' && restart < 3) continue;
        throw err;
      }
    }
  }

  /** Open shards and closed ones whose parent links name `shardId`. */
  async childrenOf(shardId: string, signal: AbortSignal): Promise<ShardInfo[]> {
    const shards = await this.list(undefined, signal);
    return shards.filter((s) => s.parentShardIds.includes(shardId));
  }

  private async listOnce(filter: ShardFilter | undefined, signal: AbortSignal): Promise<ShardInfo[]> {
    const out: ShardInfo[] = [];
    let nextToken: string | undefined;
    do {
      const input = nextToken !== undefined ? { NextToken: nextToken } : { ...this.ctx.stream, ...(filter ? { ShardFilter: filter } : {}) };
      const page = await this.call(() => this.ctx.kinesis.send(new ListShardsCommand(input), { abortSignal: signal }), signal);
      for (const s of page.Shards ?? []) {
        if (!s.ShardId || !s.HashKeyRange?.StartingHashKey || !s.HashKeyRange.EndingHashKey) continue;
        const info: ShardInfo = {
          shardId: s.ShardId,
          parentShardIds: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => typeof p === 'string' && p.length > 0),
          hashKeyRange: { startingHashKey: s.HashKeyRange.StartingHashKey, endingHashKey: s.HashKeyRange.EndingHashKey },
          startingSequenceNumber: s.SequenceNumberRange?.StartingSequenceNumber ?? '0',
        };
        const ending = s.SequenceNumberRange?.EndingSequenceNumber;
        if (ending) info.endingSequenceNumber = ending;
        out.push(info);
      }
      nextToken = page.NextToken ?? undefined;
    } while (nextToken !== undefined);
    return out;
  }

  private async call<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const maxAttempts = this.ctx.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (signal.aborted) throw err;
        const c = classifyAwsError(err);
        const again = c.retriable || c.code === 'LimitExceededException' || c.code === 'ResourceInUseException';
        if (!again || attempt >= maxAttempts || c.code === 'ExpiredNextTokenException') {
          if (c.code === 'ExpiredNextTokenException') throw err;
          throw new ShardListingError(describeStreamRef(this.ctx.stream), c.code, c.retriable, { cause: err });
        }
        this.ctx.logger.debug({ attempt, ...errorFields(err) }, 'ListShards failed; retrying');
        await sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 5_000, jitter: 'equal', random: this.ctx.random }), signal, this.ctx.clock);
      }
    }
  }
}
