import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KinesisConsumer, type FanOutRetrievalOptions, type PollingRetrievalOptions } from '@kinesis-kit/consumer';
import { activeResources, leakedResources, type MetricDatum, type MetricsSink } from '@kinesis-kit/core';
import { startMockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from './markdown-files.js';
import { findTables } from './markdown-tables.js';

/**
 * The metric tables of docs/metrics-and-events.md against the code: every metric a producer and a
 * consumer (polling and fan-out) emit on the mock is in its table with the unit and dimensions it
 * is emitted with (for the consumer, under its Operation); and every documented name is in the
 * package's sources, so a renamed metric cannot stay behind in the docs.
 */
type RetrievalOptions = PollingRetrievalOptions | FanOutRetrievalOptions;

interface DocumentedMetric {
  name: string;
  unit: string;
  /** The consumer's `Operation` dimension. */
  operation?: string;
  /** The dimension names a datum of this metric carries; a name ending in `?` may be absent. */
  dimensions: string[];
  line: number;
}

const page = readFileSync(path.join(repositoryRoot, 'docs/metrics-and-events.md'), 'utf8');
const tables = findTables(page);

/** `` `A.Success`, `.Time` `` → A.Success, A.Time: a name starting with `.` continues the previous one's base. */
function metricNames(cell: string): string[] {
  const names: string[] = [];
  for (const [, name] of cell.matchAll(/`([\w.]+)`/g)) {
    const previous = names.at(-1);
    names.push(name!.startsWith('.') && previous ? previous.replace(/\.\w+$/, name!) : name!);
  }
  return names;
}

/** `Count (1/0), Milliseconds` gives one unit per name; a single unit applies to every name. */
function metricUnits(cell: string, count: number): string[] {
  const units = cell.split(',').map((u) => u.trim().replace(/\s*\(.*\)$/, ''));
  return units.length === count ? units : Array<string>(count).fill(units[0]!);
}

function documented(
  heading: string,
  columns: { operation?: number; metric: number; unit: number },
  dimensions: (cells: string[]) => string[],
): DocumentedMetric[] {
  const table = tables.find((t) => t.heading === heading);
  if (!table) throw new Error(`no table under "${heading}"`);
  return table.rows.flatMap(({ line, cells }) => {
    const names = metricNames(cells[columns.metric]!);
    const units = metricUnits(cells[columns.unit]!, names.length);
    const operation = columns.operation === undefined ? undefined : /`(\w+)`/.exec(cells[columns.operation]!)?.[1];
    return names.map((name, i) => ({ name, unit: units[i]!, dimensions: dimensions(cells), line, ...(operation !== undefined ? { operation } : {}) }));
  });
}

// Producer: StreamName (the default granularity, 'shard'), and ShardId as the ShardId column says: yes, no, or when.
const PRODUCER_METRICS = documented('Producer metrics', { metric: 0, unit: 1 }, (cells) => {
  const shardId = cells[3]!.trim();
  const extra = [...cells[4]!.matchAll(/extra dimension `(\w+)`/g)].map((m) => m[1]!);
  return ['StreamName', ...extra, ...(shardId === 'no' ? [] : shardId === 'yes' ? ['ShardId'] : ['ShardId?'])];
});
// Consumer: Operation and WorkerIdentifier on every datum, plus the "other dimensions" column.
const CONSUMER_METRICS = documented('Consumer metrics', { operation: 0, metric: 1, unit: 2 }, (cells) => [
  'Operation',
  'WorkerIdentifier',
  ...[...cells[3]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!),
]);

function dimensionsMatch(actual: string[], documented: string[]): boolean {
  const required = documented.filter((d) => !d.endsWith('?'));
  const allowed = new Set(documented.map((d) => d.replace(/\?$/, '')));
  return required.every((d) => actual.includes(d)) && actual.every((d) => allowed.has(d));
}

class RecordingSink implements MetricsSink {
  readonly datums: MetricDatum[] = [];
  record(datum: MetricDatum): void {
    this.datums.push(datum);
  }
}

/** Writes `count` records, then reads them back with a consumer in the given retrieval mode; returns both sinks. */
async function pipeline(retrieval: RetrievalOptions, count = 200): Promise<{ producer: RecordingSink; consumer: RecordingSink }> {
  const server = await startMockServer({ limits: false, streams: [{ name: 'metrics', shardCount: 2 }], subscribeCooldownMs: 0 });
  const sinks = { producer: new RecordingSink(), consumer: new RecordingSink() };
  try {
    const producer = new KinesisProducer({ streamName: 'metrics', ...server.clientConfig(), metrics: sinks.producer, recordMaxBufferedTime: 10 });
    await producer.putMany(Array.from({ length: count }, (_, i) => ({ partitionKey: `key-${i % 20}`, data: `record-${i}` })));
    await producer.close();
    let seen = 0;
    let resolve = (): void => {};
    const allSeen = new Promise<void>((r) => (resolve = r));
    const consumer = new KinesisConsumer({
      applicationName: `metrics-${retrieval.mode}`,
      streamName: 'metrics',
      ...server.clientConfig(),
      initialPosition: 'TRIM_HORIZON',
      retrieval,
      metrics: sinks.consumer,
      eachBatch: ({ records }) => {
        seen += records.length;
        if (seen >= count) resolve();
      },
    });
    await consumer.start();
    await allSeen;
    await consumer.stop();
  } finally {
    await server.close();
  }
  return sinks;
}

function undocumented(datums: MetricDatum[], table: DocumentedMetric[], withOperation: boolean): string[] {
  const problems = new Set<string>();
  for (const d of datums) {
    const operation = withOperation ? d.dimensions.Operation : undefined;
    const rows = table.filter((m) => m.name === d.name && m.operation === operation);
    const where = operation === undefined ? d.name : `${operation} ${d.name}`;
    const dimensions = Object.keys(d.dimensions).sort();
    if (rows.length === 0) problems.add(`${where} (${d.unit}) is emitted and not documented`);
    else if (!rows.some((m) => m.unit === d.unit)) problems.add(`${where} is emitted in ${d.unit}; the table (line ${rows[0]!.line}) says ${rows.map((m) => m.unit).join(' or ')}`);
    else if (!rows.some((m) => dimensionsMatch(dimensions, m.dimensions))) {
      problems.add(`${where} is emitted with dimensions ${dimensions.join(', ')}; the table (line ${rows[0]!.line}) says ${rows[0]!.dimensions.join(', ')}`);
    }
  }
  return [...problems];
}

function sourcesOf(pkg: string): string {
  const dir = path.join(repositoryRoot, 'packages', pkg, 'src');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('test-helpers'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

describe('docs/metrics-and-events.md metric tables', () => {
  it('read the tables: names, units, operations', () => {
    expect(PRODUCER_METRICS.find((m) => m.name === 'UserRecordsDataPut')).toMatchObject({ unit: 'Bytes' });
    expect(CONSUMER_METRICS.filter((m) => m.name.startsWith('KinesisDataFetcher.getRecords'))).toMatchObject([
      { name: 'KinesisDataFetcher.getRecords.Success', unit: 'Count', operation: 'ProcessTask' },
      { name: 'KinesisDataFetcher.getRecords.Time', unit: 'Milliseconds', operation: 'ProcessTask' },
    ]);
  });

  it('every documented metric name is in its package', () => {
    const sources = { producer: sourcesOf('producer'), consumer: sourcesOf('consumer') };
    const missing = [
      ...PRODUCER_METRICS.filter((m) => !sources.producer.includes(`'${m.name}'`)),
      // `X.Success` and `X.Time` usually come from one call that names X.
      ...CONSUMER_METRICS.filter((m) => ![m.name, m.name.replace(/\.(Success|Time)$/, '')].some((name) => sources.consumer.includes(`'${name}'`))),
    ];
    expect(missing.map((m) => `line ${m.line}: ${m.name}`)).toEqual([]);
  });

  it.each<RetrievalOptions>([{ mode: 'polling' }, { mode: 'fanout' }])('every metric emitted by a $mode pipeline is documented with its unit and dimensions', async (retrieval) => {
    const before = activeResources();
    const sinks = await pipeline(retrieval);
    expect(sinks.producer.datums.length).toBeGreaterThan(0);
    expect(sinks.consumer.datums.some((d) => d.name === 'RecordsProcessed')).toBe(true);
    expect([...undocumented(sinks.producer.datums, PRODUCER_METRICS, false), ...undocumented(sinks.consumer.datums, CONSUMER_METRICS, true)]).toEqual([]);
    expect(await leakedResources(before)).toEqual({});
  });
});
