import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { FanOutRequestHandler } from '../retrieval/fanout-request-handler.js';
import { keepAliveHandler } from './keep-alive-handler.js';
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
 * (kinesis-local breaks with the SDK's default HTTP/2 handler). A fan-out Kinesis client sends
 * SubscribeToShard over HTTP/2 with FanOutRequestHandler and everything else over HTTP/1.1.
 * DynamoDB goes to dynamoDbEndpoint, else to `endpoint` (LocalStack and the mock serve both on one
 * port), else to AWS.
 */
export function resolveClients(o: KinesisConsumerOptions): ConsumerClients {
  const fanout = o.retrieval?.mode === 'fanout';
  const owned: { destroy(): void }[] = [];
  const base = {
    ...(o.region !== undefined ? { region: o.region } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    maxAttempts: 1,
  };
  let kinesis = o.kinesisClient;
  if (!kinesis) {
    // Fan-out needs HTTP/2 for SubscribeToShard on AWS.
    const requestHandler = fanout ? new FanOutRequestHandler() : keepAliveHandler();
    kinesis = new KinesisClient({ ...base, ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}), requestHandler });
    owned.push(kinesis);
  }
  let dynamoDb = o.dynamoDbClient;
  if (!dynamoDb) {
    const endpoint = o.dynamoDbEndpoint ?? o.endpoint;
    dynamoDb = new DynamoDBClient({ ...base, ...(endpoint !== undefined ? { endpoint } : {}), requestHandler: keepAliveHandler() });
    owned.push(dynamoDb);
  }
  return { kinesis, dynamoDb, owned };
}
