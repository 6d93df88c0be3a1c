import http2 from 'node:http2';
import { Readable } from 'node:stream';
import { AbortError } from '@kinesis-kit/core';
import { buildQueryString } from '@smithy/core/protocols';
import type { HeaderBag, HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandlerOutput } from '@smithy/types';
import { keepAliveHandler } from '../consumer/keep-alive-handler.js';
import { ConsumerConfigError } from '../errors.js';

/** The KCL's HTTP/2 receive window for SubscribeToShard (KinesisClientUtil: 512 KiB). */
export const FANOUT_WINDOW_BYTES = 512 * 1024;
/** HTTP/2 bounds for a window: the protocol's default 65,535 up to 2^31 - 1. */
const MIN_WINDOW_BYTES = 65_535;
const MAX_WINDOW_BYTES = 2 ** 31 - 1;

/** A smithy HTTP request handler (NodeHttpHandler, NodeHttp2Handler, ...), as KinesisClient's `requestHandler` takes it. */
export interface InnerRequestHandler {
  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<RequestHandlerOutput<HttpResponse>>;
  updateHttpClientConfig?(key: never, value: never): void;
  httpHandlerConfigs?(): object;
  destroy?(): void;
}

export interface FanOutRequestHandlerOptions {
  /** HTTP/2 receive window of each subscription (its connection and its stream), bytes. Default 512 KiB, the KCL's. */
  windowBytes?: number;
  /** Time allowed for a subscription's response headers to arrive, milliseconds. Default 30000. */
  responseTimeoutMillis?: number;
  /** Handles every call that is not an event stream. Default: NodeHttpHandler with keep-alive (HTTP/1.1). */
  requestHandler?: InnerRequestHandler;
  /** Options for `http2.connect` of each subscription, e.g. `ca` for a private certificate authority. The window settings are ours. */
  connectOptions?: http2.SecureClientSessionOptions;
}

/** What the SDK passes beside the request: `isEventStream` is set for SubscribeToShard. */
type HandleOptions = HttpHandlerOptions & { isEventStream?: boolean };

/**
 * The Kinesis client's request handler for enhanced fan-out: `SubscribeToShard` over HTTP/2 with
 * a wide receive window, every other call through an inner handler (HTTP/1.1 keep-alive by default).
 *
 * Why not the SDK's HTTP/2 handler:
 * - Node 20 opens an HTTP/2 connection with a 64 KiB receive window, so a subscription carries at
 *   most 64 KiB per round trip (about 1.3 MB/s at 50 ms, under fan-out's 2 MiB/s per shard), and
 *   the SDK's handler has no way to widen the connection's window. The KCL uses 512 KiB.
 * - It sends GOAWAY as soon as the response headers arrive while the events still stream, which
 *   kinesis-local (LocalStack's engine) fails on.
 *
 * Each subscription gets its own connection, closed when its stream ends. Once the response has
 * started there is no inactivity timeout: a consumer that stops reading (its queue is full) holds
 * the stream back by flow control, and the fan-out fetcher's own watchdog renews a silent one.
 */
export class FanOutRequestHandler {
  /**
   * Not 'h2': the SDK would then sign `:authority` instead of `host` on every request, which the
   * HTTP/1.1 calls cannot send. With `host` signed, SubscribeToShard goes out with `host` moved
   * to `:authority`, as the KCL's HTTP/2 client (Netty) sends it.
   */
  readonly metadata = { handlerProtocol: 'http/1.1' };
  readonly windowBytes: number;
  readonly responseTimeoutMillis: number;
  private readonly inner: InnerRequestHandler;
  private readonly connectOptions: http2.SecureClientSessionOptions;
  private readonly sessions = new Set<http2.ClientHttp2Session>();

  constructor(options: FanOutRequestHandlerOptions = {}) {
    this.windowBytes = options.windowBytes ?? FANOUT_WINDOW_BYTES;
    if (!Number.isInteger(this.windowBytes) || this.windowBytes < MIN_WINDOW_BYTES || this.windowBytes > MAX_WINDOW_BYTES) {
      throw new ConsumerConfigError('windowBytes', `must be an integer in [${MIN_WINDOW_BYTES}, ${MAX_WINDOW_BYTES}], got ${String(options.windowBytes)}`);
    }
    this.responseTimeoutMillis = options.responseTimeoutMillis ?? 30_000;
    if (!Number.isInteger(this.responseTimeoutMillis) || this.responseTimeoutMillis < 1) {
      throw new ConsumerConfigError('responseTimeoutMillis', `must be a positive integer, got ${String(options.responseTimeoutMillis)}`);
    }
    this.inner = options.requestHandler ?? keepAliveHandler();
    const given = options.connectOptions ?? {};
    this.connectOptions = { ...given, settings: { ...given.settings, initialWindowSize: this.windowBytes } };
  }

  handle(request: HttpRequest, options: HandleOptions = {}): Promise<RequestHandlerOutput<HttpResponse>> {
    if (!isEventStream(request, options)) return this.inner.handle(request, options);
    return this.openEventStream(request, options.abortSignal);
  }

  updateHttpClientConfig(key: never, value: never): void {
    this.inner.updateHttpClientConfig?.(key, value);
  }

  httpHandlerConfigs(): object {
    return this.inner.httpHandlerConfigs?.() ?? {};
  }

  /** Closes every open subscription's connection and the inner handler's (KinesisClient.destroy() calls this). */
  destroy(): void {
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
    this.inner.destroy?.();
  }

  /** Open subscriptions (connections), for tests and diagnostics. */
  get openSubscriptions(): number {
    return this.sessions.size;
  }

  private openEventStream(request: HttpRequest, abortSignal: HttpHandlerOptions['abortSignal']): Promise<RequestHandlerOutput<HttpResponse>> {
    return new Promise((resolve, reject) => {
      if (abortSignal?.aborted === true) {
        reject(abortError(abortSignal));
        return;
      }
      const origin = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
      const session = http2.connect(origin, this.connectOptions);
      this.sessions.add(session);
      session.once('connect', () => session.setLocalWindowSize(this.windowBytes));
      session.once('close', () => this.sessions.delete(session));

      let settled = false;
      // Before the response an error is the request's (rejected); after it, the body stream's (its reader sees it).
      const fail = (err: Error): void => {
        if (!settled) {
          settled = true;
          reject(rootCause(err));
        } else if (!stream.destroyed) {
          stream.destroy(err);
        }
        session.destroy();
      };
      session.on('error', fail);

      const stream = session.request({ ...http2Headers(request.headers), ':method': request.method, ':path': pathOf(request) });
      stream.setTimeout(this.responseTimeoutMillis, () => {
        fail(Object.assign(new Error(`no response to ${request.method} ${request.path} within ${this.responseTimeoutMillis} ms`), { name: 'TimeoutError' }));
      });
      const stopListening = abortSignal === undefined ? undefined : onAbort(abortSignal, () => fail(abortError(abortSignal)));
      stream.once('response', (headers) => {
        stream.setTimeout(0);
        settled = true;
        resolve({ response: { statusCode: Number(headers[':status'] ?? -1), headers: responseHeaders(headers), body: stream } });
      });
      stream.on('error', fail);
      stream.once('close', () => {
        stopListening?.();
        if (!settled) fail(new Error(`the HTTP/2 stream of ${request.method} ${request.path} closed before a response (code ${stream.rstCode})`));
        // Its only stream is done: close the connection now, not while events were still arriving.
        else session.close();
      });
      writeBody(stream, request.body, fail);
    });
  }
}

/** SubscribeToShard: flagged by the SDK (`isEventStream`); older SDKs are recognised by the target header. */
function isEventStream(request: HttpRequest, options: HandleOptions): boolean {
  if (options.isEventStream === true) return true;
  const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
  return typeof target === 'string' && target.endsWith('.SubscribeToShard');
}

/** Headers HTTP/2 forbids (connection-specific); Node throws on them. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** The request's headers for HTTP/2: `host` becomes `:authority`, connection-specific ones are dropped. */
function http2Headers(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host') out[':authority'] = value;
    else if (!CONNECTION_HEADERS.has(lower)) out[name] = value;
  }
  return out;
}

function responseHeaders(headers: http2.IncomingHttpHeaders): HeaderBag {
  const out: HeaderBag = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

function pathOf(request: HttpRequest): string {
  // The SDK's own query builder (sorted, RFC 3986), as its HTTP/2 handler uses.
  const query = request.query === undefined ? '' : buildQueryString(request.query);
  return query === '' ? request.path : `${request.path}?${query}`;
}

function writeBody(stream: http2.ClientHttp2Stream, body: unknown, fail: (err: Error) => void): void {
  if (body instanceof Readable) {
    body.once('error', fail);
    body.pipe(stream);
  } else if (body === undefined || body === null) {
    stream.end();
  } else if (typeof body === 'string' || body instanceof Uint8Array) {
    stream.end(body);
  } else {
    fail(new TypeError(`unsupported request body: ${typeof body}`));
  }
}

/** A connection failure reaches the pending stream as ERR_HTTP2_STREAM_CANCEL; the connection's error (ECONNREFUSED, ...) says more. */
function rootCause(err: Error): Error {
  const { code, cause } = err as Error & { code?: unknown };
  return code === 'ERR_HTTP2_STREAM_CANCEL' && cause instanceof Error ? cause : err;
}

type AnyAbortSignal = NonNullable<HttpHandlerOptions['abortSignal']>;

/** Calls `listener` once on abort; returns the function that stops listening. Smithy's older signals only have `onabort`. */
function onAbort(signal: AnyAbortSignal, listener: () => void): () => void {
  if ('addEventListener' in signal && typeof signal.addEventListener === 'function') {
    signal.addEventListener('abort', listener, { once: true });
    return () => signal.removeEventListener('abort', listener);
  }
  signal.onabort = listener;
  return () => {
    if (signal.onabort === listener) signal.onabort = null;
  };
}

function abortError(signal: AnyAbortSignal): Error {
  const reason: unknown = 'reason' in signal ? signal.reason : undefined;
  return new AbortError('Request aborted', reason === undefined ? undefined : { cause: reason });
}
