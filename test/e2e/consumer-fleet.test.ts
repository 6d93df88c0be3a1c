/**
 * The consumer's end-to-end test (issue: consumer part 2): producer -> mock (limits on, DynamoDB on
 * the same endpoint) -> three workers, one of them a separate process. A split and a merge happen
 * mid-stream, one worker stops gracefully and the process is killed with SIGKILL (its leases
 * expire). Every acknowledged record must be processed, per-key order kept across parents and
 * children, and every duplicate explained by the kill or a lease loss of a worker that delivered it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ListShardsCommand, MergeShardsCommand, SplitShardCommand, CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KinesisConsumer } from '@kinesis-kit/consumer';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const RECORDS = 200_000;
const KEYS = 400;
// Long enough that an event-loop stall under full-suite load rarely costs a worker its leases (each
// loss redelivers the victim's unchecked batch, which can be tens of thousands of records).
const FAILOVER = 5_000;

/** Who delivered a record (a worker, from a shard) and when. */
interface Delivery {
  worker: string;
  shardId: string;
  at: number;
}

class Ledger {
  private readonly seen = new Map<string, Map<number, Delivery>>();
  private readonly highest = new Map<string, number>();
  /** Lease losses and the kill, per `worker shardId` (`worker *` for every shard of a killed worker): when they happened. */
  private readonly endings = new Map<string, number[]>();
  /** Each redelivery: the record, its first delivery and this one. */
  private readonly repeats: { item: string; first: Delivery; again: Delivery }[] = [];
  violations: string[] = [];

  add(item: string, worker: string, shardId: string): void {
    const [key, nText] = item.split('#') as [string, string];
    const n = Number(nText);
    let byN = this.seen.get(key);
    if (!byN) this.seen.set(key, (byN = new Map()));
    const first = byN.get(n);
    if (first) {
      this.repeats.push({ item, first, again: { worker, shardId, at: Date.now() } });
      return;
    }
    byN.set(n, { worker, shardId, at: Date.now() });
    const high = this.highest.get(key) ?? -1;
    if (n < high && this.violations.length < 10) this.violations.push(`${key}: ${n} after ${high}`);
    this.highest.set(key, Math.max(high, n));
  }

  /** `worker` lost `shardId`'s lease (or, with '*', was killed): what it delivered before may come again. */
  ended(worker: string, shardId: string): void {
    const k = `${worker} ${shardId}`;
    this.endings.set(k, [...(this.endings.get(k) ?? []), Date.now()]);
  }

  /**
   * Redeliveries that no lease loss explains (a checkpoint lost or skipped would show here). One is
   * explained when the worker that delivered the record first lost that shard's lease (or was killed)
   * afterwards, or when the worker that delivered it again did: a worker that has not yet noticed a
   * steal can deliver after the new owner.
   */
  unexplained(): string[] {
    const endedAfter = (d: Delivery) =>
      [`${d.worker} ${d.shardId}`, `${d.worker} *`].some((k) => (this.endings.get(k) ?? []).some((at) => at >= d.at));
    return this.repeats
      .filter(({ first, again }) => !endedAfter(first) && !endedAfter(again))
      .slice(0, 10)
      .map(({ item, first, again }) => `${item}: first ${first.worker} on ${first.shardId}, again ${again.worker} on ${again.shardId}`);
  }

  get unique(): number {
    let n = 0;
    for (const s of this.seen.values()) n += s.size;
    return n;
  }
}

async function openShards(kinesis: KinesisClient) {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: 'fleet' }))).Shards ?? [];
  return shards
    .filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber)
    .map((s) => ({ id: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
}

describe('consumer fleet end to end (mock, limits on)', () => {
  it('processes 200,000 records through a split, a merge, a graceful stop and a kill -9', { timeout: 180_000 }, async () => {
    const before = activeResources();
    const server = await startMockServer();
    const kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const ledger = new Ledger();
    await kinesis.send(new CreateStreamCommand({ StreamName: 'fleet', ShardCount: 4 }));

    const inProcess = (workerId: string) =>
      new KinesisConsumer({
        applicationName: 'fleet-app',
        streamName: 'fleet',
        workerId,
        ...server.clientConfig(),
        initialPosition: 'TRIM_HORIZON',
        leaseManagement: { failoverTimeMillis: FAILOVER, takerInitialJitterMillis: 100 },
        parentShardPollIntervalMillis: 200,
        eachBatch: ({ shardId, records }) => {
          for (const r of records) ledger.add(Buffer.from(r.data).toString('utf8'), workerId, shardId);
        },
      });
    const w1 = inProcess('w1');
    const w2 = inProcess('w2');
    for (const [id, w] of [['w1', w1], ['w2', w2]] as const) {
      w.on('leaseLost', ({ shardId, reason }) => {
        if (reason !== 'stopped') ledger.ended(id, shardId);
      });
    }
    const child = spawn(
      process.execPath,
      ['--conditions=@kinesis-kit/source', '--import', 'tsx', path.join(here, 'fleet-worker.ts'), server.endpoint, 'fleet', 'fleet-app', 'w3', String(FAILOVER)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    // Shards on which the child delivered a batch whose checkpoint write has not settled yet.
    const childUncheckpointed = new Set<string>();
    const childReady = new Promise<void>((resolve) => {
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === 'READY') resolve();
        else if (line.startsWith('B ')) {
          const [, shardId, ...items] = line.split(' ');
          childUncheckpointed.add(shardId!);
          for (const item of items) ledger.add(item, 'w3', shardId!);
        } else if (line.startsWith('C ')) childUncheckpointed.delete(line.slice(2));
        else if (line.startsWith('L ')) ledger.ended('w3', line.slice(2));
      });
    });
    const childExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    const producer = new KinesisProducer({ streamName: 'fleet', kinesisClient: kinesis, strictOrdering: true });
    try {
      await Promise.all([w1.start(), w2.start(), childReady]);
      const counters = new Array<number>(KEYS).fill(0);
      const puts: Promise<unknown>[] = [];
      let sent = 0;
      const putSome = async (count: number): Promise<void> => {
        for (let i = 0; i < count; i++, sent++) {
          const k = sent % KEYS;
          puts.push(producer.put({ partitionKey: `key-${k}`, data: Buffer.from(`key-${k}#${counters[k]!++}`) }));
        }
        await producer.flush();
      };
      const step = RECORDS / 5;
      await putSome(step);
      const [s0] = await openShards(kinesis);
      await kinesis.send(new SplitShardCommand({ StreamName: 'fleet', ShardToSplit: s0!.id, NewStartingHashKey: ((s0!.start + s0!.end + 1n) / 2n).toString() }));
      await putSome(step);
      const open = await openShards(kinesis);
      await kinesis.send(new MergeShardsCommand({ StreamName: 'fleet', ShardToMerge: open[2]!.id, AdjacentShardToMerge: open[3]!.id }));
      await putSome(step);
      await w2.stop(); // graceful: checkpoints and releases
      await putSome(step);
      // Killed once everything put so far was delivered and the child's checkpoints for it settled,
      // so the takeover after the kill checks that those checkpoints hold (little is redelivered);
      // test/chaos covers crashes at any moment.
      const quiet = Date.now() + 60_000;
      while ((ledger.unique < sent || childUncheckpointed.size > 0) && Date.now() < quiet) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGKILL'); // no checkpoint, no release: its leases expire after failover time
      await childExited;
      ledger.ended('w3', '*');
      await putSome(step);
      await Promise.all(puts);

      const deadline = Date.now() + 120_000;
      while (ledger.unique < RECORDS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ledger.unique).toBe(RECORDS);
      expect(ledger.violations).toEqual([]);
      // Duplicates come only from batches a worker had not checkpointed when it was killed or lost a
      // lease. How many depends on when a rebalancing steal lands (one aggregated page can hold tens
      // of thousands of records), so each one is accounted for instead of bounded.
      expect(ledger.unexplained()).toEqual([]);
      expect(w1.status().shards.every((s) => s.state !== 'waiting-on-parents' || s.blockedOn === undefined)).toBe(true);
    } finally {
      await producer.close();
      await w1.stop();
      await w2.stop();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await childExited;
      kinesis.destroy();
      await server.close();
    }
    expect(await leakedResources(before)).toEqual({});
  });
});
