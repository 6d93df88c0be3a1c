import { describe, expect, it } from 'vitest';
import { formatRecordJson, formatRecordText } from './format-record.js';
import type { TailedRecord } from './shard-tailer.js';

function record(data: string | Uint8Array, partitionKey = 'k'): TailedRecord {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber: '49',
    subSequenceNumber: 0,
    aggregated: false,
    partitionKey,
    data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
  };
}

const base64 = (text: string): string => `base64:${Buffer.from(text, 'utf8').toString('base64')}`;

describe('tail output', () => {
  it('text: printable UTF-8 (tabs included) as it is', () => {
    expect(formatRecordText(record('hello\twörld'))).toBe('shardId-000000000000 49 k hello\twörld');
  });

  it.each([
    ['a newline', 'two\nlines'],
    ['a carriage return', 'over\rwritten'],
    ['DEL', 'del\u007f'],
    ['a C1 control (CSI)', 'csi\u009b2J'],
    ['an escape sequence', '\u001b[31mred'],
  ])('text: data with %s is printed as base64, so one record stays one line', (_, data) => {
    const line = formatRecordText(record(data));
    expect(line).toBe(`shardId-000000000000 49 k ${base64(data)}`);
    expect(line).not.toMatch(/[\n\r]/);
  });

  it('text: a partition key with spaces or control characters is JSON-quoted, so the columns hold', () => {
    expect(formatRecordText(record('x', 'user 1'))).toBe('shardId-000000000000 49 "user 1" x');
    expect(formatRecordText(record('x', 'a\nb'))).toBe('shardId-000000000000 49 "a\\nb" x');
  });

  it('JSON: newlines stay text (JSON escapes them); other control characters and invalid UTF-8 are base64', () => {
    expect(JSON.parse(formatRecordJson(record('two\r\nlines')))).toMatchObject({ data: 'two\r\nlines', encoding: 'utf8' });
    expect(JSON.parse(formatRecordJson(record('csi\u009b2J')))).toMatchObject({ data: Buffer.from('csi\u009b2J').toString('base64'), encoding: 'base64' });
    expect(JSON.parse(formatRecordJson(record(Buffer.from([0xff, 0x00]))))).toMatchObject({ data: '/wA=', encoding: 'base64' });
  });
});
