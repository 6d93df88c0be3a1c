import { setTimeout as delay } from 'node:timers/promises';
import { KinesisConsumer, type ShardRecordProcessor } from '@kinesis-kit/consumer';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { createAwsClients, type AwsClients } from '../aws-clients.js';
import { DeliveryLedger, type LedgerSummary } from './delivery-ledger.js';
import { resolveDemoOptions, type DemoOptions, type ResolvedDemoOptions } from './demo-options.js';
import { decodeDemoRecord, encodeDemoRecord } from './demo-record.js';
import { renderProgress, type ShardProgress } from './progress.js';
import { deleteDemoResources, ensureStream, splitWidestShard } from './stream-setup.js';

export interface DemoReport {
  passed: boolean;
  /** The signal aborted (Ctrl-C) before the run ended: nothing was verified, `passed` is false. */
  interrupted: boolean;
  ledger: LedgerSummary;
  /** The shard split mid-run. */
  splitShard?: string;
  /** The worker stopped mid-run, and how long until the other held every open shard again. */
  stoppedWorker?: string;
  takeoverMs?: number;
  /** Shards each worker processed at some point. */
  shardsByWorker: Record<string, string[]>;
  durationMs: number;
}

export interface DemoIo {
  log(line: string): void;
}

const WORKERS = ['worker-a', 'worker-b'] as const;

/**
 * The demo pipeline: a stream (on the embedded mock unless an endpoint is given), a producer writing
 * keyed records at a steady rate, two consumer workers sharing the leases, a shard split at 35% of
 * the run and worker-a stopped gracefully at 60%. Then it waits for the consumers to catch up and
 * verifies: every acknowledged record consumed, per-key order kept, duplicates counted.
 */
export async function runDemo(options: DemoOptions, io: DemoIo, signal: AbortSignal = new AbortController().signal): Promise<DemoReport> {
  const o = resolveDemoOptions(options);
  const started = Date.now();
  let server: MockServer | undefined;
  let clients: AwsClients | undefined;
  const streamName = o.streamName;
  try {
    if (o.connection) {
      clients = createAwsClients(o.connection);
      io.log(`creating stream ${streamName} (${o.shards} shards) at ${o.connection.endpoint ?? 'AWS'}`);
      await ensureStream(clients.kinesis, streamName, o.shards, signal);
    } else {
      server = await startMockServer({ streams: [{ name: streamName, shardCount: o.shards }] });
      clients = createAwsClients({ ...server.clientConfig(), http1: false });
      io.log(`embedded mock (Kinesis + DynamoDB) at ${server.endpoint}, stream ${streamName} with ${o.shards} shards, AWS limits on`);
    }
    return await runPipeline(o, clients, io, signal, started);
  } finally {
    if (clients && o.connection && !o.keepResources) await deleteDemoResources(clients.kinesis, clients.dynamodb, streamName, streamName);
    clients?.destroy();
    await server?.close();
  }
}

async function runPipeline(o: ResolvedDemoOptions, clients: AwsClients, io: DemoIo, signal: AbortSignal, started: number): Promise<DemoReport> {
  const ledger = new DeliveryLedger();
  const shards = new Map<string, ShardProgress>();
  const shardsByWorker: Record<string, Set<string>> = Object.fromEntries(WORKERS.map((w) => [w, new Set<string>()]));
  const latencies: number[] = [];

  const processorFactory = (workerId: string) => (shardId: string): ShardRecordProcessor => {
    const progress = (): ShardProgress => {
      let p = shards.get(shardId);
      if (!p) {
        p = { shardId, holder: workerId, state: 'initializing', consumed: 0 };
        shards.set(shardId, p);
      }
      return p;
    };
    return {
      initialize() {
        Object.assign(progress(), { holder: workerId, state: 'processing' });
        shardsByWorker[workerId]?.add(shardId);
      },
      async processRecords({ records, checkpointer, millisBehindLatest }) {
        const p = progress();
        const now = Date.now();
        for (const record of records) {
          const demo = decodeDemoRecord(record.data);
          if (!demo) continue;
          ledger.delivered(demo.key, demo.n);
          latencies.push(now - demo.t);
          p.consumed++;
        }
        p.millisBehindLatest = millisBehindLatest;
        await checkpointer.checkpoint();
      },
      leaseLost() {
        // A late callback of a worker the shard has already moved away from does not change the row.
        const p = progress();
        if (p.holder === workerId) p.state = 'lease lost';
      },
      async shardEnded({ checkpointer }) {
        const p = progress();
        if (p.holder === workerId) p.state = 'shard ended';
        await checkpointer.checkpoint();
      },
      async shutdownRequested({ checkpointer }) {
        const p = progress();
        if (p.holder === workerId) p.state = 'released';
        await checkpointer.checkpoint();
      },
    };
  };

  const consumers = new Map(
    WORKERS.map((workerId) => [
      workerId,
      new KinesisConsumer({
        applicationName: o.streamName,
        streamName: o.streamName,
        kinesisClient: clients.kinesis,
        dynamoDbClient: clients.dynamodb,
        workerId,
        initialPosition: 'TRIM_HORIZON',
        retrieval: o.fanout ? { mode: 'fanout' } : { mode: 'polling' },
        leaseManagement: { failoverTimeMillis: o.failoverTimeMillis },
        processorFactory: processorFactory(workerId),
      }),
    ]),
  );
  // strictOrdering: a throttled record is resent before later ones of its shard, so per-key order holds.
  const producer = new KinesisProducer({ streamName: o.streamName, kinesisClient: clients.kinesis, recordMaxBufferedTime: 50, strictOrdering: true });

  const report: Omit<DemoReport, 'passed' | 'interrupted' | 'ledger' | 'shardsByWorker' | 'durationMs'> = {};
  let produced = 0;
  const counters = new Map<string, number>();
  const puts = new Set<Promise<void>>();
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.all([...consumers.values()].map((c) => c.start()));
    io.log(`workers ${WORKERS.join(' and ')} started; producing ${o.ratePerSecond} records/s over ${o.keys} keys for ${o.durationMs / 1000} s`);
    if (o.progressIntervalMs > 0) {
      progressTimer = setInterval(() => {
        const window = latencies.splice(0);
        window.sort((a, b) => a - b);
        io.log(
          renderProgress({
            elapsedMs: Date.now() - started,
            produced,
            acknowledged: ledger.acknowledgedTotal,
            consumed: ledger.deliveredCount,
            latencyP50Ms: window.length > 0 ? window[Math.floor(window.length / 2)] : undefined,
            shards: [...shards.values()],
          }),
        );
      }, o.progressIntervalMs);
    }

    // The producer: a steady rate in 20 ms ticks, one counter per key for the order check.
    const tickMs = 20;
    const productionStart = Date.now();
    const splitAt = productionStart + o.durationMs * 0.35;
    const stopAt = productionStart + o.durationMs * 0.6;
    let stopTask: Promise<void> | undefined;
    let splitTask: Promise<void> | undefined;
    while (!signal.aborted && Date.now() - productionStart < o.durationMs) {
      const due = Math.floor(((Date.now() - productionStart) / 1000) * o.ratePerSecond);
      while (produced < due) {
        const key = `key-${String(produced % o.keys).padStart(4, '0')}`;
        const n = counters.get(key) ?? 0;
        counters.set(key, n + 1);
        produced++;
        const settled = producer.put({ partitionKey: key, data: encodeDemoRecord({ key, n, t: Date.now() }) }).then(
          () => ledger.acknowledged(key, n),
          (err: unknown) => {
            ledger.putFailed();
            io.log(`put failed for ${key}#${n}: ${(err as Error).message}`);
          },
        );
        puts.add(settled);
        void settled.finally(() => puts.delete(settled));
      }
      if (!splitTask && Date.now() >= splitAt) {
        splitTask = splitWidestShard(clients.kinesis, o.streamName).then((parent) => {
          report.splitShard = parent;
          io.log(`split ${parent} into two children (mid-stream resharding)`);
        });
      }
      if (!stopTask && Date.now() >= stopAt) {
        stopTask = stopWorkerAndTimeTakeover(consumers, 'worker-a', shards, io, signal).then((ms) => {
          report.stoppedWorker = 'worker-a';
          report.takeoverMs = ms;
        });
      }
      await delay(tickMs, undefined, { signal }).catch(() => undefined);
    }
    await splitTask;
    io.log(signal.aborted ? `interrupted: stopping after ${produced} records` : `producer done: ${produced} records; flushing`);
    await producer.flush();
    await Promise.all(puts);
    await stopTask;

    const drainDeadline = Date.now() + o.drainTimeoutMs;
    while (!signal.aborted && ledger.outstanding > 0 && Date.now() < drainDeadline) await delay(200, undefined, { signal }).catch(() => undefined);
    if (!signal.aborted) io.log(ledger.outstanding === 0 ? 'consumers caught up' : `gave up waiting: ${ledger.outstanding} records not consumed`);
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    await producer.close();
    await Promise.all([...consumers.values()].map((c) => c.stop()));
  }

  const summary = ledger.summary();
  const passed = summary.passed && !signal.aborted;
  return {
    ...report,
    passed,
    interrupted: signal.aborted,
    ledger: summary,
    shardsByWorker: Object.fromEntries(Object.entries(shardsByWorker).map(([w, s]) => [w, [...s].sort()])),
    durationMs: Date.now() - started,
  };
}

/** Stops a worker gracefully and measures how long until another worker processes each of its shards. */
async function stopWorkerAndTimeTakeover(
  consumers: Map<string, KinesisConsumer>,
  workerId: string,
  shards: Map<string, ShardProgress>,
  io: DemoIo,
  signal: AbortSignal,
): Promise<number> {
  const held = [...shards.values()].filter((s) => s.holder === workerId && s.state === 'processing').map((s) => s.shardId);
  const stoppedAt = Date.now();
  io.log(`stopping ${workerId} gracefully (it holds ${held.join(', ') || 'no shards'}); the other worker takes over`);
  await consumers.get(workerId)?.stop();
  const giveUpAt = stoppedAt + 120_000;
  while (!signal.aborted && Date.now() < giveUpAt && held.some((id) => shards.get(id)?.holder === workerId && shards.get(id)?.state !== 'shard ended')) await delay(50);
  const ms = Date.now() - stoppedAt;
  io.log(`${workerId} stopped; its shards were taken over in ${(ms / 1000).toFixed(1)} s`);
  return ms;
}
