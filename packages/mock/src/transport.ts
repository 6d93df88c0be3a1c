import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import net, { type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;
export type RequestHandler = (req: AnyRequest, res: AnyResponse) => void;

export interface TransportOptions {
  host: string;
  port: number;
  /** Serve TLS (ALPN h2 and http/1.1) instead of cleartext. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  handler: RequestHandler;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * One port, both protocols. Cleartext: a net server reads the first bytes of each connection;
 * the HTTP/2 preface goes to an http2 server (h2c with prior knowledge, what the SDK's default
 * handler speaks for http:// endpoints), anything else to an HTTP/1.1 server; what was read is
 * pushed back first. TLS: an http2 secure server with HTTP/1.1 allowed, chosen by ALPN.
 */
export class Transport {
  private server: net.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Http2Session>();
  private readonly httpServer: http.Server;
  private readonly h2Server: http2.Http2Server | http2.Http2SecureServer;
  port = 0;

  constructor(private readonly options: TransportOptions) {
    const handler = options.handler as (req: unknown, res: unknown) => void;
    this.httpServer = http.createServer({ keepAliveTimeout: 60_000 }, handler);
    this.h2Server = options.tls
      ? http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true }, handler)
      : http2.createServer({}, handler);
    this.h2Server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      // A client GOAWAY (the SDK sends one as soon as response headers arrive) must not cut the
      // response that is still streaming; Node lets open streams finish.
      session.on('error', () => {});
    });
    this.h2Server.on('sessionError', () => {});
  }

  async listen(): Promise<number> {
    const server = this.options.tls ? (this.h2Server as net.Server) : net.createServer((socket) => this.onConnection(socket));
    if (this.options.tls) server.on('connection', (socket: Socket) => this.track(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  private track(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
  }

  private onConnection(socket: Socket): void {
    this.track(socket);
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const isPrefix = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isPrefix && head.length < H2_PREFACE.length) return; // need more bytes to decide
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (isPrefix) {
        // Node's http2 session reads what is already buffered on the next tick, then the handle.
        this.h2Server.emit('connection', socket);
      } else {
        this.httpServer.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }

  /** Stops accepting, then destroys every connection and HTTP/2 session. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.httpServer.closeAllConnections();
    await closed;
  }
}
