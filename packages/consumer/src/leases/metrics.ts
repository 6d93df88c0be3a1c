import type { Clock, MetricsSink, MetricUnit } from '@kinesis-kit/core';

/** KCL metric operations (the `Operation` dimension) used by lease management. */
export const LeaseMetricOperation = {
  renew: 'RenewAllLeases',
  take: 'TakeLeases',
} as const;

/** Records datums under KCL metric names with a fixed set of dimensions. */
export class MetricsScope {
  constructor(
    private readonly sink: MetricsSink,
    private readonly clock: Clock,
    private readonly dimensions: Readonly<Record<string, string>>,
  ) {}

  add(name: string, value: number, unit: MetricUnit = 'Count', extra?: Readonly<Record<string, string>>): void {
    this.sink.record({
      name,
      value,
      unit,
      dimensions: extra ? { ...this.dimensions, ...extra } : this.dimensions,
      timestamp: this.clock.now(),
    });
  }

  /** `<name>.Success` (1/0) and `<name>.Time` (ms), the KCL's pair for every call. */
  call(name: string, success: boolean, startedAt: number, extra?: Readonly<Record<string, string>>): void {
    this.add(`${name}.Success`, success ? 1 : 0, 'Count', extra);
    this.add(`${name}.Time`, this.clock.monotonic() - startedAt, 'Milliseconds', extra);
  }
}
