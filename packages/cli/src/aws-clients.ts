import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
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
   * HTTP/1.1 through NodeHttpHandler instead of the SDK's default for Kinesis. kinesis-local
   * (LocalStack's engine) breaks with the default HTTP/2 handler.
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
 * themselves, and retries at both levels would multiply.
 */
export function createAwsClients(options: ConnectionOptions): AwsClients {
  const common = {
    maxAttempts: 1,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
  const kinesis = new KinesisClient({ ...common, ...(options.http1 ? { requestHandler: http1Handler() } : {}) });
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
