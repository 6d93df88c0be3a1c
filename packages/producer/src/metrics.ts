import { noopMetricsSink, type Clock, type MetricsSink, type MetricUnit } from '@kinesis-kit/core';

/** The KPL's metric names (kpl.md section 3.9). */
export const ProducerMetricName = {
  UserRecordsReceived: 'UserRecordsReceived',
  UserRecordsPending: 'UserRecordsPending',
  UserRecordsPut: 'UserRecordsPut',
  UserRecordsDataPut: 'UserRecordsDataPut',
  KinesisRecordsPut: 'KinesisRecordsPut',
  KinesisRecordsDataPut: 'KinesisRecordsDataPut',
  ErrorsByCode: 'ErrorsByCode',
  AllErrors: 'AllErrors',
  RetriesPerRecord: 'RetriesPerRecord',
  UserRecordExpired: 'UserRecordExpired',
  BufferingTime: 'BufferingTime',
  RequestTime: 'RequestTime',
  UserRecordsPerKinesisRecord: 'UserRecordsPerKinesisRecord',
  KinesisRecordsPerPutRecordsRequest: 'KinesisRecordsPerPutRecordsRequest',
  UserRecordsPerPutRecordsRequest: 'UserRecordsPerPutRecordsRequest',
} as const;
export type ProducerMetricName = (typeof ProducerMetricName)[keyof typeof ProducerMetricName];

/**
 * Emits datums at the configured level and granularity. `summary` / `detailed` are checked by
 * callers first so nothing is computed when metrics are off (or the sink is the no-op one).
 */
export class ProducerMetrics {
  readonly summary: boolean;
  readonly detailed: boolean;
  private readonly streamDims: Readonly<Record<string, string>>;

  constructor(
    private readonly sink: MetricsSink,
    level: 'none' | 'summary' | 'detailed',
    private readonly granularity: 'global' | 'stream' | 'shard',
    streamName: string,
    private readonly clock: Clock,
  ) {
    const on = sink !== noopMetricsSink && level !== 'none';
    this.summary = on;
    this.detailed = on && level === 'detailed';
    this.streamDims = granularity === 'global' ? {} : { StreamName: streamName };
  }

  record(name: ProducerMetricName, value: number, unit: MetricUnit, shardId?: string, extra?: Record<string, string>): void {
    let dimensions = this.streamDims;
    if (shardId !== undefined && this.granularity === 'shard') dimensions = { ...dimensions, ShardId: shardId };
    if (extra) dimensions = { ...dimensions, ...extra };
    this.sink.record({ name, value, unit, dimensions, timestamp: this.clock.now() });
  }
}
