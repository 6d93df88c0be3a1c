import type { TailedRecord } from './shard-tailer.js';

/** Control characters (C0, DEL, C1) other than tab: they would break lines or drive the terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
/** In JSON, "\n" and "\r" are escaped by JSON itself, so multi-line text stays text. */
// eslint-disable-next-line no-control-regex
const CONTROL_IN_JSON = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * Printable data: UTF-8 when it decodes cleanly and has no control characters (but tab, and in JSON
 * newline and carriage return); else base64 (marked), so one record is always one output line.
 */
function printableData(data: Uint8Array, control: RegExp): { text: string; encoding: 'utf8' | 'base64' } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const text = buf.toString('utf8');
  // Round-trip check: invalid UTF-8 turns into U+FFFD and re-encodes differently.
  if (Buffer.byteLength(text) === buf.length && !control.test(text) && !text.includes('\uFFFD')) return { text, encoding: 'utf8' };
  return { text: buf.toString('base64'), encoding: 'base64' };
}

/** A partition key as one word: JSON-quoted when it has whitespace, a quote or control characters. */
function keyWord(key: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\s"\u0000-\u001f\u007f-\u009f]/.test(key) || key.length === 0 ? JSON.stringify(key) : key;
}

export function formatRecordText(r: TailedRecord): string {
  const data = printableData(r.data, CONTROL_IN_TEXT);
  const position = r.aggregated ? `${r.sequenceNumber}/${r.subSequenceNumber}` : r.sequenceNumber;
  return `${r.shardId} ${position} ${keyWord(r.partitionKey)} ${data.encoding === 'base64' ? `base64:${data.text}` : data.text}`;
}

export function formatRecordJson(r: TailedRecord): string {
  const data = printableData(r.data, CONTROL_IN_JSON);
  return JSON.stringify({
    shardId: r.shardId,
    sequenceNumber: r.sequenceNumber,
    subSequenceNumber: r.subSequenceNumber,
    aggregated: r.aggregated,
    partitionKey: r.partitionKey,
    ...(r.explicitHashKey !== undefined ? { explicitHashKey: r.explicitHashKey } : {}),
    approximateArrivalTimestamp: r.approximateArrivalTimestamp?.toISOString(),
    data: data.text,
    encoding: data.encoding,
  });
}
