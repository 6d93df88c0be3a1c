import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { classifyAwsError } from '@kinesis-kit/core';
import type { KinesisProducer } from '@kinesis-kit/producer';
import { CliError } from './cli-error.js';

export interface ShardMapWaitOptions {
  /** True to stop waiting and reject with this ListShards error; otherwise the producer retries. */
  giveUp: (error: Error) => boolean;
  /** Called for each ListShards failure the wait goes on after. */
  onRetry?: (error: Error) => void;
  /** Rejects after this long with the last failure (default: no limit). */
  timeoutMs?: number;
}

/**
 * Waits until the producer knows the stream's shards: records put before then go out unaggregated
 * and skip the per-shard rate limiter. Resolves true once ready, false if `signal` aborted first.
 * Call it right after constructing the producer, so the first ListShards failure is seen.
 */
export async function waitForShardMap(producer: KinesisProducer, signal: AbortSignal, options: ShardMapWaitOptions): Promise<boolean> {
  if (signal.aborted) return false;
  let off: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<boolean>((resolve, reject) => {
      let lastError: Error | undefined;
      off = producer.on('shardMapRefreshFailed', ({ error }) => {
        lastError = error;
        if (options.giveUp(error)) reject(error);
        else options.onRetry?.(error);
      });
      onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const seconds = Math.round(options.timeoutMs! / 1000);
          reject(lastError ?? new CliError(`the stream's shards could not be listed in ${seconds} s`));
        }, options.timeoutMs);
      }
      producer.ready({ signal }).then(() => resolve(true), reject);
    });
  } finally {
    off?.();
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (timer) clearTimeout(timer);
  }
}

/** Fails at once for what waiting cannot fix: everything but throttling and transient service errors. */
export function unlessTransient(error: Error): boolean {
  const kind = classifyAwsError(error).kind;
  return kind !== 'throttling' && kind !== 'transient';
}

/** Fails at once for permanent errors (no credentials, no such stream, access denied); waits out network trouble. */
export function ifPermanent(error: Error): boolean {
  return classifyAwsError(error).kind === 'permanent';
}

/**
 * A configuration error to report before anything starts: without a region the SDK fails every call
 * ("Region is missing"); the producer would fail each record with it, after accepting them.
 */
export async function requireRegion(kinesis: KinesisClient): Promise<void> {
  await kinesis.config.region();
}
