import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, ProducerConfigError, resolveProducerOptions } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from './markdown-files.js';
import { findTables } from './markdown-tables.js';
import { documentedOptions, statedDefault, statedRange } from './option-tables.js';

/**
 * producing.md's options table against the constructor's checks: each stated default is the real
 * one, and each stated range is the one enforced (its ends accepted, one step beyond them refused
 * with a ProducerConfigError naming the option; each listed choice accepted, another refused).
 */
const table = findTables(readFileSync(path.join(repositoryRoot, 'docs/producing.md'), 'utf8')).find((t) => t.heading === 'Options');

/** undefined when the constructor accepts `value` for `option`, else why not. */
function refusal(option: string, value: unknown): string | undefined {
  try {
    resolveProducerOptions({ streamName: 's', region: 'us-east-1', [option]: value });
    return undefined;
  } catch (err) {
    if (err instanceof ProducerConfigError && err.field === option) return err.message;
    throw err;
  }
}

describe("producing.md's options table", () => {
  it('states the real defaults and ranges', () => {
    if (!table) throw new Error('no table under "Options" in producing.md');
    const problems: string[] = [];
    let ranges = 0;
    for (const { line, cells } of table.rows) {
      for (const [option, defaultCell] of documentedOptions(cells)) {
        const stated = statedDefault(defaultCell);
        const real: unknown = (DEFAULTS as Record<string, unknown>)[option];
        if (stated !== undefined && !Object.is(stated.value, real)) problems.push(`line ${line}: ${option}'s default is ${String(real)}, not "${defaultCell}"`);
        const range = statedRange(cells[2]!);
        if (!range) continue;
        ranges++;
        const accepted = range.kind === 'choice' ? range.values : [range.min, ...(Number.isFinite(range.max) ? [range.max] : []), ...(range.infinityAllowed ? [Infinity] : [])];
        const refused = range.kind === 'choice' ? ['not-a-choice'] : [range.min - 1, ...(Number.isFinite(range.max) ? [range.max + 1] : []), ...(range.infinityAllowed ? [] : [Infinity])];
        for (const value of accepted) {
          const why = refusal(option, value);
          if (why !== undefined) problems.push(`line ${line}: ${option} = ${String(value)} is in the stated range "${cells[2]}" but refused: ${why}`);
        }
        for (const value of refused) {
          if (refusal(option, value) === undefined) problems.push(`line ${line}: ${option} = ${String(value)} is outside the stated range "${cells[2]}" but accepted`);
        }
      }
    }
    expect(ranges).toBeGreaterThan(10);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('option table cells', () => {
  it('reads defaults and ranges as the docs write them', () => {
    expect(statedDefault('5242880 (5 MiB)')).toEqual({ value: 5242880 });
    expect(statedDefault('8 MiB')).toEqual({ value: 8388608 });
    expect(statedDefault('100 ms')).toEqual({ value: 100 });
    expect(statedDefault('150 (%)')).toEqual({ value: 150 });
    expect(statedDefault("`'LATEST'`")).toEqual({ value: 'LATEST' });
    expect(statedDefault('`Infinity`')).toEqual({ value: Infinity });
    expect(statedDefault('`false`')).toEqual({ value: false });
    expect(statedDefault('SDK default')).toBeUndefined();
    expect(documentedOptions(['`maxPrefetchRecords` / `maxPrefetchBytes`', '30000 / 8 MiB'])).toEqual([
      ['maxPrefetchRecords', '30000'],
      ['maxPrefetchBytes', '8 MiB'],
    ]);
    expect(documentedOptions(['`retryBaseDelay` / `retryMaxDelay`', '100 / 5000 ms'])).toEqual([
      ['retryBaseDelay', '100 ms'],
      ['retryMaxDelay', '5000 ms'],
    ]);
    expect(statedRange('64..10 MiB')).toEqual({ kind: 'interval', min: 64, max: 10485760, infinityAllowed: false });
    expect(statedRange('≥ 100, `Infinity` allowed')).toEqual({ kind: 'interval', min: 100, max: Infinity, infinityAllowed: true });
    expect(statedRange("`'wait'` \\| `'reject'`")).toEqual({ kind: 'choice', values: ['wait', 'reject'] });
    expect(statedRange('none \\| summary \\| detailed')).toEqual({ kind: 'choice', values: ['none', 'summary', 'detailed'] });
    expect(statedRange('one required, not both')).toBeUndefined();
  });
});
