import { describeError } from './cli-error.js';

/** Minimal view of a put result: its attempts (how many were throttled, what went wrong). */
interface PutOutcome {
  attempts: readonly { errorCode?: string | undefined; errorMessage?: string | undefined }[];
}

/** The producer's pseudo error code of the attempt it adds when a record reaches recordTtl. */
const EXPIRED = 'Expired';

const THROTTLE_CODES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'LimitExceededException']);

/** Counts for `kinesis-kit put`'s progress line and summary. */
export class PutTally {
  constructor(
    /** Names the endpoint and stream in failure reasons ("cannot reach <endpoint>"). */
    private readonly context: { endpoint?: string; streamName?: string } = {},
  ) {}

  records = 0;
  bytes = 0;
  acknowledged = 0;
  throttledAttempts = 0;
  failures = 0;
  private readonly failureReasons = new Map<string, number>();

  submitted(bytes: number): void {
    this.records++;
    this.bytes += bytes;
  }

  succeeded(result: PutOutcome): void {
    this.acknowledged++;
    this.countThrottles(result);
  }

  failed(err: unknown): void {
    this.failures++;
    const reason = failureReason(err, this.context);
    this.failureReasons.set(reason, (this.failureReasons.get(reason) ?? 0) + 1);
    const result = (err as { result?: PutOutcome }).result;
    if (result) this.countThrottles(result);
  }

  progressLine(): string {
    return `put ${this.records} records (${formatBytes(this.bytes)}), acknowledged ${this.acknowledged}, throttled attempts ${this.throttledAttempts}, failed ${this.failures}`;
  }

  summaryLine(): string {
    const reasons = [...this.failureReasons].map(([reason, n]) => `\n  ${n} x ${reason}`).join('');
    return `done: ${this.records} records, ${formatBytes(this.bytes)}, ${this.acknowledged} acknowledged, ${this.throttledAttempts} throttled attempts, ${this.failures} failed${reasons}`;
  }

  private countThrottles(result: PutOutcome): void {
    for (const attempt of result.attempts) if (attempt.errorCode !== undefined && THROTTLE_CODES.has(attempt.errorCode)) this.throttledAttempts++;
  }
}

/**
 * Why a record failed, in the summary: for a record that reached recordTtl, the last real error of
 * its attempts (an unreachable endpoint, throttling, ...) rather than the producer's "Expired".
 */
export function failureReason(err: unknown, context: { endpoint?: string; streamName?: string } = {}): string {
  const result = (err as { result?: Partial<PutOutcome> & { attemptsOmitted?: number } } | undefined)?.result;
  const attempts = result?.attempts;
  if (attempts !== undefined) {
    const last = attempts.at(-1);
    const cause = attempts.findLast((a) => a.errorCode !== undefined && a.errorCode !== EXPIRED);
    if (cause?.errorCode !== undefined) {
      const message = cause.errorMessage ?? cause.errorCode;
      const described = describeError({ name: cause.errorCode, code: cause.errorCode, message }, context);
      const reason = described === message && !message.startsWith(cause.errorCode) ? `${cause.errorCode}: ${message}` : described;
      return last?.errorCode === EXPIRED ? `expired (recordTtl) after ${attempts.length - 1 + (result?.attemptsOmitted ?? 0)} attempt(s); last error: ${reason}` : reason;
    }
  }
  return describeError(err, context);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
