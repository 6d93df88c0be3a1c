/**
 * Suite 'producer': KinesisProducer against the mock (in its own process), side by side in the same
 * run with a plain loop of PutRecords calls (500 unaggregated records per call, the same SDK client).
 *  1. limits on, 4 shards, 100-byte records, 100k distinct keys: user records/s, goodput as a share of
 *     the shards' 4 MiB/s, records lost, share of requests throttled.
 *  2. limits off: user records/s, with putMany() (500 per call) and with put().
 *  3. the same producer against a do-nothing server: the client-side ceiling, for both.
 *  4. peak RSS with maxOutstandingRecords = 100,000, fed twice as fast as the stream takes records.
 *
 * Fairness: for each row the producer and the plain loop face the same server setup, started fresh
 * for each phase, always in a child process (server-child.ts), so the client and the server each
 * have an event loop of their own on the 2-core machine; both use benchClient() (keep-alive, SDK
 * retries off). The producer's harness attaches two shared callbacks to each put() promise (no
 * closure per record; the plain loop has no per-record callback at all) or to each putMany()
 * promise; acknowledged bytes are derived as bytes put - producer.outstandingBytes - bytes of
 * failed records.
 *
 * Files: workload.ts (records, client, plain loop), server-child.ts (mock or do-nothing server, by
 * mode; the do-nothing endpoint is ../do-nothing-server.ts, shared with bench/mock), rss-child.ts (row 4, fresh process), profile.ts
 * (the limits-off producer row alone, for `node --cpu-prof`; not run by the suite).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BatchFailedError, KinesisProducer, UserRecordFailedError } from '@kinesis-kit/producer';
import { startChild } from '../child-process.js';
import type { BenchRow, BenchSuite } from '../lib.js';
import { benchClient, plainLoop, RECORD_BYTES, RECORDS_PER_CALL, recordData, recordKey } from './workload.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARDS = 4;
const MiB = 1024 * 1024;
const NODE_ARGS = ['--conditions=@kinesis-kit/source', '--import', 'tsx'];

interface ServerChild {
  endpoint: string;
  close(): Promise<void>;
}

export async function startServer(mode: 'on' | 'off' | 'noop'): Promise<ServerChild> {
  const child = startChild(path.join(here, 'server-child.ts'), [mode, String(SHARDS)]);
  const endpoint = await child.line('READY ');
  return { endpoint, close: () => child.close() };
}

interface ProducerFigures {
  /** User records acknowledged per second in the window. */
  rate: number;
  /** Partition key + data bytes acknowledged per second in the window. */
  bytesRate: number;
  dataBytesRate: number;
  failed: number;
  requests: number;
  throttledRequests: number;
  throttledEntries: number;
  entries: number;
}

/** How the harness hands records over: put() with a promise per record, or putMany() with RECORDS_PER_CALL per call. */
export type ProducerApi = 'put' | 'putMany';

/** Feeds the producer as fast as its back-pressure allows for `ms`; counts acknowledgements after `warmupMs`. */
export async function measureProducer(endpoint: string, ms: number, warmupMs: number, rateLimit?: number, api: ProducerApi = 'put'): Promise<ProducerFigures> {
  const client = benchClient(endpoint);
  const producer = new KinesisProducer({ streamName: 'bench', kinesisClient: client, ...(rateLimit !== undefined ? { rateLimit } : {}) });
  let requests = 0;
  let throttledRequests = 0;
  let throttledEntries = 0;
  let entries = 0;
  producer.on('requestCompleted', (e) => {
    requests++;
    entries += e.entries;
    if (e.failedEntries > 0) throttledRequests++;
    throttledEntries += e.failedEntries;
  });
  await producer.ready();
  const start = performance.now();
  const windowStart = start + warmupMs;
  const end = start + ms;
  // Running totals, read at the window's two ends (reading the clock per acknowledgement cost the
  // client ~4% of its CPU in this row). The callbacks are shared, not a closure per record (the
  // plain loop has no per-record callback either): acknowledged bytes = bytes put - bytes still
  // outstanding - bytes of failed records.
  let acked = 0;
  let failed = 0;
  let putBytes = 0;
  let failedBytes = 0;
  const onAcked = () => void acked++;
  const onFailed = (err: unknown) => {
    if (err instanceof BatchFailedError) {
      acked += err.results.length - err.failures.length;
      for (const f of err.failures) onFailed(f.error);
      return;
    }
    failed++;
    if (err instanceof UserRecordFailedError) failedBytes += Buffer.byteLength(err.record.partitionKey) + RECORD_BYTES;
  };
  const onBatchAcked = (results: unknown[]) => void (acked += results.length);
  let atWindowStart = { acked: 0, bytes: 0, time: windowStart };
  const snapshot = () => ({ acked, bytes: putBytes - producer.outstandingBytes - failedBytes, time: performance.now() });
  const windowTimer = setTimeout(() => (atWindowStart = snapshot()), warmupMs);
  let i = 0;
  while (performance.now() < end) {
    if (!producer.hasCapacity) await producer.waitForCapacity();
    if (api === 'putMany') {
      for (let n = 0; n < 2000 && producer.hasCapacity; n += RECORDS_PER_CALL) {
        const batch = new Array<{ partitionKey: string; data: Buffer }>(RECORDS_PER_CALL);
        for (let b = 0; b < RECORDS_PER_CALL; b++, i++) {
          const key = recordKey(i);
          putBytes += key.length + RECORD_BYTES;
          batch[b] = { partitionKey: key, data: recordData(i) };
        }
        producer.putMany(batch).then(onBatchAcked, onFailed);
      }
    } else {
      for (let n = 0; n < 2000 && producer.hasCapacity; n++, i++) {
        const key = recordKey(i);
        putBytes += key.length + RECORD_BYTES;
        producer.put({ partitionKey: key, data: recordData(i) }).then(onAcked, onFailed);
      }
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  const atEnd = snapshot();
  clearTimeout(windowTimer);
  const elapsed = (atEnd.time - atWindowStart.time) / 1000;
  const windowAcked = atEnd.acked - atWindowStart.acked;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 120_000);
  await producer.close({ signal: ac.signal });
  clearTimeout(timer);
  client.destroy();
  return {
    rate: windowAcked / elapsed,
    bytesRate: (atEnd.bytes - atWindowStart.bytes) / elapsed,
    dataBytesRate: (windowAcked * RECORD_BYTES) / elapsed,
    failed, requests, throttledRequests, throttledEntries, entries };
}

async function plain(endpoint: string, ms: number, warmupMs: number) {
  const client = benchClient(endpoint);
  try {
    return await plainLoop(client, ms, warmupMs, 4);
  } finally {
    client.destroy();
  }
}

async function rss(endpoint: string, seconds: number, feedRate: number) {
  const { stdout } = await promisify(execFile)(process.execPath, [...NODE_ARGS, path.join(here, 'rss-child.ts'), endpoint, String(seconds), String(feedRate)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as {
    peakRss: number;
    atPeak: NodeJS.MemoryUsage;
    maxOutstanding: number;
    sent: number;
    acked: number;
    failed: number;
  };
}

export const suite: BenchSuite = {
  name: 'producer',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const onMs = quick ? 6_000 : 20_000;
    const offMs = quick ? 3_000 : 8_000;
    const warmupMs = quick ? 2_000 : 3_000;
    const plainName = 'plain PutRecords loop (500/call, 4 in flight)';

    // 1. limits on. A fresh server for each side, so neither inherits the other's token buckets.
    let server = await startServer('on');
    const onOurs = await measureProducer(server.endpoint, onMs, warmupMs).finally(() => server.close());
    server = await startServer('on');
    const onPlain = await plain(server.endpoint, onMs, warmupMs).finally(() => server.close());
    const limitBytes = SHARDS * MiB;
    const goodput = onOurs.bytesRate / limitBytes;
    rows.push({
      metric: `limits on, ${SHARDS} shards, ${RECORD_BYTES} B records, 100k keys: user records/s`,
      ours: onOurs.rate,
      unit: 'rec/s',
      peer: onPlain.rate,
      peerName: plainName,
      target: '>= 8x plain loop',
      pass: onOurs.rate >= 8 * onPlain.rate,
    });
    rows.push({
      metric: 'limits on: goodput (partition key + data acknowledged) / 4 MiB/s write limit',
      ours: goodput * 100,
      unit: '%',
      peer: ((onPlain.rate * (RECORD_BYTES + 4)) / limitBytes) * 100,
      peerName: plainName,
      target: '>= 90%',
      pass: goodput >= 0.9,
    });
    rows.push({ metric: 'limits on: user records lost (failed)', ours: onOurs.failed, unit: 'records', target: '0', pass: onOurs.failed === 0 });
    rows.push({
      metric: 'limits on: PutRecords requests with a throttled entry',
      ours: (onOurs.throttledRequests / Math.max(1, onOurs.requests)) * 100,
      unit: '%',
      peer: (onPlain.throttledRequests / Math.max(1, onPlain.requests)) * 100,
      peerName: plainName,
    });
    notes.push(
      `limits on: data-only goodput ${((onOurs.dataBytesRate / limitBytes) * 100).toFixed(1)}% of 4 MiB/s; ` +
        `${onOurs.throttledEntries} of ${onOurs.entries} Kinesis records throttled (${((onOurs.throttledEntries / Math.max(1, onOurs.entries)) * 100).toFixed(1)}%) ` +
        `in ${onOurs.requests} requests (RateLimit 150% overshoots by design); window ${(onMs - warmupMs) / 1000} s after a ${warmupMs / 1000} s warm-up that spends the 1 s burst.`,
    );

    // 2. limits off, three ways: putMany() (500 records per call and one promise per call, the plain
    // loop's shape), put() (a promise per record) and the plain loop. Each phase gets a fresh server
    // (the mock keeps every record: a shared one would grow through the run and slow the later
    // phases); the order alternates between rounds and each side keeps its best round, since the
    // machine's speed drifts within minutes.
    // The per-shard limiter would hold the producer at 150% of AWS's limits: raise it, as a user of an unlimited backend would.
    const offRounds = quick ? 1 : 2;
    const best = { putMany: undefined as ProducerFigures | undefined, put: undefined as ProducerFigures | undefined, plain: 0 };
    const phases: ('putMany' | 'put' | 'plain')[][] = [
      ['putMany', 'plain', 'put'],
      ['put', 'plain', 'putMany'],
    ];
    for (let r = 0; r < offRounds; r++) {
      for (const side of phases[r % 2]!) {
        server = await startServer('off');
        try {
          if (side === 'plain') best.plain = Math.max(best.plain, (await plain(server.endpoint, offMs, 1_000)).rate);
          else {
            const figures = await measureProducer(server.endpoint, offMs, 1_000, 100_000, side);
            if (figures.rate > (best[side]?.rate ?? -1)) best[side] = figures;
          }
        } finally {
          await server.close();
        }
      }
    }
    const offMany = best.putMany!;
    const offPut = best.put!;
    const offPlain = best.plain;
    rows.push({
      metric: `limits off, putMany() ${RECORDS_PER_CALL} per call: user records/s (client and server share the 2-core machine)`,
      ours: offMany.rate,
      unit: 'rec/s',
      peer: offPlain,
      peerName: plainName,
      target: '>= 250,000 and >= 2x plain loop',
      pass: offMany.rate >= 250_000 && offMany.rate >= 2 * offPlain,
    });
    rows.push({
      metric: 'limits off, put() (a promise per record): user records/s',
      ours: offPut.rate,
      unit: 'rec/s',
      peer: offPlain,
      peerName: plainName,
      target: '>= 250,000',
      pass: offPut.rate >= 250_000,
    });
    notes.push(
      'limits off: the producer runs with rateLimit 100000 (%), else its per-shard token buckets cap it at 1.5 x 4 MiB/s (about 56k records/s). ' +
        `The 2x target is judged on putMany(), which hands records over as the plain loop does (${RECORDS_PER_CALL} per call, one promise per call); ` +
        'with put(), the promise and callbacks of each record cost the client about a third of its CPU (the harness attaches shared callbacks, no closure per record).',
    );
    notes.push(`limits off: best of ${offRounds} round(s) per side, a fresh mock per phase, order alternating between rounds.`);

    // 2b. The client's ceiling: the same producer against a do-nothing server (one shard, nothing
    // decoded or stored), so what the producer + SDK cost alone on one core is visible.
    for (const api of ['putMany', 'put'] as const) {
      server = await startServer('noop');
      const noop = await measureProducer(server.endpoint, offMs, 1_000, 100_000, api).finally(() => server.close());
      rows.push({
        metric: `producer against a do-nothing server, ${api}(): user records/s (client-side ceiling, one core)`,
        ours: noop.rate,
        unit: 'rec/s',
        peer: (api === 'put' ? offPut : offMany).rate,
        peerName: `producer against the mock, limits off, ${api}() (row above)`,
      });
      if (noop.failed > 0) notes.push(`do-nothing server, ${api}(): ${noop.failed} records failed`);
    }
    for (const [api, figures] of [['putMany', offMany], ['put', offPut]] as const) {
      if (figures.failed > 0) notes.push(`limits off, ${api}(): ${figures.failed} records failed`);
    }

    // 3. Peak RSS, fed at twice what the stream takes (measured in row 1).
    server = await startServer('on');
    const feed = Math.round(2 * onOurs.rate);
    const mem = await rss(server.endpoint, quick ? 5 : 15, feed).finally(() => server.close());
    rows.push({
      metric: `peak RSS, maxOutstandingRecords 100,000, fed ${feed.toLocaleString('en-US')} rec/s (2x the stream), fresh process`,
      ours: mem.peakRss / MiB,
      unit: 'MiB',
      target: '< 512 MiB and outstanding <= 100,000',
      pass: mem.peakRss / MiB < 512 && mem.maxOutstanding <= 100_000,
    });
    notes.push(
      `RSS run: max outstanding ${mem.maxOutstanding}, ${mem.sent} put, ${mem.acked} acknowledged, ${mem.failed} failed; at the peak ` +
        `JS heap used ${(mem.atPeak.heapUsed / MiB).toFixed(0)} MiB of ${(mem.atPeak.heapTotal / MiB).toFixed(0)} MiB, array buffers ${(mem.atPeak.arrayBuffers / MiB).toFixed(0)} MiB ` +
        '(most of the heap is garbage of promoted records awaiting a full GC: live data after one is ~0.6 KB per outstanding record, ' +
        '~310 B of it the producer\'s own, the rest the caller\'s record, key and callbacks and the promise reactions).',
    );
    notes.push('The machine is shared with other jobs while this runs: figures are noisy. Client (this process) and server (a child) share 2 cores.');
    return { suite: 'producer', rows, notes };
  },
};
