import { describeError } from './cli-error.js';

/** Minimal view of a put result: how many attempts were throttled. */
interface PutOutcome {
  attempts: readonly { errorCode?: string | undefined }[];
}

const THROTTLE_CODES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'LimitExceededException']);

/** Counts for `kinesis-kit put`'s progress line and summary. */
export class PutTally {
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
    const reason = describeError(err);
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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
