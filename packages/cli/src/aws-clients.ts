import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { FanOutRequestHandler } from '@kinesis-kit/consumer';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Where the commands talk to: flags first, then the SDK's own environment (AWS_REGION, AWS_PROFILE, ...). */
export interface ConnectionOptions {
  endpoint?: string;
  /** DynamoDB (the lease table) somewhere else than `endpoint`, e.g. dynalite beside kinesis-local. */
  dynamoDbEndpoint?: string;
  region?: string;
  profile?: string;
  /** Fixed credentials (the embedded mock); otherwise the SDK's default chain finds them. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * HTTP/1.1 for every Kinesis call, fan-out subscriptions included (AWS refuses those: emulators
   * only). Without it, subscriptions go over HTTP/2 through FanOutRequestHandler.
   */
  http1?: boolean;
}

export interface AwsClients {
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  destroy(): void;
}

/**
 * Builds the two SDK clients with SDK-level retries off: the producer and the consumer back off
 * themselves, and retries at both levels would multiply. Kinesis calls go over HTTP/1.1 keep-alive
 * except SubscribeToShard (HTTP/2, FanOutRequestHandler), as in the clients the consumer builds:
 * this works on AWS, the mock and kinesis-local alike.
 */
export function createAwsClients(options: ConnectionOptions): AwsClients {
  const common = {
    maxAttempts: 1,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  const kinesis = new KinesisClient({ ...common, requestHandler: options.http1 ? http1Handler() : new FanOutRequestHandler({ requestHandler: http1Handler() }) });
  const dynamodb = new DynamoDBClient({
    ...common,
    ...(options.dynamoDbEndpoint !== undefined ? { endpoint: options.dynamoDbEndpoint } : {}),
    requestHandler: http1Handler(),
  });
  return {
    kinesis,
    dynamodb,
    destroy() {
      kinesis.destroy();
      dynamodb.destroy();
    },
  };
}

function http1Handler(): NodeHttpHandler {
  return new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  });
}
