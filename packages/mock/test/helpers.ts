import http from 'node:http';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { MockServer } from '../src/index.js';

/** The two ways tests drive the mock: the SDK's default (HTTP/2) and NodeHttpHandler (HTTP/1.1). */
export const HANDLERS = [
  { protocol: 'HTTP/2 (default handler)', http1: false },
  { protocol: 'HTTP/1.1 (NodeHttpHandler)', http1: true },
] as const;

export type HandlerCase = (typeof HANDLERS)[number];

export function kinesisClient(server: MockServer, http1: boolean, extra: Partial<KinesisClientConfig> = {}): KinesisClient {
  return new KinesisClient({
    ...server.clientConfig(),
    maxAttempts: 1,
    ...(http1 ? { requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }) } : {}),
    ...extra,
  });
}

/** Sends a raw HTTP/1.1 request and returns status, headers and body (as text and as bytes). */
export function rawRequest(
  server: MockServer,
  body: string | Buffer,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(server.endpoint, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString('utf8'), bytes });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The error a rejected SDK call gave (its `name` is the AWS error name). */
export async function errorOf(p: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { name: string };
  }
  throw new Error('expected the call to fail');
}

export const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
export const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('utf8');

export interface DecodedFrame {
  headers: Record<string, string>;
  payload: string;
}

/** Splits an event-stream byte sequence into messages (string headers only), checking lengths. */
export function decodeFrames(buf: Buffer): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  let offset = 0;
  while (offset + 12 <= buf.length) {
    const total = buf.readUInt32BE(offset);
    const headersLength = buf.readUInt32BE(offset + 4);
    if (offset + total > buf.length) break;
    const headers: Record<string, string> = {};
    let h = offset + 12;
    const hEnd = h + headersLength;
    while (h < hEnd) {
      const nameLength = buf.readUInt8(h);
      const name = buf.toString('utf8', h + 1, h + 1 + nameLength);
      const valueLength = buf.readUInt16BE(h + 2 + nameLength);
      headers[name] = buf.toString('utf8', h + 4 + nameLength, h + 4 + nameLength + valueLength);
      h += 4 + nameLength + valueLength;
    }
    out.push({ headers, payload: buf.toString('utf8', hEnd, offset + total - 4) });
    offset += total;
  }
  return out;
}

/** Polls `condition` (every few ms, up to `timeoutMs`) for things that happen on another connection. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
