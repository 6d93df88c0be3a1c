import http from 'node:http';
import https from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** The handler of the clients the consumer builds: HTTP/1.1 keep-alive, which every backend speaks. */
export function keepAliveHandler(): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  return new NodeHttpHandler({ httpAgent: new http.Agent(agentOptions), httpsAgent: new https.Agent(agentOptions), requestTimeout: 30_000 });
}
