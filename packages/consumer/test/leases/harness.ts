/**
 * Test harness for lease tests: dynalite in-process, real @aws-sdk/client-dynamodb clients with a
 * middleware that counts requests (and can inject faults), and a fleet of coordinators on one
 * ManualClock that advances in small steps, letting real I/O finish between steps.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { ManualClock, seededRandom } from '@kinesis-kit/core';
import { LeaseCoordinator, LeaseTable, type LeaseCoordinatorOptions } from '@kinesis-kit/consumer';
import { startStandaloneDynamoDb, type StandaloneDynamoDb } from '@kinesis-kit/mock';

/** dynalite on a loopback port (the mock package's standalone DynamoDB). */
export { startStandaloneDynamoDb as startDynalite, type StandaloneDynamoDb as DynaliteHandle } from '@kinesis-kit/mock';

/** Decides per request whether to fail it: return an error to throw instead of sending. */
export type FaultHook = (commandName: string, input: Record<string, unknown>) => Error | undefined;

export interface HarnessClient {
  client: DynamoDBClient;
  /** Requests sent, by command name (e.g. UpdateItemCommand). */
  counts: Map<string, number>;
  inFlight(): number;
  total(): number;
  setFault(hook: FaultHook | undefined): void;
}

export function makeClient(endpoint: string): HarnessClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  const counts = new Map<string, number>();
  let inFlight = 0;
  let fault: FaultHook | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? 'unknown');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      inFlight += 1;
      try {
        const injected = fault?.(name, args.input as Record<string, unknown>);
        if (injected) throw injected;
        return await next(args);
      } finally {
        inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'leaseTestHarness', priority: 'high' },
  );
  return {
    client,
    counts,
    inFlight: () => inFlight,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    setFault: (hook) => {
      fault = hook;
    },
  };
}

export function throttled(): Error {
  return new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: { httpStatusCode: 400 } });
}

/** Waits until no request is in flight on any client for a few event-loop turns. */
export async function quiesce(clients: readonly HarnessClient[], turns = 3): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 100_000 && quiet < turns; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (clients.every((c) => c.inFlight() === 0)) quiet += 1;
    else {
      quiet = 0;
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }
}

export interface FleetWorker {
  id: string;
  coordinator: LeaseCoordinator;
  io: HarnessClient;
}

/** Several coordinators over one table and one ManualClock. */
export class Fleet {
  readonly clock = new ManualClock();
  readonly workers: FleetWorker[] = [];
  readonly admin: HarnessClient;
  readonly table: LeaseTable;
  private seed = 1;

  constructor(
    readonly endpoint: string,
    readonly tableName: string,
  ) {
    this.admin = makeClient(endpoint);
    this.table = new LeaseTable({ client: this.admin.client, tableName, clock: this.clock });
  }

  addWorker(id: string, options: Partial<LeaseCoordinatorOptions> = {}): FleetWorker {
    const io = makeClient(this.endpoint);
    const coordinator = new LeaseCoordinator({
      dynamoDbClient: io.client,
      tableName: this.tableName,
      workerId: id,
      clock: this.clock,
      random: seededRandom(this.seed++),
      ...options,
    });
    const worker = { id, coordinator, io };
    this.workers.push(worker);
    return worker;
  }

  clients(): HarnessClient[] {
    return [this.admin, ...this.workers.map((w) => w.io)];
  }

  quiesce(): Promise<void> {
    return quiesce(this.clients());
  }

  /** Advances simulated time in steps, letting real DynamoDB I/O finish after each step. */
  async advance(ms: number, step = 100): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      await this.clock.advance(Math.min(step, ms - done));
      await this.quiesce();
    }
  }

  /** Leases held per worker (in memory), in worker order. */
  heldCounts(workers: readonly FleetWorker[] = this.workers): number[] {
    return workers.map((w) => w.coordinator.heldLeases().length);
  }

  /** Owners as the table shows them: leaseKey -> owner. */
  async owners(): Promise<Map<string, string | undefined>> {
    const leases = await this.table.listLeases();
    return new Map(leases.map((l) => [l.leaseKey, l.leaseOwner]));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.coordinator.stop({ releaseLeases: false })));
  }

  destroy(): void {
    for (const c of this.clients()) c.client.destroy();
  }
}

/**
 * Coordinator options for tests that run taker passes only by hand (runTakerOnce): the timer's
 * first pass and every pass after one are a long way off.
 */
export const HAND_RUN_TAKER = { takerInitialJitterMillis: 1e9, fastTakerIntervalMillis: 1e9, takerIntervalMillis: 1e9 } as const;

export function shardId(i: number): string {
  return `shardId-${String(i).padStart(12, '0')}`;
}

/** Creates `count` unowned TRIM_HORIZON leases. */
export async function seedLeases(table: LeaseTable, count: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const leaseKey = shardId(i);
    keys.push(leaseKey);
    await table.createLeaseIfNotExists({ leaseKey, checkpoint: { sequenceNumber: 'TRIM_HORIZON' } });
  }
  return keys;
}

let tableSeq = 0;
/** A fresh table name per test (one dynalite per file). */
export function uniqueTableName(prefix = 'leases'): string {
  tableSeq += 1;
  return `${prefix}-${process.pid}-${tableSeq}`;
}

/**
 * The hooks of a lease test file: one dynalite for the whole file, and after each test the fleet it
 * made with the returned function stopped and destroyed.
 */
export function useFleetPerTest(): (tablePrefix?: string) => Fleet {
  let dynalite: StandaloneDynamoDb | undefined;
  let fleet: Fleet | undefined;
  beforeAll(async () => {
    dynalite = await startStandaloneDynamoDb();
  });
  afterAll(async () => {
    await dynalite?.close();
  });
  afterEach(async () => {
    const done = fleet;
    fleet = undefined;
    if (done) {
      await done.stopAll();
      done.destroy();
    }
  });
  return (tablePrefix) => (fleet = new Fleet(dynalite!.endpoint, uniqueTableName(tablePrefix)));
}
