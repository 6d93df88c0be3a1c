import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../src/capturing-logger.test-helpers.js';
import { type Fleet, type FleetWorker, seedLeases, useFleetPerTest } from './harness.js';

/**
 * The taker and multi-stream KCL leases (keys `account:stream:creationEpoch:shardId`, kcl.md 1.3):
 * they belong to a multi-stream application, which kinesis-kit is not, so they are never taken,
 * stolen or counted (KinesisConsumer.start() refuses such a table; these are the leases that
 * appear after start, or a LeaseCoordinator used on its own), with one warning.
 */
type Item = Record<string, AttributeValue>;

const newFleet = useFleetPerTest();
let fleet: Fleet;

const STREAM = '123456789012:orders:1700000000';
const multiKey = (i: number): string => `${STREAM}:shardId-${String(i).padStart(12, '0')}`;

function multiStreamItem(i: number, owner?: string): Item {
  return {
    leaseKey: { S: multiKey(i) },
    ...(owner !== undefined ? { leaseOwner: { S: owner } } : {}),
    leaseCounter: { N: '17' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: 'TRIM_HORIZON' },
    checkpointSubSequenceNumber: { N: '0' },
    streamName: { S: STREAM },
    shardId: { S: `shardId-${String(i).padStart(12, '0')}` },
  };
}

async function put(item: Item): Promise<void> {
  await fleet.admin.client.send(new PutItemCommand({ TableName: fleet.tableName, Item: item }));
}

async function rawGet(key: string): Promise<Item | undefined> {
  const out = await fleet.admin.client.send(new GetItemCommand({ TableName: fleet.tableName, Key: { leaseKey: { S: key } }, ConsistentRead: true }));
  return out.Item;
}

const multiStreamWarnings = (warnings: readonly string[]): string[] => warnings.filter((w) => w.includes('multi-stream'));

async function passes(w: FleetWorker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await w.coordinator.runTakerOnce();
}

const heldKeys = (w: FleetWorker): string[] => w.coordinator.heldLeases().map((h) => h.leaseKey).sort();

describe('multi-stream KCL leases in the table (taker on dynalite)', () => {
  it('are neither taken (unowned or expired) nor stolen, and count neither as leases nor their owner as a worker', async () => {
    fleet = newFleet('ms');
    await fleet.table.ensureTable();
    const single = await seedLeases(fleet.table, 2);
    const multi: Item[] = [multiStreamItem(0), multiStreamItem(1, 'java-ms-worker'), multiStreamItem(2, 'java-ms-worker'), multiStreamItem(3, 'java-ms-worker')];
    for (const item of multi) await put(item);

    const { logger, warnings } = capturingLogger();
    const w = fleet.addWorker('ts-worker', { logger, maxLeasesForWorker: 2 });
    await w.coordinator.start();
    const first = await w.coordinator.runTakerOnce();
    // Counted, the KCL worker's three live leases would make two workers and six leases (a target of 3).
    expect({ totalLeases: first.totalLeases, workers: first.workers, target: first.target }).toEqual({ totalLeases: 2, workers: 1, target: 2 });
    await passes(w, 5);
    expect(heldKeys(w)).toEqual(single);

    // The KCL worker's counters stand still past the failover time: still not taken as expired.
    await fleet.advance(12_000, 200);
    await passes(w, 5);
    expect(heldKeys(w)).toEqual(single);
    for (const item of multi) expect(await rawGet(item.leaseKey!.S!)).toEqual(item);
    expect(multiStreamWarnings(warnings)).toHaveLength(1);
  });

  it('one written after start (a KCL multi-stream worker on the same table) is ignored, with one warning', async () => {
    fleet = newFleet('ms-later');
    await fleet.table.ensureTable();
    const single = await seedLeases(fleet.table, 2);
    const { logger, warnings } = capturingLogger();
    const w = fleet.addWorker('ts-worker', { logger });
    await w.coordinator.start();
    await passes(w, 3);
    expect(heldKeys(w)).toEqual(single);
    expect(multiStreamWarnings(warnings)).toEqual([]);

    const item = multiStreamItem(7);
    await put(item);
    const after = await w.coordinator.runTakerOnce();
    expect({ taken: after.taken, totalLeases: after.totalLeases }).toEqual({ taken: 0, totalLeases: 2 });
    await passes(w, 3);
    await fleet.advance(3_000, 200); // renewals and timer passes too
    expect(heldKeys(w)).toEqual(single);
    expect(await rawGet(multiKey(7))).toEqual(item);
    expect(multiStreamWarnings(warnings)).toHaveLength(1);
  });
});
