import { ListStreamsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { errorOf, kinesisClient, rawRequest } from './helpers.js';

const kinesis = (op: string) => ({ 'x-amz-target': `Kinesis_20131202.${op}`, 'content-type': 'application/x-amz-json-1.1' });

describe('malformed requests get AWS-shaped errors and the server keeps serving', () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ maxRequestBytes: 64 * 1024, streams: [{ name: 's', shardCount: 1 }] });
  });
  afterAll(async () => {
    await server.close();
  });

  const cases: [string, string | Buffer, Record<string, string>, number, string][] = [
    ['invalid JSON', '{"StreamName":', kinesis('DescribeStreamSummary'), 400, 'SerializationException'],
    ['a JSON array', '[1,2]', kinesis('ListStreams'), 400, 'SerializationException'],
    ['a member of the wrong type', '{"StreamName":"x","ShardCount":"two"}', kinesis('CreateStream'), 400, 'SerializationException'],
    ['a bad base64 blob', '{"StreamName":"s","PartitionKey":"k","Data":"not base64!"}', kinesis('PutRecord'), 400, 'SerializationException'],
    ['an unknown Kinesis operation', '{}', kinesis('FlyToTheMoon'), 400, 'UnknownOperationException'],
    ['an unknown service', '{}', { 'x-amz-target': 'Lambda_20150331.Invoke' }, 400, 'UnknownOperationException'],
    ['no x-amz-target', '{}', {}, 400, 'UnknownOperationException'],
    ['a missing required member', '{}', kinesis('CreateStream'), 400, 'ValidationException'],
    ['a missing stream', '{"StreamName":"nope"}', kinesis('DescribeStream'), 400, 'ResourceNotFoundException'],
    ['a body over maxRequestBytes', Buffer.alloc(100 * 1024, 0x20), kinesis('PutRecords'), 413, 'SerializationException'],
  ];

  it.each(cases)('%s', async (_label, body, headers, status, type) => {
    const res = await rawRequest(server, body, headers);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/x-amz-json-1.1');
    const parsed = JSON.parse(res.body) as { __type: string; message: string };
    expect(parsed.__type).toBe(type);
    expect(typeof parsed.message).toBe('string');
  });

  it('reports every violated constraint in one ValidationException', async () => {
    const res = await rawRequest(server, JSON.stringify({ StreamName: 'bad name', ShardCount: 0 }), kinesis('CreateStream'));
    const parsed = JSON.parse(res.body) as { __type: string; message: string };
    expect(parsed.__type).toBe('ValidationException');
    expect(parsed.message).toMatch(/^2 validation errors detected: .*'streamName'.*'shardCount'/);
  });

  it('stores nothing from a PutRecords call with one bad base64 blob', async () => {
    const records = [
      { PartitionKey: 'a', Data: Buffer.from('fine').toString('base64') },
      { PartitionKey: 'b', Data: 'bm90!!!=' },
    ];
    const res = await rawRequest(server, JSON.stringify({ StreamName: 's', Records: records }), kinesis('PutRecords'));
    expect(JSON.parse(res.body)).toMatchObject({ __type: 'SerializationException' });
    expect(server.engine.streams.get('s')!.shards[0]!.log.length).toBe(0);
  });

  it('answers a health check on GET /', async () => {
    const res = await rawRequest(server, '', {}, 'GET');
    expect(res.status).toBe(200);
  });

  it('still serves SDK calls over both protocols afterwards', async () => {
    for (const http1 of [false, true]) {
      const client = kinesisClient(server, http1);
      try {
        expect((await client.send(new ListStreamsCommand({}))).StreamNames).toEqual(['s']);
        const err = await errorOf(client.send(new PutRecordsCommand({ StreamName: 's', Records: [{ PartitionKey: 'k'.repeat(257), Data: new Uint8Array(1) }] })));
        expect(err.name).toBe('ValidationException');
      } finally {
        client.destroy();
      }
    }
  });
});
