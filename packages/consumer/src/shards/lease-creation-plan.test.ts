import { describe, expect, it } from 'vitest';
import type { NewLease } from '../leases/lease.js';
import { planLeaseCreation, type InitialPositionSentinel, type LeaseCreationInput } from './lease-creation-plan.js';
import type { ShardInfo } from './shard-lister.js';

/** A shard `shardId-<n>`; `end` closes it. The hash range is derived from the id so it can be checked. */
function shard(n: number, parents: number[], start: string, end?: string): ShardInfo {
  return {
    shardId: id(n),
    parentShardIds: parents.map(id),
    hashKeyRange: { startingHashKey: String(n * 100), endingHashKey: String(n * 100 + 99) },
    startingSequenceNumber: start,
    ...(end !== undefined ? { endingSequenceNumber: end } : {}),
  };
}

function id(n: number): string {
  return `shardId-${String(n).padStart(12, '0')}`;
}

type Leases = LeaseCreationInput['leases'];

/** Leases by shard number: a checkpoint string ('SHARD_END', a sequence number, ...) or undefined (no checkpoint). */
function leases(entries: Record<number, string | undefined>): Leases {
  return new Map(Object.entries(entries).map(([n, seq]) => [id(Number(n)), seq === undefined ? {} : { checkpoint: { sequenceNumber: seq } }]));
}

const none: Leases = new Map();

/** [shard number, checkpoint] pairs, in plan order. */
function summary(plan: NewLease[]): [string, string][] {
  return plan.map((l) => [l.leaseKey, l.checkpoint.sequenceNumber]);
}

function at(position: string, ...ns: number[]): [string, string][] {
  return ns.map((n) => [id(n), position]);
}

const positions: InitialPositionSentinel[] = ['LATEST', 'TRIM_HORIZON', 'AT_TIMESTAMP'];

describe('planLeaseCreation: empty lease table', () => {
  // 0 splits into 1 and 2 (open); 3 and 4 merge into 5 (open); 6 is open with no parents.
  const shards = [
    shard(0, [], '100', '199'),
    shard(1, [0], '200'),
    shard(2, [0], '201'),
    shard(3, [], '101', '198'),
    shard(4, [], '102', '197'),
    shard(5, [3, 4], '202'),
    shard(6, [], '103'),
  ];

  it('LATEST: a lease per open shard only, at LATEST, with parents and hash range written', () => {
    const plan = planLeaseCreation({ shards, leases: none, initialPosition: 'LATEST' });
    expect(summary(plan)).toEqual(at('LATEST', 6, 1, 2, 5));
    expect(plan.find((l) => l.leaseKey === id(5))).toEqual({
      leaseKey: id(5),
      checkpoint: { sequenceNumber: 'LATEST', subSequenceNumber: 0 },
      parentShardIds: [id(3), id(4)],
      hashKeyRange: { startingHashKey: '500', endingHashKey: '599' },
    });
    expect(plan.find((l) => l.leaseKey === id(6))?.parentShardIds).toEqual([]);
  });

  it('TRIM_HORIZON: open shards and all their listed ancestors, parents first, shared ancestors once', () => {
    const plan = planLeaseCreation({ shards, leases: none, initialPosition: 'TRIM_HORIZON' });
    // Sorted by starting sequence number: 0 (100), 3 (101), 4 (102), 6 (103), 1 (200), 2 (201), 5 (202).
    expect(summary(plan)).toEqual(at('TRIM_HORIZON', 0, 3, 4, 6, 1, 2, 5));
    expect(plan.every((l) => l.checkpoint.subSequenceNumber === 0)).toBe(true);
    expect(plan.find((l) => l.leaseKey === id(0))).toMatchObject({ parentShardIds: [], hashKeyRange: { startingHashKey: '0', endingHashKey: '99' } });
    expect(plan.find((l) => l.leaseKey === id(2))?.parentShardIds).toEqual([id(0)]);
  });

  it('AT_TIMESTAMP: the same leases as TRIM_HORIZON, at AT_TIMESTAMP', () => {
    const plan = planLeaseCreation({ shards, leases: none, initialPosition: 'AT_TIMESTAMP' });
    expect(summary(plan)).toEqual(at('AT_TIMESTAMP', 0, 3, 4, 6, 1, 2, 5));
  });

  it('orders by the numeric value of the starting sequence number (not string order), then by shard id', () => {
    const s = [shard(2, [1], '1000'), shard(1, [0], '999', '1999'), shard(0, [], '99', '998'), shard(4, [], '99'), shard(3, [], '99')];
    const plan = planLeaseCreation({ shards: s, leases: none, initialPosition: 'TRIM_HORIZON' });
    expect(plan.map((l) => l.leaseKey)).toEqual([id(0), id(3), id(4), id(1), id(2)]);
  });

  it('walks a deep lineage and stops where the listing was trimmed', () => {
    // 10 (not listed: past retention) -> 11 -> 12 -> 13 (open).
    const s = [shard(13, [12], '400'), shard(12, [11], '300', '399'), shard(11, [10], '200', '299')];
    expect(summary(planLeaseCreation({ shards: s, leases: none, initialPosition: 'TRIM_HORIZON' }))).toEqual(at('TRIM_HORIZON', 11, 12, 13));
    const plan = planLeaseCreation({ shards: s, leases: none, initialPosition: 'LATEST' });
    expect(summary(plan)).toEqual(at('LATEST', 13));
    // The trimmed parent is still named: a missing parent lease counts as finished at run time.
    expect(planLeaseCreation({ shards: s.slice(0, 1), leases: none, initialPosition: 'TRIM_HORIZON' })[0]).toMatchObject({
      leaseKey: id(13),
      parentShardIds: [id(12)],
    });
  });

  it('creates nothing for an empty listing', () => {
    for (const initialPosition of positions) expect(planLeaseCreation({ shards: [], leases: none, initialPosition })).toEqual([]);
  });

  it('a filtered listing of a stream resharded since: the closed shards listed get leases at TRIM_HORIZON / AT_TIMESTAMP, as the KCL does', () => {
    // ListShards with AT_TRIM_HORIZON lists the shards open at the trim horizon: 0 and 3, both closed since.
    const listed = [shard(3, [], '101', '198'), shard(0, [], '100', '199')];
    for (const initialPosition of ['TRIM_HORIZON', 'AT_TIMESTAMP'] as const) {
      expect(summary(planLeaseCreation({ shards: listed, leases: none, initialPosition, emptyTable: true }))).toEqual(at(initialPosition, 0, 3));
    }
    // AT_LATEST lists open shards only; a closed one there is not read from LATEST.
    expect(planLeaseCreation({ shards: listed, leases: none, initialPosition: 'LATEST', emptyTable: true })).toEqual([]);
  });

  it('an unfiltered listing of an empty table plans the same leases either way (every closed shard is an open one\'s ancestor)', () => {
    for (const initialPosition of positions) {
      expect(planLeaseCreation({ shards, leases: none, initialPosition, emptyTable: true })).toEqual(planLeaseCreation({ shards, leases: none, initialPosition }));
    }
  });
});

describe('planLeaseCreation: non-empty lease table', () => {
  // 0 -> {1, 2}: a split; 1 and 2 open.
  const split = [shard(0, [], '100', '199'), shard(1, [0], '200'), shard(2, [0], '201')];

  it('creates nothing for the children of a parent still being processed (its end creates them)', () => {
    for (const initialPosition of positions) {
      expect(planLeaseCreation({ shards: split, leases: leases({ 0: '150' }), initialPosition })).toEqual([]);
      expect(planLeaseCreation({ shards: split, leases: leases({ 0: 'TRIM_HORIZON' }), initialPosition })).toEqual([]);
      expect(planLeaseCreation({ shards: split, leases: leases({ 0: undefined }), initialPosition })).toEqual([]);
    }
  });

  it('parent finished but a child lease missing (a gap): the child at TRIM_HORIZON, whatever the initial position', () => {
    for (const initialPosition of positions) {
      const plan = planLeaseCreation({ shards: split, leases: leases({ 0: 'SHARD_END', 1: '250' }), initialPosition });
      expect(plan).toEqual([
        {
          leaseKey: id(2),
          checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
          parentShardIds: [id(0)],
          hashKeyRange: { startingHashKey: '200', endingHashKey: '299' },
        },
      ]);
    }
  });

  it('never creates a lease for a shard that has one', () => {
    expect(planLeaseCreation({ shards: split, leases: leases({ 0: 'SHARD_END', 1: '250', 2: 'LATEST' }), initialPosition: 'TRIM_HORIZON' })).toEqual([]);
    expect(planLeaseCreation({ shards: split, leases: leases({ 1: '250', 2: '251' }), initialPosition: 'TRIM_HORIZON' })).toEqual([]);
  });

  it('a finished grandparent: the unleased intermediate parent and the child, parents first, at TRIM_HORIZON', () => {
    // 0 (leased, ended) -> 1 (closed, no lease) -> 3 (open), and 0 -> 2 (open, leased).
    const s = [shard(0, [], '100', '199'), shard(3, [1], '300'), shard(1, [0], '200', '299'), shard(2, [0], '201')];
    const plan = planLeaseCreation({ shards: s, leases: leases({ 0: 'SHARD_END', 2: '250' }), initialPosition: 'LATEST' });
    expect(summary(plan)).toEqual(at('TRIM_HORIZON', 1, 3));
    expect(plan.map((l) => l.parentShardIds)).toEqual([[id(0)], [id(1)]]);
    // With the grandparent still running, nothing yet.
    expect(planLeaseCreation({ shards: s, leases: leases({ 0: '150', 2: '250' }), initialPosition: 'TRIM_HORIZON' })).toEqual([]);
  });

  it('a merge child with one finished, leased parent and one unleased parent: the unleased parent and the child', () => {
    // 0 and 1 merge into 2; 1 has no lease (and its own parent was trimmed).
    const s = [shard(0, [], '100', '199'), shard(1, [9], '101', '198'), shard(2, [0, 1], '200')];
    for (const initialPosition of positions) {
      const plan = planLeaseCreation({ shards: s, leases: leases({ 0: 'SHARD_END' }), initialPosition });
      expect(summary(plan)).toEqual(at('TRIM_HORIZON', 1, 2));
      expect(plan[1]!.parentShardIds).toEqual([id(0), id(1)]);
      // The leased parent still running: it creates the child (and the audit the other parent) later.
      expect(planLeaseCreation({ shards: s, leases: leases({ 0: '150' }), initialPosition })).toEqual([]);
    }
  });

  it('a merge child waits until both leased parents are at SHARD_END', () => {
    const s = [shard(0, [], '100', '199'), shard(1, [], '101', '198'), shard(2, [0, 1], '200')];
    expect(planLeaseCreation({ shards: s, leases: leases({ 0: 'SHARD_END', 1: '150' }), initialPosition: 'TRIM_HORIZON' })).toEqual([]);
    expect(planLeaseCreation({ shards: s, leases: leases({ 0: '150', 1: 'SHARD_END' }), initialPosition: 'TRIM_HORIZON' })).toEqual([]);
    expect(summary(planLeaseCreation({ shards: s, leases: leases({ 0: 'SHARD_END', 1: 'SHARD_END' }), initialPosition: 'LATEST' }))).toEqual(
      at('TRIM_HORIZON', 2),
    );
  });

  it('closed shards never get a lease on their own', () => {
    // 0 -> 1 (closed) -> 2 (open, leased): 0 and 1 have no lease and no open unleased descendant.
    const s = [shard(0, [], '100', '199'), shard(1, [0], '200', '299'), shard(2, [1], '300')];
    for (const initialPosition of positions) {
      expect(planLeaseCreation({ shards: s, leases: leases({ 2: '350' }), initialPosition })).toEqual([]);
      // Outside an empty table's first listing, a closed shard alone (its children not listed yet) gets nothing either.
      expect(planLeaseCreation({ shards: [shard(7, [], '100', '199')], leases: none, initialPosition })).toEqual([]);
    }
  });

  it('a new lineage (no leased ancestor) starts at the initial position', () => {
    // The table knows 0 (still running); 5 is a new open shard whose listed ancestor 4 has no lease.
    const s = [shard(0, [], '100'), shard(4, [], '101', '199'), shard(5, [4], '200')];
    const known = leases({ 0: '150' });
    expect(summary(planLeaseCreation({ shards: s, leases: known, initialPosition: 'LATEST' }))).toEqual(at('LATEST', 5));
    expect(summary(planLeaseCreation({ shards: s, leases: known, initialPosition: 'TRIM_HORIZON' }))).toEqual(at('TRIM_HORIZON', 4, 5));
    expect(summary(planLeaseCreation({ shards: s, leases: known, initialPosition: 'AT_TIMESTAMP' }))).toEqual(at('AT_TIMESTAMP', 4, 5));
  });

  it('no duplicates when two open shards share unleased ancestors; TRIM_HORIZON wins over the start position', () => {
    // 0 (no lease) splits into 1 and 2 (closed, no lease). 1 merges with 3 (leased, ended) into 4 (open);
    // 2 splits into 5 and 6 (open). 4's lineage has a finished lease (TRIM_HORIZON); 5 and 6 are a new lineage.
    const s = [
      shard(0, [], '100', '199'),
      shard(3, [], '101', '198'),
      shard(1, [0], '200', '299'),
      shard(2, [0], '201', '298'),
      shard(4, [1, 3], '300'),
      shard(5, [2], '301'),
      shard(6, [2], '302'),
    ];
    const known = leases({ 3: 'SHARD_END' });
    for (const order of [s, [...s].reverse()]) {
      const plan = planLeaseCreation({ shards: order, leases: known, initialPosition: 'AT_TIMESTAMP' });
      expect(summary(plan)).toEqual([
        [id(0), 'TRIM_HORIZON'],
        [id(1), 'TRIM_HORIZON'],
        [id(2), 'AT_TIMESTAMP'],
        [id(4), 'TRIM_HORIZON'],
        [id(5), 'AT_TIMESTAMP'],
        [id(6), 'AT_TIMESTAMP'],
      ]);
      expect(new Set(plan.map((l) => l.leaseKey)).size).toBe(plan.length);
    }
  });
});

describe('planLeaseCreation: the KCL javadoc example (HierarchicalShardSyncer)', () => {
  // 0 1 2 3 4   5   - shards till epoch 102
  //  \ / \ / |   |
  //   6   7  4   5   - shards from epoch 103 - 205
  //    \ /   |  / \
  //     8    4 9  10 - shards from epoch 206 (open)
  const graph = [
    shard(0, [], '1000', '1999'),
    shard(1, [], '1001', '1998'),
    shard(2, [], '1002', '1997'),
    shard(3, [], '1003', '1996'),
    shard(4, [], '1004'),
    shard(5, [], '1005', '2999'),
    shard(6, [0, 1], '2000', '2998'),
    shard(7, [2, 3], '2001', '2997'),
    shard(8, [6, 7], '3000'),
    shard(9, [5], '3001'),
    shard(10, [5], '3002'),
  ];

  it('leases {4, 5, 7} still being processed: nothing now, whatever the initial position', () => {
    // The KCL would create {6} (LATEST) or {0, 1} (TRIM_HORIZON, AT_TIMESTAMP) right away; here the
    // children of 5 and 7 come at their ends, and 0, 1, 6 with 8 once 7 has finished (next test).
    for (const initialPosition of positions) {
      expect(planLeaseCreation({ shards: graph, leases: leases({ 4: '1500', 5: '2500', 7: '2500' }), initialPosition })).toEqual([]);
    }
  });

  it('7 finished, 5 still running: 8 and its unleased lineage 0, 1, 6 at TRIM_HORIZON, parents first', () => {
    for (const initialPosition of positions) {
      const plan = planLeaseCreation({ shards: graph, leases: leases({ 4: '1500', 5: '2500', 7: 'SHARD_END' }), initialPosition });
      expect(summary(plan)).toEqual(at('TRIM_HORIZON', 0, 1, 6, 8));
      expect(plan.find((l) => l.leaseKey === id(8))?.parentShardIds).toEqual([id(6), id(7)]);
    }
  });

  it('5 and 7 finished: also the children 9 and 10 of 5', () => {
    const plan = planLeaseCreation({ shards: graph, leases: leases({ 4: '1500', 5: 'SHARD_END', 7: 'SHARD_END' }), initialPosition: 'LATEST' });
    expect(summary(plan)).toEqual(at('TRIM_HORIZON', 0, 1, 6, 8, 9, 10));
  });

  it('on an empty table the same graph gives the open shards (LATEST) or every shard (TRIM_HORIZON)', () => {
    expect(summary(planLeaseCreation({ shards: graph, leases: none, initialPosition: 'LATEST' }))).toEqual(at('LATEST', 4, 8, 9, 10));
    expect(summary(planLeaseCreation({ shards: graph, leases: none, initialPosition: 'TRIM_HORIZON' }))).toEqual(
      at('TRIM_HORIZON', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    );
  });
});
