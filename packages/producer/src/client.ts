import http from 'node:http';
import https from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ResolvedProducerOptions } from './options.js';

/**
 * The client the producer builds when none is injected: SDK retries off (the producer retries with
 * its own backoff, per record), keep-alive sockets up to maxConnections, KPL timeouts.
 */
export function buildKinesisClient(options: ResolvedProducerOptions): KinesisClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxConnections };
  return new KinesisClient({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      connectionTimeout: options.connectTimeout,
      requestTimeout: options.requestTimeout,
    }),
  });
}
