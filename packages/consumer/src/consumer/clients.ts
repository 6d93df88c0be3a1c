import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisConsumerOptions } from './options.js';

export interface ConsumerClients {
  kinesis: KinesisClient;
  dynamoDb: DynamoDBClient;
  /** Clients we built (destroyed by stop()); injected ones are the caller's. */
  owned: { destroy(): void }[];
}

/**
 * Uses the injected clients, or builds them from region / endpoint / credentials: SDK retries off
 * (the consumer retries with its own backoff) and HTTP/1.1 keep-alive, which every backend speaks
 * (kinesis-local breaks with the SDK's default HTTP/2 handler) — except a fan-out Kinesis client,
 * which keeps the SDK's HTTP/2 handler (inject one with NodeHttpHandler for kinesis-local). DynamoDB goes to dynamoDbEndpoint,
 * else to `endpoint` (LocalStack and the mock serve both on one port), else to AWS.
 */
export function resolveClients(o: KinesisConsumerOptions): ConsumerClients {
  const fanout = o.retrieval?.mode === 'fanout';
  const owned: { destroy(): void }[] = [];
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const handler = (): NodeHttpHandler =>
    new NodeHttpHandler({ httpAgent: new http.Agent(agentOptions), httpsAgent: new https.Agent(agentOptions), requestTimeout: 30_000 });
  const base = {
    ...(o.region !== undefined ? { region: o.region } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    maxAttempts: 1,
  };
  let kinesis = o.kinesisClient;
  if (!kinesis) {
    // Fan-out needs HTTP/2 (SubscribeToShard on AWS): the SDK's default handler.
    kinesis = new KinesisClient({ ...base, ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}), ...(fanout ? {} : { requestHandler: handler() }) });
    owned.push(kinesis);
  }
  let dynamoDb = o.dynamoDbClient;
  if (!dynamoDb) {
    const endpoint = o.dynamoDbEndpoint ?? o.endpoint;
    dynamoDb = new DynamoDBClient({ ...base, ...(endpoint !== undefined ? { endpoint } : {}), requestHandler: handler() });
    owned.push(dynamoDb);
  }
  return { kinesis, dynamoDb, owned };
}
