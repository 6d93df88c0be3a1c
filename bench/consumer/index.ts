/**
 * Suite 'consumer': @kinesis-kit/consumer (polling) against the mock in a child process.
 * - throughput: user records/s delivered to an eachBatch handler that checkpoints every batch,
 *   4 shards of pre-loaded KPL-aggregated 100-byte records, limits off; beside it the peer, a plain
 *   GetRecords loop deaggregating with aws-kinesis-agg (no leases, no checkpoints), same data;
 * - latency put() -> handler with AWS limits on, the producer at a steady rate; the peer polls like
 *   the KCL's default (idleTimeBetweenReadsInMillis 1500); the same with enhanced fan-out;
 * - fan-out throughput over the same pre-loaded data (its own application and leases), with the
 *   consumer's FanOutRequestHandler and, for comparison, the SDK's default HTTP/2 handler;
 * - failover with the default lease settings (failoverTimeMillis 10000): a worker process killed
 *   with SIGKILL, and a worker stopped gracefully, until a peer processes all of their shards.
 */
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FanOutRequestHandler, KinesisConsumer, type ConsumerHandler, type ConsumerSettings, type KinesisConsumerOptions } from '@kinesis-kit/consumer';
import { KinesisProducer } from '@kinesis-kit/producer';
import { waitFor, type BenchRow, type BenchSuite } from '../lib.js';
import { startChild, startMockChild } from './children.js';
import { peerRecordData, startPeerPoller } from './peer-poller.js';
import { preloadAggregated } from './preload.js';

const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const SHARDS = 4;
/** The producer's recordMaxBufferedTime in the latency runs (KPL default 100 ms would dominate fan-out figures). */
const PRODUCER_BUFFER_MILLIS = 10;

interface Clients {
  kinesis: KinesisClient;
  dynamoDb: DynamoDBClient;
  destroy(): void;
}

function clients(endpoint: string): Clients {
  const config = { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  const kinesis = new KinesisClient({ ...config, requestHandler: new NodeHttpHandler() });
  const dynamoDb = new DynamoDBClient({ ...config, requestHandler: new NodeHttpHandler() });
  return { kinesis, dynamoDb, destroy: () => (kinesis.destroy(), dynamoDb.destroy()) };
}

/**
 * A fan-out client as the consumer builds one (FanOutRequestHandler: SubscribeToShard over HTTP/2
 * with a 512 KiB window, the rest over HTTP/1.1), or the SDK's default client (HTTP/2 for every
 * call, 64 KiB connection windows on Node 20) for comparison.
 */
function fanOutClient(endpoint: string, handler: 'ours' | 'sdk' = 'ours'): KinesisClient {
  return new KinesisClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...(handler === 'ours' ? { requestHandler: new FanOutRequestHandler() } : {}) });
}

function consumerOptions(c: Clients, streamName: string, extra: Partial<ConsumerSettings> & ConsumerHandler): KinesisConsumerOptions {
  return {
    applicationName: `${streamName}-app`,
    streamName,
    kinesisClient: c.kinesis,
    dynamoDbClient: c.dynamoDb,
    initialPosition: 'TRIM_HORIZON',
    ...extra,
  };
}

async function throughput(quick: boolean): Promise<{ ours: number; peer: number; fanOut: number; fanOutSdk: number; records: number }> {
  const mock = await startMockChild(false);
  const c = clients(mock.endpoint);
  try {
    const records = quick ? 200_000 : 1_200_000;
    await c.kinesis.send(new CreateStreamCommand({ StreamName: 'tput', ShardCount: SHARDS }));
    await preloadAggregated(c.kinesis, 'tput', records);

    let delivered = 0;
    const started = performance.now();
    const consumer = new KinesisConsumer(consumerOptions(c, 'tput', { eachBatch: ({ records: batch }) => void (delivered += batch.length) }));
    await consumer.start();
    await waitFor(() => delivered >= records, 300_000, 'the consumer to read everything');
    const ours = records / ((performance.now() - started) / 1000);
    await consumer.stop();

    let peerDelivered = 0;
    const peerStarted = performance.now();
    const peer = await startPeerPoller(c.kinesis, 'tput', 'TRIM_HORIZON', 0, (out) => void (peerDelivered += out.length));
    await waitFor(() => peerDelivered >= records, 300_000, 'the peer to read everything');
    const peerRate = records / ((performance.now() - peerStarted) / 1000);
    await peer.stop();

    // The same data again through enhanced fan-out (its own application, so its own leases), with
    // the consumer's request handler and then with the SDK's default one.
    const readFanOut = async (applicationName: string, handler: 'ours' | 'sdk'): Promise<number> => {
      const http2 = fanOutClient(mock.endpoint, handler);
      let fanOutDelivered = 0;
      const fanOutStarted = performance.now();
      const fanOut = new KinesisConsumer(
        consumerOptions({ ...c, kinesis: http2 }, 'tput', {
          applicationName,
          retrieval: { mode: 'fanout' },
          eachBatch: ({ records: batch }) => void (fanOutDelivered += batch.length),
        }),
      );
      await fanOut.start();
      await waitFor(() => fanOutDelivered >= records, 300_000, 'the fan-out consumer to read everything');
      const rate = records / ((performance.now() - fanOutStarted) / 1000);
      await fanOut.stop();
      http2.destroy();
      return rate;
    };
    const fanOutRate = await readFanOut('tput-fanout', 'ours');
    const fanOutSdkRate = await readFanOut('tput-fanout-sdk', 'sdk');
    return { ours, peer: peerRate, fanOut: fanOutRate, fanOutSdk: fanOutSdkRate, records };
  } finally {
    c.destroy();
    await mock.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Steady producer at `rate` records/s for `ms`; each record carries its put() time. */
async function produceSteadily(c: Clients, streamName: string, rate: number, ms: number): Promise<void> {
  const producer = new KinesisProducer({ streamName, kinesisClient: c.kinesis, recordMaxBufferedTime: PRODUCER_BUFFER_MILLIS });
  const start = Date.now();
  let sent = 0;
  const puts: Promise<unknown>[] = [];
  while (Date.now() - start < ms) {
    const due = Math.floor(((Date.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const data = Buffer.alloc(100);
      data.writeDoubleBE(Date.now(), 0);
      puts.push(producer.put({ partitionKey: `key-${sent % 500}`, data }));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await Promise.allSettled(puts);
  await producer.close();
}

async function latency(quick: boolean): Promise<{ ours: number[]; peer: number[]; fanOut: number[] }> {
  const mock = await startMockChild(true);
  const c = clients(mock.endpoint);
  const rate = 2_000;
  const ms = quick ? 5_000 : 15_000;
  const warmup = 1_500;
  try {
    const measure = async (streamName: string, read: (onData: (data: Uint8Array) => void) => Promise<() => Promise<void>>): Promise<number[]> => {
      await c.kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: SHARDS }));
      const samples: number[] = [];
      const from = Date.now() + warmup;
      const stop = await read((data) => {
        if (data.byteLength < 8) return;
        const put = Buffer.from(data.buffer, data.byteOffset, data.byteLength).readDoubleBE(0);
        if (put >= from) samples.push(Date.now() - put);
      });
      await produceSteadily(c, streamName, rate, ms);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await stop();
      return samples.sort((a, b) => a - b);
    };
    const ours = await measure('lat-ours', async (onData) => {
      const consumer = new KinesisConsumer(
        consumerOptions(c, 'lat-ours', { initialPosition: 'LATEST', eachBatch: ({ records }) => records.forEach((r) => onData(r.data)) }),
      );
      await consumer.start();
      return () => consumer.stop();
    });
    const peer = await measure('lat-peer', async (onData) => {
      const poller = await startPeerPoller(c.kinesis, 'lat-peer', 'LATEST', 1_500, (out) => out.forEach((r) => onData(peerRecordData(r))));
      return () => poller.stop();
    });
    const http2 = fanOutClient(mock.endpoint);
    const fanOut = await measure('lat-fanout', async (onData) => {
      const consumer = new KinesisConsumer(
        consumerOptions({ ...c, kinesis: http2 }, 'lat-fanout', {
          initialPosition: 'LATEST',
          retrieval: { mode: 'fanout' },
          eachBatch: ({ records }) => records.forEach((r) => onData(r.data)),
        }),
      );
      await consumer.start();
      return () => consumer.stop();
    });
    http2.destroy();
    return { ours, peer, fanOut };
  } finally {
    c.destroy();
    await mock.close();
  }
}

async function failover(takerIntervalMillis?: number): Promise<{ killSeconds: number; gracefulSeconds: number }> {
  const mock = await startMockChild(true);
  const c = clients(mock.endpoint);
  const stream = `fo-${takerIntervalMillis ?? 'default'}`;
  const application = `${stream}-app`;
  const lastSeen = new Map<string, number>();
  const leaseManagement = takerIntervalMillis !== undefined ? { takerIntervalMillis } : {};
  const survivor = new KinesisConsumer(
    consumerOptions(c, stream, { workerId: 'survivor', leaseManagement, eachBatch: ({ shardId }) => void lastSeen.set(shardId, Date.now()) }),
  );
  const producing = new AbortController();
  let producer: Promise<void> | undefined;
  try {
    await c.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: SHARDS }));
    producer = (async () => {
      while (!producing.signal.aborted) await produceSteadily(c, stream, 1_000, 1_000);
    })();
    // The worker to kill starts first and holds all shards; the survivor then steals its share.
    const victim = startChild('worker-child.ts', [mock.endpoint, stream, application, 'victim']);
    const victimShards = new Set<string>();
    victim.onLine((l) => {
      if (l.startsWith('PROCESSING ')) victimShards.add(l.slice('PROCESSING '.length));
    });
    await victim.line('READY', 60_000);
    await waitFor(() => victimShards.size === SHARDS, 60_000, 'the victim to process every shard');
    await survivor.start();
    await waitFor(() => survivor.status().shards.filter((s) => s.state === 'processing').length >= SHARDS / 2, 120_000, 'a balanced split');
    const killed = Date.now();
    const orphaned = [...victimShards].filter((s) => !survivor.status().shards.some((x) => x.shardId === s && x.state === 'processing'));
    victim.process.kill('SIGKILL');
    await victim.close();
    await waitFor(() => orphaned.every((s) => (lastSeen.get(s) ?? 0) > killed), 120_000, 'the survivor to process the killed worker’s shards');
    const killSeconds = (Math.max(...orphaned.map((s) => lastSeen.get(s)!)) - killed) / 1000;

    // Graceful: a second worker takes its share, then stops; the survivor takes the released leases.
    const leaver = new KinesisConsumer(consumerOptions(c, stream, { workerId: 'leaver', leaseManagement, eachBatch: () => undefined }));
    await leaver.start();
    await waitFor(() => leaver.status().shards.filter((s) => s.state === 'processing').length >= SHARDS / 2, 120_000, 'the leaver to take its share');
    const leaving = leaver.status().shards.filter((s) => s.state === 'processing').map((s) => s.shardId);
    const stopped = Date.now();
    await leaver.stop();
    await waitFor(() => leaving.every((s) => (lastSeen.get(s) ?? 0) > stopped), 120_000, 'the survivor to process the released shards');
    const gracefulSeconds = (Math.max(...leaving.map((s) => lastSeen.get(s)!)) - stopped) / 1000;
    return { killSeconds, gracefulSeconds };
  } finally {
    producing.abort();
    await producer;
    await survivor.stop();
    c.destroy();
    await mock.close();
  }
}

export const suite: BenchSuite = {
  name: 'consumer',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const t = await throughput(quick);
    rows.push({
      metric: 'throughput, 4 shards, aggregated 100-byte records, checkpoint every batch, limits off',
      ours: t.ours,
      unit: 'user records/s',
      peer: t.peer,
      peerName: 'GetRecords loop + aws-kinesis-agg',
      target: '>= 300,000',
      pass: t.ours >= 300_000,
    });
    rows.push({
      metric: 'throughput with enhanced fan-out, same data',
      ours: t.fanOut,
      unit: 'user records/s',
      target: '>= the polling figure',
      pass: t.fanOut >= t.ours,
    });
    rows.push({
      metric: "throughput with enhanced fan-out, the SDK's default HTTP/2 handler (injected client)",
      ours: t.fanOutSdk,
      unit: 'user records/s',
    });
    const l = await latency(quick);
    const p = (s: number[], q: number): number => percentile(s, q);
    rows.push({ metric: 'latency put() -> handler p50, limits on', ours: p(l.ours, 50), unit: 'ms', peer: p(l.peer, 50), peerName: 'poll every 1500 ms (KCL default)', target: '<= 250', pass: p(l.ours, 50) <= 250 });
    rows.push({ metric: 'latency put() -> handler p99, limits on', ours: p(l.ours, 99), unit: 'ms', peer: p(l.peer, 99), peerName: 'poll every 1500 ms (KCL default)' });
    rows.push({ metric: 'latency put() -> handler p50, fan-out, limits on', ours: p(l.fanOut, 50), unit: 'ms', target: '<= 30', pass: p(l.fanOut, 50) <= 30 });
    rows.push({ metric: 'latency put() -> handler p99, fan-out, limits on', ours: p(l.fanOut, 99), unit: 'ms', target: '<= 150', pass: p(l.fanOut, 99) <= 150 });
    const f = await failover();
    rows.push({ metric: 'failover after kill -9 (failoverTimeMillis 10000)', ours: f.killSeconds, unit: 's', target: '<= 12 (failover + 2 s)', pass: f.killSeconds <= 12 });
    rows.push({ metric: 'takeover after a graceful stop (default taker period 20 s)', ours: f.gracefulSeconds, unit: 's', target: '<= 2', pass: f.gracefulSeconds <= 2 });
    const tuned = await failover(1_000);
    rows.push({ metric: 'takeover after a graceful stop (takerIntervalMillis 1000)', ours: tuned.gracefulSeconds, unit: 's', target: '<= 2', pass: tuned.gracefulSeconds <= 2 });
    notes.push(
      `throughput: ${t.records.toLocaleString('en-US')} user records pre-loaded in ~50 KB containers; the time includes start() (lease table creation, shard sync, lease taking).`,
      `latency: ${l.ours.length} samples (polling), ${l.fanOut.length} (fan-out), ${l.peer.length} (peer); producer at 2000 records/s with recordMaxBufferedTime ${PRODUCER_BUFFER_MILLIS} ms, which is part of the figure.`,
      'failover: the released lease of a graceful stop is taken at the peer\'s next taker pass, so the default KCL taker period (2 x (failover + epsilon)) bounds it; takerIntervalMillis trades lease-table scans for a faster handoff.',
    );
    return { suite: 'consumer', rows, notes };
  },
};
