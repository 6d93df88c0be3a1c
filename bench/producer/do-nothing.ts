/**
 * A do-nothing Kinesis endpoint for the producer benchmark: one shard over the whole hash space,
 * PutRecords answered with one success entry per record sent, nothing decoded or stored. It shows
 * the client-side ceiling (producer + SDK) when the server costs almost nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const SEQUENCE = '49000000000000000000000000000000000000000000000000000001';
const ENTRY = `{"SequenceNumber":"${SEQUENCE}","ShardId":"shardId-000000000000"}`;
const LIST_SHARDS = JSON.stringify({
  Shards: [
    {
      ShardId: 'shardId-000000000000',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: ((1n << 128n) - 1n).toString(10) },
      SequenceNumberRange: { StartingSequenceNumber: '0' },
    },
  ],
});
/** What every PutRecords entry holds once: `"PartitionKey"` (counted without decoding the body). */
const MARKER = Buffer.from('"PartitionKey"');

function countMarkers(chunks: Buffer[]): number {
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  let n = 0;
  for (let i = body.indexOf(MARKER); i >= 0; i = body.indexOf(MARKER, i + MARKER.length)) n++;
  return n;
}

export async function startDoNothingServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const reply = (res: http.ServerResponse, body: string) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.endsWith('.PutRecords')) {
        const n = countMarkers(chunks);
        reply(res, `{"FailedRecordCount":0,"Records":[${new Array<string>(n).fill(ENTRY).join(',')}]}`);
      } else if (target.endsWith('.ListShards')) reply(res, LIST_SHARDS);
      else reply(res, '{}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
