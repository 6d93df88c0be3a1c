import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import dynalite from 'dynalite';

export interface DynamoResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

type Listener = (req: unknown, res: unknown) => void;

/**
 * An in-memory dynalite, in process. Its HTTP server is never bound: each request (already read,
 * from HTTP/1.1 or HTTP/2) is replayed into dynalite's request listener through a minimal
 * request/response pair, so the same code serves both protocols and nothing listens on a port.
 */
export class EmbeddedDynamo {
  private readonly listener: Listener;

  constructor() {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const listener = server.listeners('request')[0];
    if (typeof listener !== 'function') throw new Error('dynalite did not install a request listener');
    this.listener = listener as Listener;
  }

  handle(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<DynamoResponse> {
    return new Promise((resolve) => {
      const req = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
        method,
        url,
        headers: { ...headers, host: headers.host ?? (headers[':authority'] as string | undefined) },
      });
      const res = new CapturedResponse(resolve);
      this.listener(req, res);
    });
  }
}

/** The subset of ServerResponse dynalite uses. */
class CapturedResponse {
  statusCode = 200;
  contentType = 'application/x-amz-json-1.0';
  private readonly headers: Record<string, string> = {};

  constructor(private readonly done: (r: DynamoResponse) => void) {}

  setHeader(name: string, value: string | number): void {
    this.headers[name.toLowerCase()] = String(value);
  }

  end(body?: string | Buffer): void {
    const bytes = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.headers['content-length'] = String(bytes.length);
    this.done({ status: this.statusCode, headers: this.headers, body: bytes });
  }
}
