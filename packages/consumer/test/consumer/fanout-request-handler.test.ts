import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { HttpRequest } from '@smithy/types';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsumerConfigError, FANOUT_WINDOW_BYTES, FanOutRequestHandler, type InnerRequestHandler } from '../../src/index.js';
import { until } from './harness.js';

// FanOutRequestHandler against plain Node HTTP/2 servers on loopback, so each test can look at the
// connection from the server's side (window sizes, headers, GOAWAY) and decide when to answer.

interface SeenStream {
  stream: http2.ServerHttp2Stream;
  headers: http2.IncomingHttpHeaders;
  /** The client's receive windows as the server saw them when the request arrived. */
  connectionWindow: number;
  streamWindow: number | undefined;
}

interface TestServer {
  port: number;
  streams: SeenStream[];
  goaways: number;
  nextStream(): Promise<SeenStream>;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const handlers: FanOutRequestHandler[] = [];

afterEach(async () => {
  for (const h of handlers.splice(0)) h.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function startServer(): Promise<TestServer> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const waiting: ((s: SeenStream) => void)[] = [];
  const t: TestServer = {
    port: 0,
    streams: [],
    goaways: 0,
    nextStream: () => new Promise((resolve) => waiting.push(resolve)),
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('session', (session) => {
    sessions.add(session);
    session.on('goaway', () => t.goaways++);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const seen = { stream, headers, connectionWindow: stream.session!.state.remoteWindowSize!, streamWindow: stream.session!.remoteSettings.initialWindowSize };
    stream.on('error', () => undefined);
    t.streams.push(seen);
    waiting.shift()?.(seen);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.port = (server.address() as AddressInfo).port;
  servers.push(t);
  return t;
}

function handler(options: ConstructorParameters<typeof FanOutRequestHandler>[0] = {}): FanOutRequestHandler {
  const h = new FanOutRequestHandler(options);
  handlers.push(h);
  return h;
}

/** A signed SubscribeToShard request as the SDK hands it to the handler (host header, no :authority). */
function subscribeRequest(port: number, target = 'Kinesis_20131202.SubscribeToShard'): HttpRequest {
  return {
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    method: 'POST',
    path: '/',
    query: {},
    headers: {
      host: `127.0.0.1:${port}`,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: '{"ConsumerARN":"arn","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}',
  };
}

async function readAll(body: Readable): Promise<string> {
  let text = '';
  for await (const chunk of body) text += String(chunk);
  return text;
}

/** Resolves when the server has a PING answered: every frame the client sent before it has been read. */
function pingFromServer(stream: http2.ServerHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => stream.session!.ping((err) => (err ? reject(err) : resolve())));
}

describe('FanOutRequestHandler', () => {
  it('subscribes over HTTP/2 with the 512 KiB window, host as :authority, and no GOAWAY until the stream ends', async () => {
    const server = await startServer();
    const before = activeResources();
    const h = handler();
    const handled = h.handle(subscribeRequest(server.port), { isEventStream: true });
    const seen = await server.nextStream();
    expect(seen.connectionWindow).toBe(FANOUT_WINDOW_BYTES);
    expect(seen.streamWindow).toBe(FANOUT_WINDOW_BYTES);
    expect(seen.headers[':authority']).toBe(`127.0.0.1:${server.port}`);
    expect(seen.headers.host).toBeUndefined();
    expect(seen.headers['x-amz-target']).toBe('Kinesis_20131202.SubscribeToShard');
    expect(seen.headers[':method']).toBe('POST');

    seen.stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'r1' });
    seen.stream.write('first;');
    const { response } = await handled;
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-amzn-requestid']).toBe('r1');
    expect(Object.keys(response.headers).some((name) => name.startsWith(':'))).toBe(false);
    const body = response.body as Readable;
    const first: unknown = await new Promise((resolve) => body.once('data', resolve));
    expect(String(first)).toBe('first;');
    body.pause();

    // The SDK's own handler sends GOAWAY as soon as the headers arrive; this one must not.
    await pingFromServer(seen.stream);
    expect(server.goaways).toBe(0);
    expect(h.openSubscriptions).toBe(1);

    seen.stream.end('last');
    expect(await readAll(body)).toBe('last');
    await until(() => h.openSubscriptions === 0, 'the connection to close after its stream');
    expect(await leakedResources(before)).toEqual({});
  });

  it('takes the window size as an option, and rejects sizes HTTP/2 cannot carry', async () => {
    const server = await startServer();
    const h = handler({ windowBytes: 4 * 1024 * 1024 });
    void h.handle(subscribeRequest(server.port), { isEventStream: true }).catch(() => undefined);
    const seen = await server.nextStream();
    expect(seen.connectionWindow).toBe(4 * 1024 * 1024);
    expect(seen.streamWindow).toBe(4 * 1024 * 1024);

    for (const windowBytes of [1024, 2 ** 31, 1.5, Number.NaN]) {
      expect(() => new FanOutRequestHandler({ windowBytes })).toThrow(ConsumerConfigError);
    }
    expect(() => new FanOutRequestHandler({ windowBytes: 10 })).toThrow(expect.objectContaining({ field: 'windowBytes', code: 'INVALID_CONFIG' }));
    expect(() => new FanOutRequestHandler({ responseTimeoutMillis: 0 })).toThrow(expect.objectContaining({ field: 'responseTimeoutMillis' }));
  });

  it('sends the query sorted and escaped as the signer saw it, and drops connection-specific headers', async () => {
    const server = await startServer();
    const h = handler();
    const request = subscribeRequest(server.port);
    request.path = '/stream';
    request.query = { b: "x y!'()*", a: ['1', '2'], c: null };
    request.headers = { ...request.headers, connection: 'keep-alive', 'Transfer-Encoding': 'chunked' };
    void h.handle(request, { isEventStream: true }).catch(() => undefined);
    const seen = await server.nextStream();
    expect(seen.headers[':path']).toBe('/stream?a=1&a=2&b=x%20y%21%27%28%29%2A&c');
    expect(seen.headers.connection).toBeUndefined();
    expect(seen.headers['transfer-encoding']).toBeUndefined();
  });

  it('recognises SubscribeToShard by its target when the SDK does not flag it, and sends every other call to the inner handler', async () => {
    const server = await startServer();
    const calls: string[] = [];
    let destroyed = 0;
    const inner: InnerRequestHandler = {
      handle: (request) => {
        calls.push(String(request.headers['x-amz-target']));
        return Promise.resolve({ response: { statusCode: 200, headers: {}, body: undefined } });
      },
      destroy: () => void destroyed++,
    };
    const h = handler({ requestHandler: inner });
    const { response } = await h.handle(subscribeRequest(server.port, 'Kinesis_20131202.ListShards'));
    expect(response.statusCode).toBe(200);
    expect(calls).toEqual(['Kinesis_20131202.ListShards']);

    void h.handle(subscribeRequest(server.port)).catch(() => undefined);
    const seen = await server.nextStream();
    expect(seen.headers['x-amz-target']).toBe('Kinesis_20131202.SubscribeToShard');
    expect(calls).toHaveLength(1);
    expect(h.openSubscriptions).toBe(1);

    // KinesisClient.destroy() calls this: open subscriptions and the inner handler go too.
    h.destroy();
    expect(h.openSubscriptions).toBe(0);
    expect(destroyed).toBe(1);
  });

  it('rejects an aborted subscription with AbortError and closes its connection, before and after the response', async () => {
    const server = await startServer();
    const before = activeResources();
    const h = handler();

    const already = new AbortController();
    already.abort(new Error('stopping'));
    await expect(h.handle(subscribeRequest(server.port), { isEventStream: true, abortSignal: already.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(h.openSubscriptions).toBe(0);

    const waiting = new AbortController();
    const pending = h.handle(subscribeRequest(server.port), { isEventStream: true, abortSignal: waiting.signal });
    await server.nextStream();
    waiting.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => h.openSubscriptions === 0, 'the aborted connection to close');

    const streaming = new AbortController();
    const handled = h.handle(subscribeRequest(server.port), { isEventStream: true, abortSignal: streaming.signal });
    const seen = await server.nextStream();
    seen.stream.respond({ ':status': 200 });
    seen.stream.write('event;');
    const { response } = await handled;
    const reading = readAll(response.body as Readable);
    streaming.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => h.openSubscriptions === 0, 'the streaming connection to close');
    expect(await leakedResources(before)).toEqual({});
  });

  it('fails with TimeoutError when no response headers arrive in time, and when the server cannot be reached', async () => {
    const server = await startServer();
    const before = activeResources();
    const h = handler({ responseTimeoutMillis: 100 });
    await expect(h.handle(subscribeRequest(server.port), { isEventStream: true })).rejects.toMatchObject({ name: 'TimeoutError' });
    await until(() => h.openSubscriptions === 0, 'the timed-out connection to close');

    const gone = await startServer();
    await gone.close(); // nothing listens on its port now
    await expect(h.handle(subscribeRequest(gone.port), { isEventStream: true })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(h.openSubscriptions).toBe(0);

    // A server that resets the stream instead of answering.
    const resetting = h.handle(subscribeRequest(server.port), { isEventStream: true });
    (await server.nextStream()).stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    await expect(resetting).rejects.toThrow();
    await until(() => h.openSubscriptions === 0, 'the reset connection to close');
    expect(await leakedResources(before)).toEqual({});
  });
});

