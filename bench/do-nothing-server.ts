/**
 * A Kinesis endpoint that does nothing, the baseline of the producer and mock benchmarks: it shows
 * what the client side costs when the server costs almost nothing. PutRecords is answered with
 * one success entry per record sent (counted, not decoded), GetRecords with one fixed batch,
 * ListShards with `shardCount` shards splitting the hash space evenly; nothing is stored.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DoNothingServerOptions {
  /** Shards ListShards reports (default 1, covering the whole hash space). */
  shardCount?: number;
  /** Records in every GetRecords answer (default 0). */
  getRecordsBatch?: number;
  /** Data bytes of each of those records (default 100). */
  recordBytes?: number;
}

const SEQUENCE = '49000000000000000000000000000000000000000000000000000001';
const PUT_ENTRY = `{"SequenceNumber":"${SEQUENCE}","ShardId":"shardId-000000000000"}`;
/** What every PutRecords entry holds once: `"PartitionKey"`. */
const MARKER = Buffer.from('"PartitionKey"');

function countMarkers(body: Buffer): number {
  let n = 0;
  for (let i = body.indexOf(MARKER); i >= 0; i = body.indexOf(MARKER, i + MARKER.length)) n++;
  return n;
}

function listShardsBody(shardCount: number): string {
  const space = 1n << 128n;
  const shards = Array.from({ length: shardCount }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: {
      StartingHashKey: ((space * BigInt(i)) / BigInt(shardCount)).toString(10),
      EndingHashKey: ((space * BigInt(i + 1)) / BigInt(shardCount) - 1n).toString(10),
    },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  }));
  return JSON.stringify({ Shards: shards });
}

export async function startDoNothingServer(options: DoNothingServerOptions = {}): Promise<{ endpoint: string; close(): Promise<void> }> {
  const { shardCount = 1, getRecordsBatch = 0, recordBytes = 100 } = options;
  const data = Buffer.alloc(recordBytes, 0x61).toString('base64');
  const record = `{"SequenceNumber":"${SEQUENCE}","ApproximateArrivalTimestamp":${Date.now() / 1000},"Data":"${data}","PartitionKey":"pk-0"}`;
  const getRecords = Buffer.from(`{"Records":[${new Array<string>(getRecordsBatch).fill(record).join(',')}],"NextShardIterator":"it","MillisBehindLatest":0}`);
  const listShards = listShardsBody(shardCount);
  const reply = (res: http.ServerResponse, body: string | Buffer) => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.endsWith('.PutRecords')) {
        const n = countMarkers(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        reply(res, `{"FailedRecordCount":0,"Records":[${new Array<string>(n).fill(PUT_ENTRY).join(',')}]}`);
      } else if (target.endsWith('.GetRecords')) reply(res, getRecords);
      else if (target.endsWith('.GetShardIterator')) reply(res, '{"ShardIterator":"it"}');
      else if (target.endsWith('.ListShards')) reply(res, listShards);
      else if (target.endsWith('.DescribeStreamSummary')) reply(res, '{"StreamDescriptionSummary":{"StreamStatus":"ACTIVE"}}');
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
