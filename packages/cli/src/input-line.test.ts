import { describe, expect, it } from 'vitest';
import { BadLineError, parseInputLine } from './input-line.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('parseInputLine', () => {
  it('text lines: the line is the data, the key is fixed or a fresh UUID per line', () => {
    const fixed = parseInputLine('hello', 1, 'text', 'k');
    expect(fixed.partitionKey).toBe('k');
    expect(text(fixed.data)).toBe('hello');
    const a = parseInputLine('x', 1, 'text');
    const b = parseInputLine('x', 2, 'text');
    expect(a.partitionKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.partitionKey).not.toBe(b.partitionKey);
  });

  it('JSON lines: key, string or structured data, explicit hash key', () => {
    const r = parseInputLine('{"key":"user-1","data":{"n":1},"explicitHashKey":"42"}', 3, 'json');
    expect(r).toMatchObject({ partitionKey: 'user-1', explicitHashKey: '42' });
    expect(text(r.data)).toBe('{"n":1}');
    expect(text(parseInputLine('{"key":"k","data":"plain"}', 1, 'json').data)).toBe('plain');
  });

  it.each([
    ['not json', 'not valid JSON'],
    ['[1]', 'expected a JSON object {"key", "data"}'],
    ['{"data":"x"}', '"key" must be a string'],
    ['{"key":"k"}', '"data" is missing'],
    ['{"key":"k","data":"x","explicitHashKey":5}', '"explicitHashKey" must be a decimal string'],
  ])('rejects %s with the line number', (line, reason) => {
    const err = (() => {
      try {
        parseInputLine(line, 7, 'json');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(BadLineError);
    expect((err as BadLineError).message).toBe(`line 7: ${reason}`);
    expect((err as BadLineError).exitCode).toBe(2);
  });
});
