import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as consumer from '@kinesis-kit/consumer';
import * as producer from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from './markdown-files.js';
import { findTables } from './markdown-tables.js';

/**
 * The error classes and codes the docs list against the exports: producing.md's table names every
 * producer error class with exactly the codes the package has, and failure-handling.md names every
 * consumer error class.
 */
function read(file: string): string {
  return readFileSync(path.join(repositoryRoot, file), 'utf8');
}

/** The exported classes that extend `root` (the root itself left out). */
function errorClasses(exports: Record<string, unknown>, root: abstract new (...args: never[]) => Error): string[] {
  return Object.entries(exports)
    .filter(([, value]) => typeof value === 'function' && value !== root && value.prototype instanceof root)
    .map(([name]) => name)
    .sort();
}

describe('error docs', () => {
  it("producing.md's error table: every producer error class, with exactly the package's codes", () => {
    const table = findTables(read('docs/producing.md')).find((t) => t.header[0] === 'class' && t.header[1] === 'code');
    if (!table) throw new Error('no class | code table in producing.md');
    const rows = table.rows.map(({ cells }) => ({
      name: /^`(\w+)`$/.exec(cells[0]!)?.[1] ?? cells[0]!,
      codes: [...cells[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!),
    }));
    expect(rows.map((r) => r.name).sort()).toEqual(errorClasses(producer, producer.KinesisProducerError));
    expect(rows.flatMap((r) => r.codes).sort()).toEqual(Object.values(producer.ProducerErrorCode).sort());
  });

  it('failure-handling.md names every consumer error class', () => {
    const page = read('docs/failure-handling.md');
    const unnamed = errorClasses(consumer, consumer.KinesisConsumerError).filter((name) => !page.includes(`\`${name}\``));
    expect(unnamed).toEqual([]);
  });
});
