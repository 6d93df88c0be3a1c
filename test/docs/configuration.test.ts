import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RECORD_AGGREGATOR_DEFAULTS } from '@kinesis-kit/aggregation';
import { CONSUMER_DEFAULTS, FAILURE_POLICY_DEFAULTS, FANOUT_DEFAULTS, LEASE_DEFAULTS, POLLING_DEFAULTS } from '@kinesis-kit/consumer';
import { DEFAULT_LIMITS, DEFAULTS as MOCK_DEFAULTS } from '@kinesis-kit/mock';
import { DEFAULTS as PRODUCER_DEFAULTS } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';
import { typePropertyNames } from './in-memory-program.js';
import { repositoryRoot } from './markdown-files.js';
import { findTables, type MarkdownTable } from './markdown-tables.js';
import { documentedOptions, statedDefault } from './option-tables.js';

/**
 * docs/configuration.md promises every option with its default. Each of its tables is checked
 * against the options type it documents (the same names, none missing, none extra) and against
 * the exported defaults (where a cell states a literal default, it is the real one).
 */
interface DocumentedType {
  heading: string;
  index: number;
  module: string;
  type: string;
  defaults: object;
  /** Properties documented elsewhere on the page. */
  elsewhere?: string[];
}

const DOCUMENTED: DocumentedType[] = [
  { heading: 'KinesisProducer', index: 0, module: '@kinesis-kit/producer', type: 'KinesisProducerOptions', defaults: PRODUCER_DEFAULTS },
  { heading: 'KinesisConsumer', index: 0, module: '@kinesis-kit/consumer', type: 'KinesisConsumerOptions', defaults: CONSUMER_DEFAULTS },
  { heading: 'leaseManagement', index: 0, module: '@kinesis-kit/consumer', type: 'LeaseManagementOptions', defaults: LEASE_DEFAULTS },
  { heading: 'retrieval', index: 0, module: '@kinesis-kit/consumer', type: 'PollingRetrievalOptions', defaults: POLLING_DEFAULTS },
  // `mode` is in the polling table, which covers both modes.
  { heading: 'retrieval', index: 1, module: '@kinesis-kit/consumer', type: 'FanOutRetrievalOptions', defaults: FANOUT_DEFAULTS, elsewhere: ['mode'] },
  { heading: 'failurePolicy', index: 0, module: '@kinesis-kit/consumer', type: 'FailurePolicyOptions', defaults: FAILURE_POLICY_DEFAULTS },
  { heading: 'RecordAggregator', index: 0, module: '@kinesis-kit/aggregation', type: 'RecordAggregatorOptions', defaults: RECORD_AGGREGATOR_DEFAULTS },
  { heading: 'startMockServer', index: 0, module: '@kinesis-kit/mock', type: 'MockServerOptions', defaults: MOCK_DEFAULTS },
  { heading: 'startMockServer', index: 1, module: '@kinesis-kit/mock', type: 'Limits', defaults: DEFAULT_LIMITS },
];

describe('docs/configuration.md', () => {
  const tables = findTables(readFileSync(path.join(repositoryRoot, 'docs/configuration.md'), 'utf8'));
  const tableOf = (d: DocumentedType): MarkdownTable | undefined => tables.find((t) => t.heading === d.heading && t.index === d.index);

  it('every table is one of the documented types', () => {
    const known = tables.map((t) => DOCUMENTED.some((d) => tableOf(d) === t) || `${t.heading} #${t.index} (line ${t.line})`);
    expect(known.filter((k) => k !== true)).toEqual([]);
    expect(DOCUMENTED.filter((d) => !tableOf(d)).map((d) => d.type)).toEqual([]);
  });

  it("each table lists exactly its type's options, with the exported defaults", () => {
    const problems: string[] = [];
    const properties = typePropertyNames(DOCUMENTED);
    DOCUMENTED.forEach((documented, i) => {
      const table = tableOf(documented)!;
      const rows = table.rows.flatMap((row) => documentedOptions(row.cells).map(([name, cell]) => ({ name, cell, line: row.line })));
      const names = new Set(rows.map((r) => r.name));
      const actual = new Set(properties[i]);
      expect(actual.size, documented.type).toBeGreaterThan(1);
      for (const name of actual) if (!names.has(name) && !documented.elsewhere?.includes(name)) problems.push(`${documented.type}.${name} is not in the table under "${documented.heading}"`);
      for (const { name, cell, line } of rows) {
        if (!actual.has(name)) {
          problems.push(`line ${line}: ${name} is not an option of ${documented.type}`);
          continue;
        }
        if (!Object.hasOwn(documented.defaults, name)) continue;
        const stated = statedDefault(cell);
        const real: unknown = (documented.defaults as Record<string, unknown>)[name];
        if (stated === undefined) problems.push(`line ${line}: ${name}'s default is ${String(real)}; the table says "${cell}"`);
        else if (!Object.is(stated.value, real)) problems.push(`line ${line}: ${name}'s default is ${String(real)}, not ${String(stated.value)}`);
      }
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
