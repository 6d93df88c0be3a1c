import { Readable } from 'node:stream';
import type { GetRecordsCommand, GetRecordsCommandInput, GetRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import type { DeserializeMiddleware } from '@smithy/types';

/**
 * GetRecords responses with each record's Data decoded here instead of by the SDK's JSON codec.
 * The codec runs a regular expression over every base64 string before decoding it (~11 % of a
 * polling consumer's CPU), and builds each one as a string inside one large JSON text (most of
 * its garbage). Buffer's native base64 needs neither: with 50 KB aggregated records the client
 * went from ~1.8 to ~1.2 µs of CPU per user record.
 *
 * One middleware, inside the SDK's deserializer, takes each `"Data":"..."` value out of the raw
 * body and decodes it; the SDK parses the rest (every other field, errors, metadata) as always.
 * The next one, outside the deserializer, puts the decoded bytes back into the parsed records,
 * by position. If the parsed records do not line up with what was taken (another count, or a
 * Data that is not empty), the call fails with a retriable error and `onMismatch` tells the caller
 * to stop: later calls go through the SDK's codec alone.
 */

const DATA_KEY = Buffer.from('"Data":"', 'latin1');
const QUOTE = 0x22;
const TAKE = { name: 'kinesisKitTakeRecordData', relation: 'after', toMiddleware: 'deserializerMiddleware' } as const;
const PUT_BACK = { name: 'kinesisKitPutBackRecordData', relation: 'before', toMiddleware: 'deserializerMiddleware' } as const;

type Middleware = DeserializeMiddleware<GetRecordsCommandInput, GetRecordsCommandOutput>;

/** A response body with the Data values taken out (`"Data":""` left in their place) and those values decoded, in order. */
export interface TakenRecordData {
  body: Buffer;
  data: Uint8Array[];
}

/** Makes `command` decode its records' Data natively (see above). */
export function useNativeRecordData(command: GetRecordsCommand, onMismatch: () => void): GetRecordsCommand {
  let taken: Uint8Array[] | undefined;
  const take: Middleware = (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; headers?: Record<string, string>; body?: unknown };
    if (response.statusCode !== 200 || response.headers?.['content-encoding'] !== undefined) return result;
    const body = await collect(response.body);
    const stripped = body === undefined ? undefined : takeRecordData(body);
    if (body !== undefined) response.body = stripped?.body ?? body;
    taken = stripped?.data;
    return result;
  };
  const putBack: Middleware = (next) => async (args) => {
    taken = undefined;
    const result = await next(args);
    if (taken !== undefined) putBackRecordData(result.output, taken, onMismatch);
    return result;
  };
  command.middlewareStack.addRelativeTo(take, TAKE);
  command.middlewareStack.addRelativeTo(putBack, PUT_BACK);
  return command;
}

/**
 * Takes every `"Data":"<base64>"` value out of a GetRecords body. Undefined when there is none, or
 * when a value is not plain base64 (escapes, whitespace: the SDK's codec handles those).
 */
export function takeRecordData(body: Buffer): TakenRecordData | undefined {
  const data: Uint8Array[] = [];
  const cuts: number[] = []; // [start, end) of each value
  let at = body.indexOf(DATA_KEY);
  while (at >= 0) {
    const start = at + DATA_KEY.length;
    const end = body.indexOf(QUOTE, start);
    if (end < 0) return undefined;
    const decoded = Buffer.from(body.toString('latin1', start, end), 'base64');
    // Node skips characters outside the alphabet; the exact length tells that none were there.
    if (decoded.length !== decodedLength(body, start, end)) return undefined;
    // A plain Uint8Array over the decoded bytes, as the SDK's codec gives (a Buffer's slice() would not copy).
    data.push(new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length));
    cuts.push(start, end);
    at = body.indexOf(DATA_KEY, end);
  }
  if (data.length === 0) return undefined;
  let removed = 0;
  for (let i = 0; i < cuts.length; i += 2) removed += cuts[i + 1]! - cuts[i]!;
  const out = Buffer.allocUnsafe(body.length - removed);
  let o = 0;
  let from = 0;
  for (let i = 0; i < cuts.length; i += 2) {
    o += body.copy(out, o, from, cuts[i]);
    from = cuts[i + 1]!;
  }
  body.copy(out, o, from);
  return { body: out, data };
}

/** Bytes that `[start, end)` of `body` decode to when it is padded, unbroken base64. */
function decodedLength(body: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length % 4 !== 0) return -1;
  let padding = 0;
  if (length > 0 && body[end - 1] === 0x3d) padding++;
  if (length > 1 && body[end - 2] === 0x3d) padding++;
  return (length / 4) * 3 - padding;
}

/** Puts `data` back into the parsed records (of a GetRecords output or a SubscribeToShardEvent), in order; throws (after onMismatch) when they do not line up. */
export function putBackRecordData(output: { Records?: { Data?: Uint8Array }[] | undefined } | undefined, data: readonly Uint8Array[], onMismatch: () => void): void {
  const records = output?.Records ?? [];
  const aligned = records.length === data.length && records.every((r) => r.Data !== undefined && r.Data.length === 0);
  if (!aligned) {
    onMismatch();
    throw recordDataMismatch('the records did not line up with the Data taken from the response');
  }
  for (let i = 0; i < records.length; i++) records[i]!.Data = data[i];
}

async function collect(body: unknown): Promise<Buffer | undefined> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (!(body instanceof Readable)) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The error of a mismatch: retriable for the SDK ($retryable) and for classifyAwsError (a code and no HTTP status). */
export function recordDataMismatch(message: string): Error {
  return Object.assign(new Error(`kinesis-kit: ${message}; decoding through the SDK from now on`), { code: 'RECORD_DATA_MISMATCH', $retryable: {} });
}
