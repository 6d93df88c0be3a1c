import type { GetRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { classifyAwsError } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { putBackRecordData, takeRecordData } from './records-response.js';

/** A GetRecords body as AWS writes it (compact JSON), with these records' bytes as Data. */
function body(datas: Uint8Array[], keys: string[] = datas.map((_, i) => `key-${i}`)): Buffer {
  return Buffer.from(
    JSON.stringify({
      Records: datas.map((d, i) => ({
        SequenceNumber: `4959${i}`,
        ApproximateArrivalTimestamp: 1764450000.123,
        Data: Buffer.from(d).toString('base64'),
        PartitionKey: keys[i],
      })),
      NextShardIterator: 'AAAA/iterator+with/base64==',
      MillisBehindLatest: 0,
      ChildShards: [{ ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' } }],
    }),
  );
}

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('takeRecordData', () => {
  it('takes every Data value out, decoded, and leaves a body that parses to the same response with empty Data', () => {
    // Lengths 0 to 3 cover no padding, one and two padding characters; the keys try to look like Data.
    const datas = [allBytes, new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3), new Uint8Array(60_000).fill(7)];
    const keys = ['plain', '"Data":"AAAA"', 'quote " backslash \\', 'ünïcödé 鍵 😀', 'Data', '{"Data":"x"}'];
    const original = body(datas, keys);
    const taken = takeRecordData(original)!;
    expect(taken.data.map((d) => [...d])).toEqual(datas.map((d) => [...d]));
    const expected = JSON.parse(original.toString('utf8')) as { Records: { Data: string }[] };
    for (const r of expected.Records) r.Data = '';
    expect(JSON.parse(taken.body.toString('utf8'))).toEqual(expected);
  });

  it('leaves the body to the SDK when there is no Data, or a value that is not plain base64', () => {
    expect(takeRecordData(body([]))).toBeUndefined();
    expect(takeRecordData(Buffer.from('{"Records":[{"Data": "AQID","PartitionKey":"k"}]}'))).toBeUndefined(); // whitespace: no match
    expect(takeRecordData(Buffer.from('{"Records":[{"Data":"AQ\\/D","PartitionKey":"k"}]}'))).toBeUndefined(); // an escape
    expect(takeRecordData(Buffer.from('{"Records":[{"Data":"AQI","PartitionKey":"k"}]}'))).toBeUndefined(); // unpadded
    expect(takeRecordData(Buffer.from('{"Records":[{"Data":"AQID'))).toBeUndefined(); // cut off
  });
});

describe('putBackRecordData', () => {
  const output = (datas: Uint8Array[]): GetRecordsCommandOutput =>
    ({ $metadata: {}, Records: datas.map((Data, i) => ({ Data, PartitionKey: `k${i}`, SequenceNumber: `${i}` })) });

  it('puts the bytes back by position', () => {
    const out = output([new Uint8Array(0), new Uint8Array(0)]);
    putBackRecordData(out, [Buffer.from('a'), Buffer.from('bc')], () => expect.unreachable());
    expect(out.Records!.map((r) => Buffer.from(r.Data!).toString())).toEqual(['a', 'bc']);
  });

  it('throws a retriable error and reports the mismatch when the records do not line up', () => {
    for (const [records, data] of [
      [[new Uint8Array(0)], [Buffer.from('a'), Buffer.from('b')]],
      [[Uint8Array.of(1), new Uint8Array(0)], [Buffer.from('a'), Buffer.from('b')]],
    ] as const) {
      let mismatches = 0;
      let thrown: unknown;
      try {
        putBackRecordData(output([...records]), data, () => void mismatches++);
      } catch (err) {
        thrown = err;
      }
      expect(mismatches).toBe(1);
      expect(thrown).toMatchObject({ code: 'RECORD_DATA_MISMATCH' });
      expect(classifyAwsError(thrown).retriable).toBe(true);
    }
    let mismatches = 0;
    expect(() => putBackRecordData(undefined, [Buffer.from('a')], () => void mismatches++)).toThrow(/did not line up/);
    expect(mismatches).toBe(1);
  });
});
