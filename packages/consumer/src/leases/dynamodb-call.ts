import { ScanCommand, type AttributeValue, type DynamoDBClient, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { abortReason, backoffDelay, classifyAwsError, errorFields, linkSignals, sleep, type Clock, type Logger } from '@kinesis-kit/core';
import { DynamoDbOperationError } from '../errors.js';

/** How hard one lease-table call tries before giving up. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Attempts including the first (default 3). */
  maxAttempts?: number;
  /** Monotonic time (clock.monotonic()) after which no retry starts. */
  deadline?: number;
}

export interface CallContext {
  clock: Clock;
  random: () => number;
  logger: Logger;
  tableName: string;
  /** Called before each backoff wait (for metrics and events). */
  onRetry?: (operation: string, err: unknown, attempt: number) => void;
}

const BACKOFF = { baseMs: 100, maxMs: 2_000, jitter: 'equal' } as const;

/** True for the one DynamoDB error that means "the condition did not hold", i.e. someone else wrote. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/** The AWS error code of a raw SDK error or of our DynamoDbOperationError wrapping one. */
export function awsCodeOf(err: unknown): string | undefined {
  if (err instanceof DynamoDbOperationError) return err.awsErrorCode;
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

export function isResourceNotFound(err: unknown): boolean {
  return awsCodeOf(err) === 'ResourceNotFoundException';
}

/**
 * Runs one DynamoDB call with backoff on throttling, 5xx and network errors. A failed condition and
 * an abort are passed through untouched; any other failure becomes a DynamoDbOperationError
 * carrying the AWS code and its classification. Throttling is never turned into anything else.
 */
export async function callDynamoDb<T>(
  operation: string,
  fn: (signal: AbortSignal | undefined) => Promise<T>,
  ctx: CallContext,
  options: CallOptions = {},
  leaseKey?: string,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 3;
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await fn(signal);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (isConditionalCheckFailed(err)) throw err;
      const c = classifyAwsError(err);
      const delay = backoffDelay(attempt, { ...BACKOFF, random: ctx.random });
      const inTime = options.deadline === undefined || ctx.clock.monotonic() + delay < options.deadline;
      if (!c.retriable || attempt >= maxAttempts || !inTime) {
        throw new DynamoDbOperationError(operation, c.code, c.kind, c.retriable, c.message, {
          cause: err,
          tableName: ctx.tableName,
          ...(leaseKey !== undefined ? { leaseKey } : {}),
        });
      }
      ctx.onRetry?.(operation, err, attempt);
      ctx.logger.debug({ operation, leaseKey, attempt, delayMs: Math.round(delay), ...errorFields(err) }, 'retrying DynamoDB call');
      await sleep(delay, signal, ctx.clock);
    }
  }
}

/** Every item of a paginated Scan of `input` (each page one callDynamoDb, with its retries). */
export async function scanAllItems(
  client: DynamoDBClient,
  input: Omit<ScanCommandInput, 'ExclusiveStartKey'>,
  ctx: CallContext,
  options: CallOptions = {},
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await callDynamoDb(
      'Scan',
      (s) => client.send(new ScanCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }), { abortSignal: s }),
      ctx,
      options,
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && Object.keys(startKey).length > 0);
  return items;
}

/**
 * Why a lease write was abandoned: it was still unanswered (or still retrying) at its abort
 * deadline. Internal: the renewer turns it into the lease's expiry (and a checkpoint into a
 * LeaseLostError). The write may or may not have landed.
 */
export class WriteDeadlineError extends Error {
  override readonly name = 'WriteDeadlineError';
  constructor(
    readonly operation: string,
    readonly leaseKey: string,
    /** Monotonic time of the deadline. */
    readonly deadline: number,
  ) {
    super(`${operation} of lease ${leaseKey} was still unanswered at its deadline`);
  }
}

/**
 * Runs one lease write (with its retries and read-backs) under a hard deadline: at monotonic time
 * `deadline` the signal handed to `fn` aborts (cancelling the HTTP request) and the returned
 * promise rejects with a WriteDeadlineError at once, even if `fn` ignores its signal, so a hung
 * request cannot hold the lease's write queue. `signal` (the caller's) aborts it too, with its own
 * reason. Whatever `fn` does afterwards is ignored.
 */
export function withWriteDeadline<T>(
  clock: Clock,
  deadline: number,
  operation: string,
  leaseKey: string,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = new AbortController();
  const linked = linkSignals(timeout.signal, signal);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cancelTimer = (): void => {};
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      cancelTimer();
      linked.signal.removeEventListener('abort', onAbort);
      linked.dispose();
      return true;
    };
    const onAbort = (): void => {
      if (finish()) reject(abortReason(linked.signal));
    };
    linked.signal.addEventListener('abort', onAbort, { once: true });
    const expire = (): void => timeout.abort(new WriteDeadlineError(operation, leaseKey, deadline));
    const remaining = deadline - clock.monotonic();
    if (remaining <= 0) expire();
    if (linked.signal.aborted) {
      onAbort();
      return;
    }
    cancelTimer = clock.setTimer(expire, remaining);
    const run = (async () => fn(linked.signal))(); // a synchronous throw becomes a rejection
    run.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (err: unknown) => {
        if (finish()) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
