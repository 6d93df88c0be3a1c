import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exportedTypes } from './in-memory-program.js';
import { repositoryRoot } from './markdown-files.js';
import { findTables } from './markdown-tables.js';

/**
 * The event tables of docs/metrics-and-events.md against the event maps: every event is listed,
 * and each row's payload `{ a, b? }` names exactly the payload type's fields, `?` where optional.
 */
const EVENT_MAPS = [
  { heading: 'Producer events', module: '@kinesis-kit/producer', type: 'ProducerEvents' },
  { heading: 'Consumer events', module: '@kinesis-kit/consumer', type: 'KinesisConsumerEvents' },
];

/** Field name → optional, for every event of each map (a union payload: its members' fields, optional unless in all). */
function eventPayloadFields(): Map<string, Map<string, boolean>>[] {
  const { checker, types } = exportedTypes(EVENT_MAPS);
  return types.map((eventMap) => {
    const events = new Map<string, Map<string, boolean>>();
    for (const event of checker.getPropertiesOfType(eventMap)) {
      const payload = checker.getTypeOfSymbol(event);
      const members = payload.isUnion() ? payload.types : [payload];
      const fields = new Map<string, boolean>();
      for (const member of members) {
        for (const field of checker.getPropertiesOfType(member)) {
          const optional = (field.flags & ts.SymbolFlags.Optional) !== 0;
          fields.set(field.name, (fields.get(field.name) ?? false) || optional);
        }
      }
      for (const name of fields.keys()) if (!members.every((m) => m.getProperty(name))) fields.set(name, true);
      events.set(event.name, fields);
    }
    return events;
  });
}

/** `{ a, b?, c: 'x' \| 'y' }` → a, b (optional), c. */
function documentedFields(cell: string): Map<string, boolean> {
  const inner = /^`\{(.*)\}`$/.exec(cell.trim())?.[1] ?? '';
  const fields = new Map<string, boolean>();
  for (const [, name, optional] of inner.matchAll(/(?:^|,)\s*(\w+)(\??)(?=\s*[:,]|\s*$)/g)) fields.set(name!, optional === '?');
  return fields;
}

describe('docs/metrics-and-events.md event tables', () => {
  it('list every event with exactly its payload fields', () => {
    const tables = findTables(readFileSync(path.join(repositoryRoot, 'docs/metrics-and-events.md'), 'utf8'));
    const problems: string[] = [];
    eventPayloadFields().forEach((events, i) => {
      const { heading, type } = EVENT_MAPS[i]!;
      const table = tables.find((t) => t.heading === heading);
      if (!table) throw new Error(`no table under "${heading}"`);
      expect(events.size, type).toBeGreaterThan(3);
      const listed = new Set<string>();
      for (const { line, cells } of table.rows) {
        const event = /^`(\w+)`$/.exec(cells[0]!)?.[1];
        if (event === undefined) continue;
        listed.add(event);
        const actual = events.get(event);
        if (!actual) {
          problems.push(`line ${line}: ${event} is not an event of ${type}`);
          continue;
        }
        const documented = documentedFields(cells[1]!);
        for (const [field, optional] of actual) {
          if (!documented.has(field)) problems.push(`line ${line}: ${event} payload field ${field} is not listed`);
          else if (documented.get(field) !== optional) problems.push(`line ${line}: ${event}.${field} is ${optional ? 'optional' : 'always there'}; the table says otherwise`);
        }
        for (const field of documented.keys()) if (!actual.has(field)) problems.push(`line ${line}: ${event} has no payload field ${field}`);
      }
      for (const event of events.keys()) if (!listed.has(event)) problems.push(`${type}.${event} is not in the table under "${heading}"`);
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('reads payload cells with optional fields and union types', () => {
    expect([...documentedFields("`{ leaseKey, shardId?, reason: 'conflict' \\| 'expired', currentOwner? }`")]).toEqual([
      ['leaseKey', false],
      ['shardId', true],
      ['reason', false],
      ['currentOwner', true],
    ]);
  });
});
