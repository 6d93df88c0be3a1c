/**
 * The consumer's end-to-end test (issue: consumer part 2): producer -> mock (limits on, DynamoDB on
 * the same endpoint) -> three workers, one of them a separate process. A split and a merge happen
 * mid-stream, one worker stops gracefully and the process is killed with SIGKILL (its leases
 * expire). Every acknowledged record must be processed, per-key order kept across parents and
 * children, and duplicates only where the kill explains them.
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
// Long enough that an event-loop stall under full-suite load does not cost a worker its leases (a
// steal redelivers the victim's unchecked batch, which can be tens of thousands of records); the
// kill -9 is the only takeover the duplicate bound below is meant to explain.
const FAILOVER = 5_000;

class Ledger {
  private readonly seen = new Map<string, Set<number>>();
  private readonly highest = new Map<string, number>();
  deliveries = 0;
  duplicates = 0;
  violations: string[] = [];

  add(item: string): void {
    const [key, nText] = item.split('#') as [string, string];
    const n = Number(nText);
    this.deliveries++;
    let set = this.seen.get(key);
    if (!set) this.seen.set(key, (set = new Set()));
    if (set.has(n)) {
      this.duplicates++;
      return;
    }
    set.add(n);
    const high = this.highest.get(key) ?? -1;
    if (n < high && this.violations.length < 10) this.violations.push(`${key}: ${n} after ${high}`);
    this.highest.set(key, Math.max(high, n));
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
        eachBatch: ({ records }) => {
          for (const r of records) ledger.add(Buffer.from(r.data).toString('utf8'));
        },
      });
    const w1 = inProcess('w1');
    const w2 = inProcess('w2');
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
          for (const item of items) ledger.add(item);
        } else if (line.startsWith('C ')) childUncheckpointed.delete(line.slice(2));
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
      // Killed once everything put so far was delivered and the child's checkpoints for it settled:
      // what is redelivered then stays within the bound below. Killing it mid-backlog, or before the
      // checkpoint of its last batch, made the bound depend on page sizes (one GetRecords page of
      // aggregated records can hold tens of thousands of user records: 23,706 and 25,328 duplicates
      // were seen under full-suite load); test/chaos covers crashes at any moment.
      const quiet = Date.now() + 60_000;
      while ((ledger.unique < sent || childUncheckpointed.size > 0) && Date.now() < quiet) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGKILL'); // no checkpoint, no release: its leases expire after failover time
      await childExited;
      await putSome(step);
      await Promise.all(puts);

      const deadline = Date.now() + 120_000;
      while (ledger.unique < RECORDS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ledger.unique).toBe(RECORDS);
      expect(ledger.violations).toEqual([]);
      // Duplicates come only from batches a worker had not checkpointed when it was killed or lost a lease.
      expect(ledger.duplicates).toBeLessThan(RECORDS / 10);
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
