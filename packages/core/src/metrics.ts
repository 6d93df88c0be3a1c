/**
 * Metrics sink. Producer and consumer emit datums under the KPL/KCL metric names
 * (UserRecordsPut, RecordsProcessed, MillisBehindLatest, ...); where they go is the sink's business
 * (CloudWatch, Prometheus, OpenTelemetry, or nowhere: the default).
 */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'None';

export interface MetricDatum {
  name: string;
  value: number;
  unit: MetricUnit;
  /** e.g. { StreamName, ShardId, Operation, ErrorCode, WorkerIdentifier } */
  dimensions: Readonly<Record<string, string>>;
  timestamp: number;
}

export interface MetricsSink {
  record(datum: MetricDatum): void;
}

export const noopMetricsSink: MetricsSink = Object.freeze({ record: () => {} });

export interface MetricSummary {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Aggregates datums in memory by name + dimensions. Useful for tests, for a `/metrics` endpoint,
 * and as the local equivalent of the KPL's `getMetrics()`.
 */
export class InMemoryMetricsSink implements MetricsSink {
  private readonly series = new Map<string, { name: string; dimensions: Record<string, string>; summary: MetricSummary }>();

  record(datum: MetricDatum): void {
    const key = seriesKey(datum.name, datum.dimensions);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { name: datum.name, dimensions: { ...datum.dimensions }, summary: { count: 0, sum: 0, min: Infinity, max: -Infinity } };
      this.series.set(key, entry);
    }
    const s = entry.summary;
    s.count += 1;
    s.sum += datum.value;
    if (datum.value < s.min) s.min = datum.value;
    if (datum.value > s.max) s.max = datum.value;
  }

  /** Summary over every series with this name whose dimensions include `dimensions`. */
  get(name: string, dimensions: Record<string, string> = {}): MetricSummary {
    const out: MetricSummary = { count: 0, sum: 0, min: Infinity, max: -Infinity };
    for (const entry of this.series.values()) {
      if (entry.name !== name) continue;
      if (!Object.entries(dimensions).every(([k, v]) => entry.dimensions[k] === v)) continue;
      out.count += entry.summary.count;
      out.sum += entry.summary.sum;
      out.min = Math.min(out.min, entry.summary.min);
      out.max = Math.max(out.max, entry.summary.max);
    }
    return out;
  }

  names(): string[] {
    return [...new Set([...this.series.values()].map((e) => e.name))].sort();
  }

  reset(): void {
    this.series.clear();
  }
}

function seriesKey(name: string, dimensions: Readonly<Record<string, string>>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join(',');
  return `${name}|${dims}`;
}
