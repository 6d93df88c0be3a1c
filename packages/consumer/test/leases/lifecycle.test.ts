import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { activeResources, InMemoryMetricsSink, isAbortError, leakedResources, ManualClock, systemClock } from '@kinesis-kit/core';
import {
  ConsumerConfigError,
  ConsumerErrorCode,
  CoordinatorStoppedError,
  LeaseCoordinator,
  LeaseTable,
  LeaseTableNotActiveError,
  LeaseTableNotFoundError,
  type TakerRunEvent,
} from '@kinesis-kit/consumer';
import { HAND_RUN_TAKER, makeClient, seedLeases, startDynalite, uniqueTableName, type DynaliteHandle } from './harness.js';

let dynalite: DynaliteHandle;

beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(async () => {
  await dynalite.close();
});

describe('LeaseCoordinator lifecycle', () => {
  it('start() and stop() are idempotent; stop before start is a no-op; start after stop rejects', async () => {
    const io = makeClient(dynalite.endpoint);
    const clock = new ManualClock();
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, applicationName: uniqueTableName('app'), workerId: 'w', clock });
    const idle = new LeaseCoordinator({ dynamoDbClient: io.client, applicationName: 'never-started', workerId: 'w', clock });
    await idle.stop();
    expect(idle.state).toBe('stopped');

    await Promise.all([c.start(), c.start()]);
    await c.start();
    expect(c.state).toBe('running');
    expect(io.counts.get('CreateTableCommand')).toBe(1);
    expect(clock.pendingTimers).toBe(2); // renewer + taker
    await Promise.all([c.stop(), c.stop()]);
    await c.stop();
    expect(c.state).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
    await expect(c.start()).rejects.toBeInstanceOf(CoordinatorStoppedError);
    await expect(c.runTakerOnce()).rejects.toBeInstanceOf(CoordinatorStoppedError);
    io.client.destroy();
  });

  it('leaves no open handles after stop (real timers, real sockets)', async () => {
    const before = activeResources();
    const io = makeClient(dynalite.endpoint);
    const tableName = uniqueTableName('handles');
    const c = new LeaseCoordinator({
      dynamoDbClient: io.client,
      tableName,
      workerId: 'w',
      clock: systemClock,
      takerInitialJitterMillis: 20,
    });
    await c.start();
    await seedLeases(new LeaseTable({ client: io.client, tableName }), 3);
    const firstPass = await c.next('takerRun');
    expect(firstPass.taken).toBeGreaterThan(0);
    await c.stop();
    io.client.destroy();
    expect(await leakedResources(before)).toEqual({});
  });

  it("a worker holding many leases takes, renews and releases them without Node's MaxListenersExceededWarning", async () => {
    // Every renewal (and every take waiting for a permit) listens on the coordinator's signal at once.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const io = makeClient(dynalite.endpoint);
    const tableName = uniqueTableName('many');
    const clock = new ManualClock();
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName, workerId: 'w', clock, ...HAND_RUN_TAKER });
    try {
      await c.start();
      await seedLeases(new LeaseTable({ client: io.client, tableName }), 40);
      for (let pass = 0; pass < 6 && c.heldLeases().length < 40; pass++) await c.runTakerOnce();
      expect(c.heldLeases()).toHaveLength(40);
      await clock.advance(5_000); // the renewer's timer pass, and more due for the one below
      const pass = await c.runRenewalOnce();
      expect(pass.renewed + pass.skipped).toBe(40);
      await c.stop();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      io.client.destroy();
    }
  });

  it('start() can be aborted while waiting for the table; nothing is left scheduled and start can be retried', async () => {
    const slow = await startDynalite({ createTableMs: 60_000 });
    const io = makeClient(slow.endpoint);
    const clock = new ManualClock();
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName: uniqueTableName('slow'), workerId: 'w', clock });
    const controller = new AbortController();
    const started = c.start(controller.signal);
    for (let i = 0; i < 50 && clock.pendingTimers === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(clock.pendingTimers).toBe(1); // the ACTIVE poll backoff
    controller.abort();
    const err = await started.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(c.state).toBe('new');
    await c.stop();
    io.client.destroy();
    await slow.close();
  });

  it('waits (polling with backoff) for a table that is still CREATING', async () => {
    const slow = await startDynalite({ createTableMs: 300 });
    const io = makeClient(slow.endpoint);
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName: uniqueTableName('creating'), workerId: 'w', clock: systemClock, takerInitialJitterMillis: 1 });
    const t0 = performance.now();
    await c.start();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(io.counts.get('DescribeTableCommand')).toBeGreaterThanOrEqual(3);
    await c.stop();
    io.client.destroy();
    await slow.close();
  });

  it('start() rejects with LeaseTableNotActiveError when the table is not ACTIVE within tableActiveTimeoutMillis', async () => {
    const slow = await startDynalite({ createTableMs: 5_000 });
    const io = makeClient(slow.endpoint);
    const tableName = uniqueTableName('never-active');
    // The first poll already finds the next wait beyond the 100 ms allowed: no clock needs to move.
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName, workerId: 'w', clock: new ManualClock(), tableActiveTimeoutMillis: 100 });
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseTableNotActiveError);
    expect(err).toMatchObject({ code: ConsumerErrorCode.LEASE_TABLE_NOT_ACTIVE, tableName, message: expect.stringContaining('status CREATING') });
    await c.stop();
    io.client.destroy();
    await slow.close();
  });
});

describe('stop racing in-flight work', () => {
  it('a stop during a taker pass and a renewal pass leaves no lease owned by the stopped worker', async () => {
    const io = makeClient(dynalite.endpoint);
    const clock = new ManualClock();
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName: uniqueTableName('race'), workerId: 'w', clock, maxFastTakerPasses: 0 });
    await c.start();
    await seedLeases(c.table, 16);
    for (let i = 0; i < 4; i++) await c.runTakerOnce();
    const held = c.heldLeases().length;
    expect(held).toBeGreaterThan(0);
    await clock.advance(2_000);
    const inFlight = [c.runTakerOnce().catch(() => undefined), c.runRenewalOnce().catch(() => undefined)];
    await c.stop();
    await Promise.all(inFlight);
    const owned = (await c.table.listLeases()).filter((l) => l.leaseOwner === 'w');
    expect(owned).toEqual([]);
    expect(c.heldLeases()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    io.client.destroy();
  });
});

describe('lease table set-up', () => {
  it('creates a PAY_PER_REQUEST table keyed by leaseKey (S) by default', async () => {
    const io = makeClient(dynalite.endpoint);
    const table = new LeaseTable({ client: io.client, tableName: uniqueTableName('ppr') });
    const first = await table.ensureTable();
    expect(first.created).toBe(true);
    // The description of the table as it became usable (what start() checks for the KCL 3.x index).
    expect(first.description).toMatchObject({ TableName: table.tableName, TableStatus: 'ACTIVE' });
    const d = (await io.client.send(new DescribeTableCommand({ TableName: table.tableName }))).Table!;
    expect(d.KeySchema).toEqual([{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
    expect(d.AttributeDefinitions).toEqual([{ AttributeName: 'leaseKey', AttributeType: 'S' }]);
    expect(d.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(await table.ensureTable()).toMatchObject({ created: false, description: { TableName: table.tableName, TableStatus: 'ACTIVE' } });
    io.client.destroy();
  });

  it('creates a PROVISIONED table with 10/10 capacity when asked', async () => {
    const io = makeClient(dynalite.endpoint);
    const c = new LeaseCoordinator({
      dynamoDbClient: io.client,
      tableName: uniqueTableName('prov'),
      workerId: 'w',
      clock: new ManualClock(),
      billingMode: 'PROVISIONED',
    });
    await c.start();
    const d = (await io.client.send(new DescribeTableCommand({ TableName: c.table.tableName }))).Table!;
    expect(d.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 10, WriteCapacityUnits: 10 });
    await c.stop();
    io.client.destroy();
  });

  it('uses a pre-created table without calling CreateTable', async () => {
    const io = makeClient(dynalite.endpoint);
    const tableName = uniqueTableName('iac');
    await io.client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const worker = makeClient(dynalite.endpoint);
    const c = new LeaseCoordinator({ dynamoDbClient: worker.client, tableName, workerId: 'w', clock: new ManualClock(), createTableIfMissing: false });
    await c.start();
    expect(worker.counts.get('CreateTableCommand')).toBeUndefined();
    await c.stop();
    io.client.destroy();
    worker.client.destroy();
  });

  it('fails with LeaseTableNotFoundError when the table is missing and creation is not allowed', async () => {
    const io = makeClient(dynalite.endpoint);
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName: uniqueTableName('missing'), workerId: 'w', clock: new ManualClock(), createTableIfMissing: false });
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseTableNotFoundError);
    expect(err).toMatchObject({ code: 'LEASE_TABLE_NOT_FOUND', retriable: false });
    expect(io.counts.get('CreateTableCommand')).toBeUndefined();
    io.client.destroy();
  });

  it('refuses a table that is not a KCL lease table', async () => {
    const io = makeClient(dynalite.endpoint);
    const tableName = uniqueTableName('other');
    await io.client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const table = new LeaseTable({ client: io.client, tableName });
    await expect(table.ensureTable()).rejects.toBeInstanceOf(ConsumerConfigError);
    io.client.destroy();
  });

  it('lists leases across Scan pages, creates only if absent, gets and deletes', async () => {
    const io = makeClient(dynalite.endpoint);
    const table = new LeaseTable({ client: io.client, tableName: uniqueTableName('pages'), scanPageSize: 5 });
    await table.ensureTable();
    await seedLeases(table, 12);
    await io.client.send(new PutItemCommand({ TableName: table.tableName, Item: { leaseKey: { S: 'Leader' }, entityType: { S: 'LEADER' } } }));
    const before = io.counts.get('ScanCommand') ?? 0;
    const leases = await table.listLeases();
    expect(leases).toHaveLength(12);
    expect((io.counts.get('ScanCommand') ?? 0) - before).toBeGreaterThanOrEqual(3);
    expect(await table.createLeaseIfNotExists({ leaseKey: leases[0]!.leaseKey, checkpoint: { sequenceNumber: 'LATEST' } })).toBe(false);
    expect((await table.getLease(leases[0]!.leaseKey))?.checkpoint?.sequenceNumber).toBe('TRIM_HORIZON');
    expect(await table.getLease('Leader')).toBeUndefined();
    await table.deleteLease(leases[0]!.leaseKey);
    expect(await table.getLease(leases[0]!.leaseKey)).toBeUndefined();
    expect(await table.listLeases()).toHaveLength(11);
    io.client.destroy();
  });
});

describe('events and metrics', () => {
  it('emit takerRun and KCL-named metrics with the Operation dimension', async () => {
    const io = makeClient(dynalite.endpoint);
    const metrics = new InMemoryMetricsSink();
    const clock = new ManualClock();
    const c = new LeaseCoordinator({ dynamoDbClient: io.client, tableName: uniqueTableName('metrics'), workerId: 'w1', clock, metrics });
    await c.start();
    await seedLeases(c.table, 4);
    const runs: TakerRunEvent[] = [];
    c.on('takerRun', (e) => void runs.push(e));
    await c.runTakerOnce();
    await clock.advance(2_000);
    await c.runRenewalOnce();
    expect(runs[0]).toMatchObject({ taken: 1, stolen: 0, failed: 0, target: 4, workers: 1, totalLeases: 4, availableLeases: 4, settled: false });
    const take = { Operation: 'TakeLeases', WorkerIdentifier: 'w1' };
    for (const name of ['ListLeases.Success', 'ListLeases.Time', 'TakeLease.Success', 'TakeLease.Time', 'NumWorkers', 'NeededLeases', 'LeasesToTake', 'TakenLeases', 'TotalLeases', 'ExpiredLeases', 'LeaseSpillover']) {
      expect(metrics.get(name, take).count, name).toBeGreaterThan(0);
    }
    expect(metrics.get('TotalLeases', take).max).toBe(4);
    const renew = { Operation: 'RenewAllLeases', WorkerIdentifier: 'w1' };
    for (const name of ['RenewLease.Success', 'RenewLease.Time', 'CurrentLeases', 'LostLeases']) {
      expect(metrics.get(name, renew).count, name).toBeGreaterThan(0);
    }
    await c.stop();
    io.client.destroy();
  });
});
