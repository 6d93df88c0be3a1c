import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { errorOf, HANDLERS, kinesisClient, rawRequest } from './helpers.js';

const auth = { accessKeyId: 'AKIDEXAMPLEKEY', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

describe('SigV4 check (auth option)', () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ auth, streams: [{ name: 's', shardCount: 1 }] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('hands out the configured credentials', () => {
    expect(server.clientConfig().credentials).toEqual(auth);
  });

  it.each(HANDLERS)('accepts correctly signed requests over $protocol', async ({ http1 }) => {
    const client = kinesisClient(server, http1);
    try {
      expect((await client.send(new ListStreamsCommand({}))).StreamNames).toEqual(['s']);
    } finally {
      client.destroy();
    }
  });

  it('accepts signed DynamoDB requests', async () => {
    const ddb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1 });
    try {
      expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    } finally {
      ddb.destroy();
    }
  });

  it('rejects unsigned requests with MissingAuthenticationTokenException', async () => {
    const res = await rawRequest(server, '{}', { 'x-amz-target': 'Kinesis_20131202.ListStreams' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });

  it('rejects an unknown access key with UnrecognizedClientException', async () => {
    const client = kinesisClient(server, true, { credentials: { accessKeyId: 'AKIDSOMEONEELSE', secretAccessKey: auth.secretAccessKey } });
    try {
      expect((await errorOf(client.send(new ListStreamsCommand({})))).name).toBe('UnrecognizedClientException');
    } finally {
      client.destroy();
    }
  });

  it('rejects a wrong signature with InvalidSignatureException', async () => {
    const client = kinesisClient(server, false, { credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: 'wrong-secret' } });
    try {
      const err = await errorOf(client.send(new ListStreamsCommand({})));
      expect(err.name).toBe('InvalidSignatureException');
      expect(err.message).toContain('does not match');
    } finally {
      client.destroy();
    }
  });

  it('rejects a request signed more than 5 minutes off with "Signature expired"', async () => {
    const client = kinesisClient(server, true, { systemClockOffset: -6 * 60_000 });
    try {
      const err = await errorOf(client.send(new ListStreamsCommand({})));
      expect(err.name).toBe('InvalidSignatureException');
      expect(err.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    } finally {
      client.destroy();
    }
  });
});
