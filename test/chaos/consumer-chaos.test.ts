/**
 * Consumer chaos test: the mock (limits on, lease table on its DynamoDB endpoint) in this process, a
 * strictly ordered producer writing keyed records with a per-key counter at a steady rate, and
 * consumer workers as separate OS processes (test/chaos/consumer-worker.ts). A seeded schedule kills
 * workers with SIGKILL, restarts them (same and new workerIds), stops some gracefully, injects
 * DynamoDB throttling and errors on the lease table, and reshards (split, merge, UpdateShardCount)
 * while all of it goes on. Then, with at least one worker alive until everything is consumed:
 * - every acknowledged record was processed at least once;
 * - per partition key, first deliveries come in put order (across parents and children);
 * - every record in every shard (GetRecords read-back, deaggregated as the KCL does) was delivered on that shard;
 * - no two workers delivered batches of one shard for longer than failoverTimeMillis + a margin after
 *   the later one's first batch there (a worker whose lease was taken may finish its in-flight batch).
 *
 * CHAOS_SEED picks the schedule (printed); CHAOS_PROFILE=long (npm run test:chaos) runs for minutes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { deaggregateWithReport } from '@kinesis-kit/aggregation';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer, type FaultRule, type MockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';
import { chaosSeed, isLongProfile, printChaosReport } from './chaos-report.js';
import { sleep, waitFor } from './wait.js';
import { ConsumerLedger, monotonicMs, seededRandom, type WorkerInstance } from './consumer-ledger.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LONG = isLongProfile();
const SEED = chaosSeed(4242);
const FAILOVER = 2_000;
/** Extra time allowed beyond failoverTimeMillis for the overlap rule (scheduling on a loaded 2-core machine). */
const OVERLAP_MARGIN = 1_000;
const STREAM = 'chaos-consumer';
const APP = 'chaos-consumer-app';

const PROFILE = LONG
  ? { shards: 4, workers: 4, records: 400_000, keys: 1_000, durationMs: 240_000, kills: 12, gracefulStops: 5, splits: 4, merges: 4, scalings: 2, dynamoWindows: 6, blackouts: 2, drainMs: 180_000, timeoutMs: 600_000 }
  : { shards: 4, workers: 3, records: 20_000, keys: 200, durationMs: 10_000, kills: 2, gracefulStops: 1, splits: 1, merges: 1, scalings: 0, dynamoWindows: 1, blackouts: 0, drainMs: 25_000, timeoutMs: 90_000 };
const DYNAMO_WINDOW_MS = 3_000;
/** CHAOS_CONSUMER_LOG=<file>: every worker line, prefixed with its instance, for investigating a failure. */
const RAW_LOG = process.env.CHAOS_CONSUMER_LOG;

type ChaosEvent =
  | { at: number; kind: 'kill' }
  | { at: number; kind: 'graceful' }
  | { at: number; kind: 'split' }
  | { at: number; kind: 'merge' }
  | { at: number; kind: 'scale' }
  | { at: number; kind: 'dynamo'; flavour: 'throttle' | 'errors' | 'mixed' | 'blackout' };

/** The seeded schedule: times spread over 10%..85% of the production window. */
function schedule(random: () => number): ChaosEvent[] {
  const at = (): number => Math.round(PROFILE.durationMs * (0.1 + 0.75 * random()));
  const events: ChaosEvent[] = [];
  for (let i = 0; i < PROFILE.kills; i++) events.push({ at: at(), kind: 'kill' });
  for (let i = 0; i < PROFILE.gracefulStops; i++) events.push({ at: at(), kind: 'graceful' });
  for (let i = 0; i < PROFILE.splits; i++) events.push({ at: at(), kind: 'split' });
  for (let i = 0; i < PROFILE.merges; i++) events.push({ at: at(), kind: 'merge' });
  for (let i = 0; i < PROFILE.scalings; i++) events.push({ at: at(), kind: 'scale' });
  // DynamoDB windows do not overlap: each gets its own slot of the run.
  const windows = PROFILE.dynamoWindows + PROFILE.blackouts;
  const slot = (PROFILE.durationMs * 0.8) / windows;
  const flavours = ['throttle', 'errors', 'mixed'] as const;
  const kinds = [...Array.from({ length: PROFILE.dynamoWindows }, () => flavours[Math.floor(random() * 3)]!), ...Array.from({ length: PROFILE.blackouts }, () => 'blackout' as const)];
  kinds.sort(() => random() - 0.5);
  kinds.forEach((flavour, i) => {
    events.push({ at: Math.round(PROFILE.durationMs * 0.1 + i * slot + random() * Math.max(0, slot - DYNAMO_WINDOW_MS - 500)), kind: 'dynamo', flavour });
  });
  return events.sort((a, b) => a.at - b.at);
}

function dynamoRules(flavour: 'throttle' | 'errors' | 'mixed' | 'blackout'): FaultRule[] {
  const d = { service: 'dynamodb' as const, durationMs: DYNAMO_WINDOW_MS };
  const pte = 'ProvisionedThroughputExceededException';
  const ise = { errorCode: 'InternalServerError', statusCode: 500 };
  switch (flavour) {
    case 'throttle':
      return [
        { ...d, operation: 'UpdateItem', errorRate: 0.5, errorCode: pte },
        { ...d, operation: 'Scan', errorRate: 0.5, errorCode: pte },
        { ...d, operation: 'GetItem', errorRate: 0.3, errorCode: pte },
      ];
    case 'errors':
      return [
        { ...d, operation: 'UpdateItem', errorRate: 0.4, ...ise },
        { ...d, operation: 'Scan', errorRate: 0.4, ...ise },
        { ...d, operation: 'PutItem', errorRate: 0.3, ...ise },
      ];
    case 'mixed':
      return [
        { ...d, operation: 'UpdateItem', errorRate: 0.3, errorCode: pte },
        { ...d, operation: 'UpdateItem', errorRate: 0.2, ...ise },
        { ...d, operation: 'Scan', errorRate: 0.4, errorCode: pte },
        { ...d, operation: 'GetItem', errorRate: 0.2, ...ise },
      ];
    case 'blackout': // longer than failoverTimeMillis: every worker loses every lease
      return [
        { ...d, operation: 'UpdateItem', errorRate: 1, errorCode: pte },
        { ...d, operation: 'Scan', errorRate: 1, ...ise },
      ];
  }
}

async function listAllShards(kinesis: KinesisClient): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const out = await kinesis.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: STREAM }));
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}

async function openShards(kinesis: KinesisClient): Promise<{ id: string; start: bigint; end: bigint }[]> {
  return (await listAllShards(kinesis))
    .filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber)
    .map((s) => ({ id: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** Calls `fn` again while Kinesis throttles it (the read-back shares the shards' read limits with the workers). */
async function retryThrottled<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const name = (err as Error).name;
      if (attempt >= 50 || (name !== 'ProvisionedThroughputExceededException' && name !== 'LimitExceededException')) throw err;
      await sleep(200);
    }
  }
}

/** Every user record of every shard, as `${shardId} ${key#n}` (containers outside the shard's range dropped, as the consumer does). */
async function readBack(kinesis: KinesisClient): Promise<{ items: Set<string>; shards: Map<string, number>; trace: (key: string) => string[] }> {
  const items = new Set<string>();
  const all: string[] = []; // for diagnostics: `${shardId} ${sequenceNumber} ${kept|dropped} ${items...}`
  const shards = new Map<string, number>();
  for (const shard of await listAllShards(kinesis)) {
    const shardId = shard.ShardId!;
    const hashKeyRange = { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! };
    let count = 0;
    let iterator = (await retryThrottled(() => kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })))).ShardIterator;
    while (iterator) {
      const it = iterator;
      const out = await retryThrottled(() => kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 })));
      for (const record of out.Records ?? []) {
        const kept = deaggregateWithReport(record, { hashKeyRange });
        for (const user of kept.records) {
          items.add(`${shardId} ${Buffer.from(user.data).toString('utf8')}`);
          count++;
        }
        const every = kept.discardedOutOfRange > 0 ? deaggregateWithReport(record).records : kept.records;
        all.push(`${shardId} ${record.SequenceNumber} ${kept.discardedOutOfRange > 0 ? 'dropped(out of range)' : 'kept'} ${every.map((u) => Buffer.from(u.data).toString('utf8')).join(' ')}`);
      }
      iterator = out.NextShardIterator ?? undefined;
      if ((out.Records ?? []).length === 0 && out.MillisBehindLatest === 0) break;
    }
    shards.set(shardId, count);
  }
  const trace = (key: string): string[] =>
    all
      .filter((line) => line.includes(` ${key}#`))
      .map((line) => {
        const [shardId, seq, status, ...rest] = line.split(' ');
        return `${shardId} seq …${seq!.slice(-8)} ${status}: ${rest.filter((x) => x.startsWith(`${key}#`)).join(' ')}`;
      });
  return { items, shards, trace };
}

interface WorkerProcess {
  instance: WorkerInstance;
  child: ChildProcessWithoutNullStreams;
  ready: Promise<boolean>;
  closed: Promise<void>;
  stderrTail: string;
  ended: boolean;
}

describe('consumer chaos (mock, limits on, workers in child processes)', () => {
  it(`survives kills, restarts, graceful stops, DynamoDB faults and resharding (${LONG ? 'long' : 'short'} profile, seed ${SEED})`, { timeout: PROFILE.timeoutMs }, async () => {
    const startedAtWall = Date.now();
    const before = activeResources();
    const random = seededRandom(SEED);
    const events = schedule(random);
    console.log(`[consumer-chaos] seed ${SEED} (repeat with CHAOS_SEED=${SEED}), profile ${LONG ? 'long' : 'short'}`);
    console.log(`[consumer-chaos] schedule: ${events.map((e) => `${e.at}ms ${e.kind}${e.kind === 'dynamo' ? `(${e.flavour})` : ''}`).join(', ')}`);

    const server: MockServer = await startMockServer({ seed: SEED });
    const kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const ledger = new ConsumerLedger(FAILOVER);
    const workers: WorkerProcess[] = [];
    const incarnations = new Map<string, number>();
    const background: Promise<unknown>[] = [];
    const counts = { kills: 0, killsSkipped: 0, restartsSameId: 0, restartsNewId: 0, gracefulStops: 0, splits: 0, merges: 0, scalings: 0, reshardFailures: 0, dynamoWindows: 0, unexpectedExits: 0 };
    const unexpectedExits: string[] = [];
    let nextWorkerNumber = 1;
    let finished = false; // set in finally: no more chaos events or restarts
    let producer: KinesisProducer | undefined;

    const spawnWorker = (workerId: string): WorkerProcess => {
      const incarnation = (incarnations.get(workerId) ?? 0) + 1;
      incarnations.set(workerId, incarnation);
      const instance: WorkerInstance = { label: `${workerId}/${incarnation}`, workerId };
      ledger.instances.set(instance.label, instance);
      const child = spawn(
        process.execPath,
        ['--conditions=@kinesis-kit/source', '--import', 'tsx', path.join(here, 'consumer-worker.ts'), server.endpoint, STREAM, APP, workerId, String(FAILOVER)],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      child.stdin.on('error', () => undefined); // EPIPE after a kill
      const worker: WorkerProcess = { instance, child, ready: Promise.resolve(false), closed: Promise.resolve(), stderrTail: '', ended: false };
      child.stderr.on('data', (chunk: Buffer) => {
        worker.stderrTail = (worker.stderrTail + chunk.toString('utf8')).slice(-4_000);
      });
      worker.ready = new Promise<boolean>((resolve) => {
        readline.createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.startsWith('READY')) resolve(true);
          if (RAW_LOG) appendFileSync(RAW_LOG, `${instance.label} ${line}\n`);
          ledger.line(instance.label, line);
        });
        child.once('close', () => resolve(false));
      });
      worker.closed = new Promise<void>((resolve) =>
        child.once('close', (code, signal) => {
          worker.ended = true;
          if (instance.killedAt === undefined && instance.stopRequestedAt === undefined) {
            counts.unexpectedExits++;
            unexpectedExits.push(`${instance.label} exited (code ${code}, signal ${signal}): ${worker.stderrTail.slice(-1_000)}`);
          } else if (instance.killedAt === undefined && code !== 0) {
            unexpectedExits.push(`${instance.label} stopped with code ${code} (signal ${signal}): ${worker.stderrTail.slice(-1_000)}`);
          }
          resolve();
        }),
      );
      workers.push(worker);
      return worker;
    };
    const alive = (): WorkerProcess[] => workers.filter((w) => !w.ended && w.instance.killedAt === undefined && w.instance.stopRequestedAt === undefined);
    let restartsDone = 0;
    const restartLater = (previous: WorkerProcess, delayMs: number): void => {
      const sameId = (restartsDone++ + SEED) % 2 === 0;
      background.push(
        (async () => {
          await previous.closed;
          await sleep(delayMs);
          if (finished) return;
          const workerId = sameId ? previous.instance.workerId : `w${nextWorkerNumber++}`;
          if (sameId) counts.restartsSameId++;
          else counts.restartsNewId++;
          const w = spawnWorker(workerId);
          await w.ready;
        })(),
      );
    };
    const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;

    const runEvent = async (event: ChaosEvent): Promise<void> => {
      if (finished) return;
      switch (event.kind) {
        case 'kill': {
          const candidates = alive();
          if (candidates.length < 2) {
            counts.killsSkipped++; // keep one worker processing
            return;
          }
          const victim = pick(candidates);
          victim.instance.killedAt = monotonicMs();
          victim.child.kill('SIGKILL');
          counts.kills++;
          restartLater(victim, 300 + Math.floor(random() * 1_700));
          return;
        }
        case 'graceful': {
          const candidates = alive();
          if (candidates.length < 2) return;
          const victim = pick(candidates);
          victim.instance.stopRequestedAt = monotonicMs();
          victim.child.stdin.end(); // the worker calls consumer.stop()
          counts.gracefulStops++;
          restartLater(victim, 200 + Math.floor(random() * 1_000));
          return;
        }
        case 'split': {
          const open = await openShards(kinesis);
          const s = pick(open);
          await kinesis.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: s.id, NewStartingHashKey: ((s.start + s.end + 1n) / 2n).toString() }));
          counts.splits++;
          return;
        }
        case 'merge': {
          const open = await openShards(kinesis);
          const i = Math.floor(random() * (open.length - 1));
          await kinesis.send(new MergeShardsCommand({ StreamName: STREAM, ShardToMerge: open[i]!.id, AdjacentShardToMerge: open[i + 1]!.id }));
          counts.merges++;
          return;
        }
        case 'scale': {
          const n = (await openShards(kinesis)).length;
          const target = n < 6 ? n + 1 + Math.floor(random() * (n - 1)) : Math.max(2, Math.ceil(n / 2) + Math.floor(random() * 2));
          await kinesis.send(new UpdateShardCountCommand({ StreamName: STREAM, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
          counts.scalings++;
          return;
        }
        case 'dynamo':
          server.setFaults({ seed: SEED + counts.dynamoWindows, rules: dynamoRules(event.flavour) });
          counts.dynamoWindows++;
          return;
      }
    };

    const acked = new Set<string>();
    const putFailures: string[] = [];
    let pending = 0;
    let sent = 0;
    let produceMs = 0;
    let drainMs = 0;
    let timedOutDrain = false;
    let stopProblems = 0;
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: PROFILE.shards }));
      const initial = Array.from({ length: PROFILE.workers }, () => spawnWorker(`w${nextWorkerNumber++}`));
      const readyAll = await Promise.race([Promise.all(initial.map((w) => w.ready)), sleep(60_000).then(() => [false])]);
      expect(readyAll.every(Boolean), `workers did not start: ${unexpectedExits.join('\n')}`).toBe(true);

      producer = new KinesisProducer({ streamName: STREAM, kinesisClient: kinesis, strictOrdering: true, recordTtl: 120_000 });
      const counters = new Array<number>(PROFILE.keys).fill(0);
      const produceStart = Date.now();
      const chaos = (async () => {
        for (const event of events) {
          const wait = produceStart + event.at - Date.now();
          if (wait > 0) await sleep(wait);
          try {
            await runEvent(event);
          } catch (err) {
            if (event.kind === 'split' || event.kind === 'merge' || event.kind === 'scale') counts.reshardFailures++;
            console.log(`[consumer-chaos] event ${event.kind} failed: ${(err as Error).name}: ${(err as Error).message}`);
          }
        }
      })();
      while (sent < PROFILE.records) {
        const due = Math.min(PROFILE.records, Math.floor(((Date.now() - produceStart) * PROFILE.records) / PROFILE.durationMs));
        for (; sent < due; sent++) {
          const k = sent % PROFILE.keys;
          const item = `k${k}#${counters[k]!++}`;
          pending++;
          producer.put({ partitionKey: `k${k}`, data: Buffer.from(item) }).then(
            () => {
              acked.add(item);
              pending--;
            },
            (err: unknown) => {
              if (putFailures.length < 10) putFailures.push(`${item}: ${(err as Error).message}`);
              pending--;
            },
          );
        }
        await sleep(20);
      }
      await producer.flush();
      await waitFor(() => pending === 0, 130_000, 100);
      produceMs = Date.now() - produceStart;
      await chaos;
      await Promise.all(background);
      server.setFaults({ rules: [] });
      if (alive().length === 0) await spawnWorker(`w${nextWorkerNumber++}`).ready;

      // Drain: all acknowledged records, then everything the read-back finds in the shards.
      const drainStart = Date.now();
      const missing = new Set(acked);
      const drained = await waitFor(
        () => {
          for (const item of missing) if (ledger.has(item)) missing.delete(item);
          return missing.size === 0;
        },
        PROFILE.drainMs,
        200,
      );
      const stream = await readBack(kinesis);
      const deliveredOnShard = (): Set<string> => {
        const set = new Set<string>();
        for (const b of ledger.batches) for (const item of b.items) set.add(`${b.shardId} ${item}`);
        return set;
      };
      const drainedShards = await waitFor(
        () => {
          const delivered = deliveredOnShard();
          for (const x of stream.items) if (!delivered.has(x)) return false;
          return true;
        },
        drained ? 15_000 : 1_000,
        500,
      );
      timedOutDrain = !drained || !drainedShards;
      drainMs = Date.now() - drainStart;

      // Graceful stop of everything still running (bounded), then the analysis.
      for (const w of alive()) {
        w.instance.stopRequestedAt = monotonicMs();
        w.child.stdin.end();
      }
      const stoppedAll = await waitFor(() => workers.every((w) => w.ended), 35_000, 100);
      if (!stoppedAll) stopProblems++;

      const result = ledger.analyse();
      const notDelivered = [...acked].filter((item) => !ledger.has(item));
      const unprocessedInShards = [...stream.items].filter((x) => !result.deliveredOn.has(x));
      const emptyShards = [...stream.shards].filter(([shardId, n]) => n > 0 && !ledger.batches.some((b) => b.shardId === shardId)).map(([id]) => id);
      let injected = 0;
      let conditional = 0;
      const dynamoByKind: string[] = [];
      let otherDynamo = 0;
      for (const [k, n] of [...ledger.dynamoErrors].sort()) {
        const [op, name] = k.replace('Command', '').split(':') as [string, string];
        if (name === 'ConditionalCheckFailedException') conditional += n;
        else if (name === 'ProvisionedThroughputExceededException' || name === 'InternalServerError') {
          injected += n;
          dynamoByKind.push(`${op} ${name === 'InternalServerError' ? '500' : 'PTE'} ${n}`);
        } else otherDynamo += n; // e.g. DescribeTable ResourceNotFound before the table exists
      }
      const causeRows: Record<string, number> = {};
      for (const [cause, n] of Object.entries(result.duplicateCauses)) causeRows[`  dup: ${cause}`] = n;
      printChaosReport('consumer chaos', SEED, {
        'records put': sent,
        'records acknowledged': acked.size,
        'put failures': putFailures.length,
        'records in the stream (read-back)': stream.items.size,
        'shards (final, all)': stream.shards.size,
        deliveries: result.deliveries,
        'unique records delivered': result.unique,
        duplicates: result.duplicates,
        ...causeRows,
        'acknowledged but not delivered': notDelivered.length,
        'records of a shard not delivered on it': unprocessedInShards.length,
        'shards with records but no batch': emptyShards.length,
        'per-key order violations': result.orderViolations.length,
        'worker processes (incl. restarts)': workers.length,
        'kill -9': `${counts.kills} (${counts.killsSkipped} skipped: one worker left)`,
        'restarts same workerId / new workerId': `${counts.restartsSameId} / ${counts.restartsNewId}`,
        'graceful stops (mid-run)': counts.gracefulStops,
        'reshards: split / merge / UpdateShardCount': `${counts.splits} / ${counts.merges} / ${counts.scalings}${counts.reshardFailures ? ` (${counts.reshardFailures} failed)` : ''}`,
        'DynamoDB fault windows (3 s)': counts.dynamoWindows,
        'DynamoDB faults injected (seen by workers)': injected,
        'DynamoDB faults by call': dynamoByKind.join(', ') || '-',
        'other DynamoDB errors (not injected)': otherDynamo,
        'ConditionalCheckFailed (lease races)': conditional,
        'consumer start() failures (retried)': ledger.startFailures.length,
        'leases lost (events)': ledger.leaseEvents.filter((e) => e.kind === 'lost').length,
        'processing errors (batch retried)': ledger.leaseEvents.filter((e) => e.kind === 'processingError').length,
        'lease tenures (shard x worker)': result.tenures,
        'max overlap of two workers on a shard': `${result.maxOverlapMs.toFixed(0)} ms (allowed ${FAILOVER + OVERLAP_MARGIN} ms)`,
        'unexpected worker exits': unexpectedExits.length,
        'produce / drain time': `${(produceMs / 1000).toFixed(1)} s / ${(drainMs / 1000).toFixed(1)} s`,
        'total time': `${((Date.now() - startedAtWall) / 1000).toFixed(1)} s`,
      });
      if (result.duplicateExamples.length > 0) console.log(`[consumer-chaos] duplicate examples:\n  ${result.duplicateExamples.join('\n  ')}`);
      if (result.orderViolations.length > 0) {
        const key = result.orderViolations[0]!.split(':')[0]!;
        console.log(`[consumer-chaos] order violation, ${key} in the stream (shard, sequence, container kept/dropped by range):\n  ${stream.trace(key).slice(-12).join('\n  ')}`);
      }
      if (result.overlaps.length > 0) console.log(`[consumer-chaos] overlaps: ${JSON.stringify(result.overlaps.slice(0, 5))}`);
      if (ledger.startFailures.length > 0) console.log(`[consumer-chaos] start failures: ${ledger.startFailures.slice(0, 5).join(' | ')}`);
      if (putFailures.length > 0) console.log(`[consumer-chaos] put failures: ${putFailures.join(' | ')}`);

      expect(unexpectedExits).toEqual([]);
      expect(timedOutDrain, `drain timed out: ${notDelivered.length} acknowledged and ${unprocessedInShards.length} stream records not delivered`).toBe(false);
      expect(notDelivered.slice(0, 10)).toEqual([]);
      expect(unprocessedInShards.slice(0, 10)).toEqual([]);
      expect(emptyShards).toEqual([]);
      expect(result.orderViolations).toEqual([]);
      expect(result.overlaps.filter((o) => o.overlapMs > FAILOVER + OVERLAP_MARGIN)).toEqual([]);
      expect(result.duplicateCauses.unexplained ?? 0).toBe(0);
      expect(stopProblems).toBe(0);
    } finally {
      finished = true;
      server.setFaults({ rules: [] });
      await producer?.close();
      for (const w of workers) if (!w.ended) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.closed));
      await Promise.allSettled(background);
      for (const w of workers) if (!w.ended) w.child.kill('SIGKILL'); // restarts that were spawned while stopping
      await Promise.all(workers.map((w) => w.closed));
      kinesis.destroy();
      await server.close();
    }
    expect(await leakedResources(before)).toEqual({});
  });
});
