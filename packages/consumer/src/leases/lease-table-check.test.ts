import { describe, expect, it } from 'vitest';
import { findLeaseProblems, planLeaseRepair } from './lease-table-check.js';
import type { LeaseItem } from './lease-serializer.js';

const SEQ = '49590338271490256608559692538361571095921575989136588898';
const healthy: LeaseItem = {
  leaseKey: { S: 'shardId-000000000000' },
  leaseCounter: { N: '7' },
  leaseOwner: { S: 'w1' },
  checkpoint: { S: SEQ },
  checkpointSubSequenceNumber: { N: '3' },
};

describe('findLeaseProblems', () => {
  it('finds nothing in healthy leases, sentinels or rows that are not leases', () => {
    expect(findLeaseProblems(healthy)).toEqual([]);
    for (const sentinel of ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END']) {
      expect(findLeaseProblems({ ...healthy, checkpoint: { S: sentinel } })).toEqual([]);
    }
    expect(findLeaseProblems({ leaseKey: { S: 'worker-1' }, entityType: { S: 'WORKER_METRIC_STATS' } })).toEqual([]);
    expect(findLeaseProblems({ ...healthy, leaseCounter: { N: '7.0' } })).toEqual([]); // the KCL reads it as 7
  });

  it('names each unusable attribute with the value found', () => {
    const problems = findLeaseProblems({
      ...healthy,
      leaseCounter: { S: 'seven' },
      checkpoint: { S: 'shard-end' },
      pendingCheckpoint: { N: '12' },
    });
    expect(problems.map((p) => p.kind)).toEqual(['bad-lease-counter', 'bad-checkpoint', 'bad-pending-checkpoint']);
    expect(problems[0]!.detail).toContain('S "seven"');
    expect(problems[1]!.detail).toContain('S "shard-end"');
    expect(problems[2]!.detail).toContain('N "12"');
    expect(findLeaseProblems({ ...healthy, leaseCounter: undefined as never }).map((p) => p.kind)).toEqual(['bad-lease-counter']);
  });
});

describe('planLeaseRepair', () => {
  it('plans nothing for a healthy lease', () => {
    expect(planLeaseRepair(healthy)).toBeUndefined();
  });

  it('a bad counter becomes 1 and the owner is removed, conditioned on the values read', () => {
    const repair = planLeaseRepair({ ...healthy, leaseCounter: { S: 'x' } })!;
    expect(repair.set).toEqual({ leaseCounter: { N: '1' } });
    expect(repair.expected).toEqual({ leaseCounter: { S: 'x' }, leaseOwner: { S: 'w1' } });
    expect(repair.remove).toEqual(['leaseOwner']);
    expect(repair.description).toBe('leaseCounter set to 1; owner w1 removed (free to take)');
    const unowned = planLeaseRepair({ leaseKey: { S: 'shardId-000000000001' }, checkpoint: { S: 'TRIM_HORIZON' } })!;
    expect(unowned.expected).toEqual({ leaseCounter: undefined, leaseOwner: undefined });
    expect(unowned.remove).toEqual([]);
  });

  it('a bad checkpoint is reset, the pending checkpoint dropped and the owner fenced by the counter', () => {
    const item: LeaseItem = { ...healthy, checkpoint: { S: 'oops' }, pendingCheckpoint: { S: SEQ }, pendingCheckpointSubSequenceNumber: { N: '0' } };
    const repair = planLeaseRepair(item, 'LATEST')!;
    expect(repair.set).toEqual({ leaseCounter: { N: '8' }, checkpoint: { S: 'LATEST' }, checkpointSubSequenceNumber: { N: '0' } });
    expect(repair.remove.sort()).toEqual(['leaseOwner', 'pendingCheckpoint', 'pendingCheckpointSubSequenceNumber']);
    expect(repair.expected).toEqual({
      leaseCounter: { N: '7' },
      leaseOwner: { S: 'w1' },
      checkpoint: { S: 'oops' },
      checkpointSubSequenceNumber: { N: '3' },
      pendingCheckpoint: { S: SEQ },
      pendingCheckpointSubSequenceNumber: { N: '0' },
      pendingCheckpointState: undefined,
    });
    expect(repair.description).toBe('leaseCounter 7 -> 8; owner w1 removed (free to take); checkpoint reset to LATEST; pending checkpoint removed');
  });

  it('defaults to TRIM_HORIZON (nothing skipped) and keeps a good checkpoint when only the pending one is bad', () => {
    expect(planLeaseRepair({ ...healthy, checkpoint: { N: '5' } })!.set.checkpoint).toEqual({ S: 'TRIM_HORIZON' });
    const repair = planLeaseRepair({ ...healthy, pendingCheckpoint: { S: '' } })!;
    expect(repair.set).toEqual({ leaseCounter: { N: '8' } });
    expect(repair.remove).toEqual(['leaseOwner', 'pendingCheckpoint']);
  });
});
