import { randomUUID } from 'node:crypto';
import type { Http2ServerRequest } from 'node:http2';
import { constants as h2constants } from 'node:http2';
import { errorFields, isAbortError, sleep, type Clock, type Logger } from '@kinesis-kit/core';
import type { ApiContext } from './api/context.js';
import { Input } from './api/input.js';
import { KINESIS_OPERATIONS } from './api/operations.js';
import { CBOR_CONTENT_TYPE, CBOR_UNSUPPORTED_MESSAGE, encodeCborTextMap, isCborRequest } from './cbor.js';
import type { EmbeddedDynamo } from './dynamodb.js';
import type { KinesisEngine } from './engine.js';
import { AwsErrorName, ServiceError } from './errors.js';
import type { FaultDecision, FaultInjector } from './faults.js';
import { verifySigV4, type AuthOptions } from './sigv4.js';
import type { SubscriptionManager, SubscriptionSink } from './subscriptions.js';
import type { AnyRequest, AnyResponse } from './transport.js';

const KINESIS_PREFIX = 'Kinesis_20131202.';
const DYNAMODB_PREFIX = 'DynamoDB_20120810.';
const JSON_11 = 'application/x-amz-json-1.1';

export interface RouterDeps {
  engine: KinesisEngine;
  faults: FaultInjector;
  subscriptions: SubscriptionManager;
  dynamo: EmbeddedDynamo | undefined;
  auth: AuthOptions | undefined;
  logger: Logger;
  clock: Clock;
  maxRequestBytes: number;
  /** Aborted on close(): pending fault latencies stop waiting. */
  signal: AbortSignal;
}

class BodyTooLarge extends Error {}

function readBody(req: AnyRequest, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

function header(req: AnyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: AnyResponse, status: number, body: string | Buffer, contentType = JSON_11, extra?: Record<string, string>): void {
  if (res.headersSent || isDestroyed(res)) return;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(bytes.length),
    'x-amzn-requestid': randomUUID(),
    ...extra,
  });
  res.end(bytes);
}

function isDestroyed(res: AnyResponse): boolean {
  return 'stream' in res ? res.stream.destroyed : (res.socket?.destroyed ?? true);
}

/** Answers `err` in AWS's shape: JSON, or CBOR to a client that sent CBOR (it reads errors that way). */
export function sendError(res: AnyResponse, err: ServiceError, cbor = false): void {
  const body = { __type: err.awsName, message: err.message };
  if (cbor) send(res, err.statusCode, encodeCborTextMap(body), CBOR_CONTENT_TYPE);
  else send(res, err.statusCode, JSON.stringify(body));
}

/** Drops the connection (HTTP/1.1) or the HTTP/2 session without answering. */
function dropConnection(req: AnyRequest): void {
  const stream = (req as Http2ServerRequest).stream;
  if (stream) stream.session?.destroy();
  else req.socket.destroy();
}

/**
 * Routes each request on `x-amz-target`: Kinesis operations to the engine, DynamoDB operations to
 * the embedded dynalite. Applies the SigV4 check and fault injection first; answers errors in
 * AWS's JSON shape; keeps serving whatever a client sends.
 */
export class Router {
  constructor(private readonly deps: RouterDeps) {}

  readonly handle = (req: AnyRequest, res: AnyResponse): void => {
    this.route(req, res).catch((err: unknown) => {
      if (err instanceof ServiceError) {
        sendError(res, err, isCborRequest(req.headers));
        return;
      }
      if (isAbortError(err)) {
        dropConnection(req); // the server is closing while a fault delay was pending
        return;
      }
      this.deps.logger.error({ ...errorFields(err) }, 'request failed');
      sendError(res, new ServiceError(AwsErrorName.INTERNAL_FAILURE, 'Internal service failure.', 500), isCborRequest(req.headers));
    });
  };

  private async route(req: AnyRequest, res: AnyResponse): Promise<void> {
    const { deps } = this;
    let body: Buffer;
    try {
      body = await readBody(req, deps.maxRequestBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        sendError(res, new ServiceError(AwsErrorName.SERIALIZATION, `Request body exceeds ${deps.maxRequestBytes} bytes.`, 413), isCborRequest(req.headers));
        return;
      }
      return; // the client went away
    }
    if (req.method === 'GET') {
      send(res, 200, 'healthy: kinesis-kit-mock\n', 'text/plain');
      return;
    }
    const target = header(req, 'x-amz-target') ?? '';
    const service = target.startsWith(KINESIS_PREFIX) ? 'kinesis' : target.startsWith(DYNAMODB_PREFIX) && deps.dynamo ? 'dynamodb' : undefined;
    if (req.method !== 'POST' || !service) {
      throw new ServiceError(AwsErrorName.UNKNOWN_OPERATION, `Unknown operation ${target || '(no x-amz-target header)'}.`);
    }
    const operation = target.slice(target.indexOf('.') + 1);
    if (service === 'kinesis' && !Object.hasOwn(KINESIS_OPERATIONS, operation)) {
      throw new ServiceError(AwsErrorName.UNKNOWN_OPERATION, `Unknown operation ${target}.`);
    }
    if (deps.auth) {
      const authError = verifySigV4({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body }, deps.auth);
      if (authError) throw authError;
    }
    if (service === 'kinesis' && isCborRequest(req.headers)) throw new ServiceError(AwsErrorName.SERIALIZATION, CBOR_UNSUPPORTED_MESSAGE);
    const fault = deps.faults.decide(service, operation);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs, deps.signal, deps.clock);
    if (fault.drop) {
      dropConnection(req);
      return;
    }
    if (fault.error) throw fault.error;
    if (service === 'dynamodb') {
      const out = await deps.dynamo!.handle(req.method ?? 'POST', req.url ?? '/', req.headers, body);
      if (res.headersSent || isDestroyed(res)) return;
      res.writeHead(out.status, out.headers);
      res.end(out.body);
      return;
    }
    this.kinesis(operation, body, fault, req, res);
  }

  private kinesis(operation: string, body: Buffer, fault: FaultDecision, req: AnyRequest, res: AnyResponse): void {
    const ctx: ApiContext = { engine: this.deps.engine, throttleEntry: fault.throttleEntry };
    const result = KINESIS_OPERATIONS[operation]!(Input.parse(body), ctx);
    if ('bytes' in result) send(res, 200, result.bytes);
    else if ('raw' in result) send(res, 200, result.raw);
    else if ('json' in result) send(res, 200, JSON.stringify(result.json));
    else {
      if (isDestroyed(res)) return; // the client is gone (e.g. it gave up during an injected latency): no subscription
      const sink = responseSink(req, res);
      const { faults } = this.deps;
      // Throws ResourceInUseException (5-second rule) before anything is written.
      this.deps.subscriptions.start(result.subscription, sink, {
        stall: fault.stall,
        streamErrorRate: fault.streamErrorRate,
        streamErrorCode: fault.streamErrorCode,
        roll: (rate) => faults.roll(rate),
      });
    }
  }
}

/** Adapts an HTTP/1.1 (chunked) or HTTP/2 response to a subscription's frame sink. */
function responseSink(req: AnyRequest, res: AnyResponse): SubscriptionSink {
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': randomUUID() });
  };
  return {
    write(frame) {
      start();
      if (isDestroyed(res)) return true;
      return (res as { write(chunk: Buffer): boolean }).write(frame);
    },
    onDrain(fn) {
      (res as NodeJS.EventEmitter).once('drain', fn);
    },
    end() {
      start();
      if (!isDestroyed(res)) res.end();
    },
    abort() {
      const stream = (req as Http2ServerRequest).stream;
      if (stream) stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
      else req.socket.destroy();
    },
    onClose(fn) {
      (res as NodeJS.EventEmitter).once('close', fn);
    },
  };
}
