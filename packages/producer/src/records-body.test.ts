import { KinesisClient, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import type { SerializeHandlerArguments } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { speaksAwsJson11 } from '@kinesis-kit/core';
import { withRecords, writeRecordsBody } from './records-body.js';

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('writeRecordsBody', () => {
  it('writes JSON that parses to the records, Data in base64, keys escaped', () => {
    const records = [
      { Data: allBytes, PartitionKey: 'plain', ExplicitHashKey: '340282366920938463463374607431768211455' },
      { Data: new Uint8Array(0), PartitionKey: 'quote " backslash \\ newline \n tab \t nul \u0000 %' },
      { Data: Buffer.from('hé'), PartitionKey: 'ünïcödé 鍵 😀', ExplicitHashKey: '0' },
      { Data: new Uint8Array(allBytes.buffer, 10, 1), PartitionKey: 'a' },
    ];
    const body = writeRecordsBody('{', records, ',"StreamName":"s"}');
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      Records: [
        { Data: Buffer.from(allBytes).toString('base64'), PartitionKey: 'plain', ExplicitHashKey: '340282366920938463463374607431768211455' },
        { Data: '', PartitionKey: 'quote " backslash \\ newline \n tab \t nul \u0000 %' },
        { Data: Buffer.from('hé').toString('base64'), PartitionKey: 'ünïcödé 鍵 😀', ExplicitHashKey: '0' },
        { Data: 'Cg==', PartitionKey: 'a' },
      ],
      StreamName: 's',
    });
  });

  it('writes an empty list and keeps what surrounds it', () => {
    expect(writeRecordsBody('{', [], ',"StreamARN":"arn:aws:kinesis:eu-west-1:123456789012:stream/é"}').toString('utf8')).toBe(
      '{"Records":[],"StreamARN":"arn:aws:kinesis:eu-west-1:123456789012:stream/é"}',
    );
  });
});

describe('withRecords', () => {
  const records = [{ Data: Buffer.from('x'), PartitionKey: 'k', ExplicitHashKey: '1' }];
  const args = (headers: Record<string, string>, body: unknown): SerializeHandlerArguments<PutRecordsCommandInput> => ({
    input: { Records: [] },
    request: { headers, body },
  });
  const json = { 'content-type': 'application/x-amz-json-1.1' };

  it("writes the records where the SDK's body has the empty list", () => {
    let mismatches = 0;
    const out = withRecords(args(json, new TextEncoder().encode('{"Records":[],"StreamName":"s"}')), records, () => void mismatches++);
    const body = (out.request as { body: Buffer }).body;
    expect(JSON.parse(body.toString('utf8'))).toEqual({ Records: [{ Data: 'eA==', PartitionKey: 'k', ExplicitHashKey: '1' }], StreamName: 's' });
    expect(mismatches).toBe(0);
  });

  it('throws before anything is sent, and says so once, when the body is not the JSON expected', () => {
    const cases = [
      args({ 'content-type': 'application/cbor' }, new Uint8Array([0xbf])),
      args(json, '{"Records": [],"StreamName":"s"}'),
      args(json, undefined),
      args({}, '{"Records":[],"StreamName":"s"}'),
    ];
    for (const input of cases) {
      let mismatches = 0;
      expect(() => withRecords(input, records, () => void mismatches++)).toThrow(/did not serialize PutRecords/);
      expect(mismatches).toBe(1);
    }
  });
});

describe('speaksAwsJson11 (core)', () => {
  it("is true for the SDK's Kinesis client, which the native bodies rely on", () => {
    const client = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(speaksAwsJson11(client)).toBe(true);
    client.destroy();
  });
});
