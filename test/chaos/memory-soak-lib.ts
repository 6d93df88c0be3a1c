/**
 * The memory soak, shared by the script (test/chaos/memory-soak.ts, minutes long) and its short test
 * (test/chaos/memory-soak.test.ts, 20 s): a producer and a polling consumer at a steady load against the
 * mock (limits on) for a while, sampling the heap after a full GC.
 *
 * The mock runs in a child process (test/chaos/memory-mock-child.ts): it keeps every record for the
 * retention period, so in this process it would be a growing heap by design. What is measured is this
 * process: the producer (aggregation, batching, retries, promises) and the consumer (leases, checkpoints,
 * fetchers, deaggregation), which at a steady load must reach a flat heap.
 *
 * GC: samples are taken after `global.gc()`. Run node with `--expose-gc` for it; without the flag the soak
 * turns it on at run time (`v8.setFlagsFromString('--expose-gc')`), and reports `gc: none` only if even that
 * fails (then samples include garbage and the slope is noise).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { KinesisConsumer } from '@kinesis-kit/consumer';
import { seededRandom } from '@kinesis-kit/core';
import { KinesisProducer } from '@kinesis-kit/producer';
import { sleep } from './wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SoakOptions {
  durationMs: number;
  /** Heap sample period (10 s in the script). */
  sampleIntervalMs: number;
  /** Steady producer load, user records per second. */
  recordsPerSecond?: number;
  shards?: number;
  seed?: number;
  /** Called with each sample as it is taken (the script prints them live). */
  onSample?: (sample: HeapSample) => void;
}

export interface HeapSample {
  /** Since the start of the load. */
  elapsedMs: number;
  heapUsed: number;
  rss: number;
}

export interface SoakResult {
  samples: HeapSample[];
  /** Least squares over the samples of the second half of the run, bytes of heapUsed per minute. */
  slopeBytesPerMinute: number;
  secondHalfSamples: number;
  put: number;
  acknowledged: number;
  failed: number;
  delivered: number;
  gc: 'exposed' | 'flag' | 'none';
  durationMs: number;
}

/** Least squares slope of y over x. */
export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Slope (bytes per minute) of heapUsed over the samples taken in the second half of a run of `durationMs`. */
export function secondHalfSlope(samples: readonly HeapSample[], durationMs: number): { slope: number; count: number } {
  const half = samples.filter((s) => s.elapsedMs >= durationMs / 2);
  return { slope: leastSquaresSlope(half.map((s) => ({ x: s.elapsedMs / 60_000, y: s.heapUsed }))), count: half.length };
}

function resolveGc(): { gc: (() => void) | undefined; how: SoakResult['gc'] } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return { gc: exposed, how: 'exposed' };
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    return { gc, how: 'flag' };
  } catch {
    return { gc: undefined, how: 'none' };
  }
}

async function startMockChild(streamName: string, shards: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['--conditions=@kinesis-kit/source', '--import', 'tsx', path.join(here, 'memory-mock-child.ts'), streamName, String(shards)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = readline.createInterface({ input: child.stdout });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock child: no READY line within 30 s\n${stderr}`)), 30_000);
    lines.on('line', (l) => {
      if (!l.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve(l.slice('READY '.length).trim());
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`mock child exited\n${stderr}`));
    });
  });
  return {
    endpoint,
    close: async () => {
      lines.close();
      child.stdin.end();
      await exited;
    },
  };
}

/** Runs the soak: steady load for `durationMs`, heap samples every `sampleIntervalMs`, then drains and stops. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { durationMs, sampleIntervalMs, recordsPerSecond = 1_000, shards = 2, seed = 1 } = options;
  const streamName = 'soak';
  const random = seededRandom(seed);
  const { gc, how } = resolveGc();
  const mock = await startMockChild(streamName, shards);
  const config = { endpoint: mock.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' } };
  let producer: KinesisProducer | undefined;
  let consumer: KinesisConsumer | undefined;
  try {
    let delivered = 0;
    consumer = new KinesisConsumer({
      applicationName: 'memory-soak',
      streamName,
      ...config,
      initialPosition: 'TRIM_HORIZON',
      eachBatch: ({ records }) => {
        delivered += records.length; // counters only: anything kept per record would be the leak we look for
      },
    });
    await consumer.start();
    producer = new KinesisProducer({ streamName, ...config, metricsLevel: 'none' });

    let put = 0;
    let acknowledged = 0;
    let failed = 0;
    const onOk = (): void => void acknowledged++;
    const onFail = (): void => void failed++;
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((recordsPerSecond * tickMs) / 1000));
    const samples: HeapSample[] = [];
    const started = Date.now();
    const sample = (): void => {
      gc?.();
      const m = process.memoryUsage();
      const s = { elapsedMs: Date.now() - started, heapUsed: m.heapUsed, rss: m.rss };
      samples.push(s);
      options.onSample?.(s);
    };
    sample();
    let nextSample = started + sampleIntervalMs;
    let nextTick = started;
    while (Date.now() - started < durationMs) {
      for (let i = 0; i < perTick; i++) {
        const n = put++;
        const data = `${n}|${'m'.repeat(50 + Math.floor(random() * 150))}`;
        void producer.put({ partitionKey: `key-${Math.floor(random() * 1_000)}`, data }).then(onOk, onFail);
      }
      if (Date.now() >= nextSample) {
        sample();
        nextSample += sampleIntervalMs;
      }
      nextTick += tickMs;
      await sleep(Math.max(0, nextTick - Date.now()));
    }
    sample();
    await producer.close();
    producer = undefined;
    // Drain: bounded wait for the consumer to catch up (at least once: delivered >= acknowledged).
    const deadline = Date.now() + 60_000;
    while (delivered < acknowledged && Date.now() < deadline) await sleep(50);
    await consumer.stop();
    consumer = undefined;
    const { slope, count } = secondHalfSlope(samples, durationMs);
    return { samples, slopeBytesPerMinute: slope, secondHalfSamples: count, put, acknowledged, failed, delivered, gc: how, durationMs };
  } finally {
    await producer?.close().catch(() => undefined);
    await consumer?.stop().catch(() => undefined);
    await mock.close();
  }
}
