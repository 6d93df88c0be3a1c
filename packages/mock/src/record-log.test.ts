import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecordLog } from './record-log.js';
import { formatSequenceNumber, sequenceNumberPrefix } from './sequence-number.js';

const put = (log: RecordLog, key: string, data: Uint8Array, ms: number) => log.append(key, Buffer.byteLength(key), data, data.length, ms);

describe('RecordLog', () => {
  it('numbers records from 1 and returns what was stored', () => {
    const log = new RecordLog();
    expect(log.firstCounter).toBe(1);
    expect(log.lastCounter).toBe(0);
    expect(put(log, 'a', Buffer.from('one'), 10)).toBe(1);
    expect(log.append('ключ', Buffer.byteLength('ключ'), Buffer.from('two').toString('base64'), 3, 20)).toBe(2);
    expect(log.get(1)).toEqual({ counter: 1, partitionKey: 'a', data: Buffer.from('one'), arrivalMs: 10 });
    expect(log.partitionKey(2)).toBe('ключ');
    expect(log.dataBase64(2)).toBe(Buffer.from('two').toString('base64'));
    expect(log.sizeOf(2)).toBe(Buffer.byteLength('ключ') + 3);
    expect(log.bytes).toBe(1 + 3 + Buffer.byteLength('ключ') + 3);
  });

  it('keeps arrival times non-decreasing and finds records by timestamp', () => {
    const log = new RecordLog();
    put(log, 'a', Buffer.alloc(1), 100);
    put(log, 'b', Buffer.alloc(1), 90); // a clock step back
    put(log, 'c', Buffer.alloc(1), 200);
    expect(log.arrivalMs(2)).toBe(100);
    expect(log.counterAtTimestamp(0)).toBe(1);
    expect(log.counterAtTimestamp(101)).toBe(3);
    expect(log.counterAtTimestamp(201)).toBe(4);
  });

  it('trims from the front and keeps counters stable', () => {
    const log = new RecordLog();
    for (let i = 0; i < 5000; i++) put(log, `k${i}`, Buffer.alloc(200, i), i);
    expect(log.trimBefore(4000)).toBe(4000);
    expect(log.firstCounter).toBe(4001);
    expect(log.length).toBe(1000);
    expect(log.get(4001).partitionKey).toBe('k4000');
    expect(() => log.get(4000)).toThrow(RangeError);
    expect(put(log, 'next', Buffer.alloc(1), 9999)).toBe(5001);
  });

  it('stops a scan at the record and byte limits but always returns one record', () => {
    const log = new RecordLog();
    for (let i = 0; i < 10; i++) put(log, 'k', Buffer.alloc(99), i);
    expect(log.scan(1, 3, 1e9)).toEqual({ to: 4, bytes: 300 });
    expect(log.scan(1, 100, 250)).toEqual({ to: 3, bytes: 200 });
    expect(log.scan(1, 100, 10)).toEqual({ to: 2, bytes: 100 });
    expect(log.scan(11, 100, 1e9)).toEqual({ to: 11, bytes: 0 });
  });

  it('renders records as JSON a client can parse, for any keys and data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }), fc.uint8Array({ maxLength: 64 })), { minLength: 1, maxLength: 20 }),
        (records) => {
          const log = new RecordLog();
          records.forEach(([k, d], i) => put(log, k, d, 1_700_000_000_000 + i));
          const json = log.recordsJson(1, records.length + 1, sequenceNumberPrefix(7), '{"Records":[', '],"X":1}', ',"EncryptionType":"KMS"');
          const parsed = JSON.parse(json.toString('utf8')) as { Records: Record<string, unknown>[]; X: number };
          expect(parsed.X).toBe(1);
          expect(parsed.Records).toEqual(
            records.map(([k, d], i) => ({
              SequenceNumber: formatSequenceNumber(7, i + 1),
              ApproximateArrivalTimestamp: (1_700_000_000_000 + i) / 1000,
              Data: Buffer.from(d).toString('base64'),
              PartitionKey: k,
              EncryptionType: 'KMS',
            })),
          );
        },
      ),
    );
  });
});
