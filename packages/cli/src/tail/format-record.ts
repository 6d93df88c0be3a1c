import type { TailedRecord } from './shard-tailer.js';

/** Printable data: UTF-8 when it decodes cleanly, else base64 (marked). */
function printableData(data: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const text = buf.toString('utf8');
  // Round-trip check: invalid UTF-8 turns into U+FFFD and re-encodes differently. Control bytes other than tab are binary too.
  // eslint-disable-next-line no-control-regex
  if (Buffer.byteLength(text) === buf.length && !/[\u0000-\u0008\u000b-\u001f]/.test(text) && !text.includes('\uFFFD')) return { text, encoding: 'utf8' };
  return { text: buf.toString('base64'), encoding: 'base64' };
}

export function formatRecordText(r: TailedRecord): string {
  const data = printableData(r.data);
  const position = r.aggregated ? `${r.sequenceNumber}/${r.subSequenceNumber}` : r.sequenceNumber;
  return `${r.shardId} ${position} ${r.partitionKey} ${data.encoding === 'base64' ? `base64:${data.text}` : data.text}`;
}

export function formatRecordJson(r: TailedRecord): string {
  const data = printableData(r.data);
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
