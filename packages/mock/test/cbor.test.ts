import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { cbor } from '@smithy/core/cbor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { kinesisClient, rawRequest } from './helpers.js';

/**
 * The AWS SDK for Java sends Kinesis requests as CBOR by default. The mock does not read CBOR; it
 * answers with an error encoded the way such a client reads errors, naming the content type and
 * the switches that make the Java SDK send JSON.
 */
describe('CBOR requests (application/x-amz-cbor-1.1)', () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ maxRequestBytes: 64 * 1024, streams: [{ name: 's', shardCount: 1 }] });
  });
  afterAll(async () => {
    await server.close();
  });

  const headers = { 'x-amz-target': 'Kinesis_20131202.DescribeStreamSummary', 'content-type': 'application/x-amz-cbor-1.1' };

  it('are refused with a CBOR-encoded error that names the content type and the Java SDK switches', async () => {
    const res = await rawRequest(server, Buffer.from(cbor.serialize({ StreamName: 's' })), headers);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/x-amz-cbor-1.1');
    const error = cbor.deserialize(res.bytes) as { __type: string; message: string };
    expect(error.__type).toBe('SerializationException');
    expect(error.message).toContain('application/x-amz-cbor-1.1');
    expect(error.message).toContain('com.amazonaws.sdk.disableCbor');
    expect(error.message).toContain('aws.cborEnabled=false');
  });

  it('over maxRequestBytes get the 413 in CBOR too', async () => {
    const res = await rawRequest(server, Buffer.alloc(100 * 1024, 0x20), { ...headers, 'x-amz-target': 'Kinesis_20131202.PutRecords' });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/x-amz-cbor-1.1');
    expect(cbor.deserialize(res.bytes)).toMatchObject({ __type: 'SerializationException', message: 'Request body exceeds 65536 bytes.' });
  });

  it('leave the stream untouched and the server serving JSON clients', async () => {
    const create = await rawRequest(server, Buffer.from(cbor.serialize({ StreamName: 'made-by-cbor', ShardCount: 1 })), {
      ...headers,
      'x-amz-target': 'Kinesis_20131202.CreateStream',
    });
    expect(create.status).toBe(400);
    const client = kinesisClient(server, false);
    try {
      expect((await client.send(new ListStreamsCommand({}))).StreamNames).toEqual(['s']);
    } finally {
      client.destroy();
    }
  });
});
