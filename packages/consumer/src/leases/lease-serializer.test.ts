import { describe, expect, it } from 'vitest';
import { decodeLeaseItem, encodeNewLease, type LeaseItem } from './lease-serializer.js';

describe('decodeLeaseItem', () => {
  it('skips items whose entityType is present and not LEASE; accepts LEASE and no entityType', () => {
    const base: LeaseItem = { leaseKey: { S: 'k' }, leaseCounter: { N: '1' }, checkpoint: { S: 'LATEST' } };
    for (const entityType of ['LEADER', 'STREAM', 'WORKER_METRIC_STATS', 'CLIENT_VERSION_MIGRATION', 'TABLE_MIGRATION']) {
      expect(decodeLeaseItem({ ...base, entityType: { S: entityType } })).toMatchObject({ skipped: 'not-a-lease' });
    }
    expect(decodeLeaseItem({ ...base, entityType: { N: '1' } })).toMatchObject({ skipped: 'not-a-lease' });
    expect(decodeLeaseItem({ ...base, entityType: { S: 'LEASE' } })).toHaveProperty('lease');
    expect(decodeLeaseItem(base)).toHaveProperty('lease');
  });

  it('reports items without a key or an integer counter as malformed', () => {
    expect(decodeLeaseItem({ leaseCounter: { N: '1' } })).toMatchObject({ skipped: 'malformed' });
    expect(decodeLeaseItem({ leaseKey: { S: 'k' } })).toMatchObject({ skipped: 'malformed' });
    expect(decodeLeaseItem({ leaseKey: { S: 'k' }, leaseCounter: { N: '1.5' } })).toMatchObject({ skipped: 'malformed' });
  });

  it('keeps counters beyond 2^53 exact', () => {
    const r = decodeLeaseItem({ leaseKey: { S: 'k' }, leaseCounter: { N: '9223372036854775807' } });
    expect('lease' in r && r.lease.leaseCounter).toBe(9223372036854775807n);
  });

  it('reads a KCL N-typed pendingCheckpointState (a KCL quirk) as no state, and B as bytes', () => {
    const pending = { pendingCheckpoint: { S: '5' }, pendingCheckpointSubSequenceNumber: { N: '1' } };
    const n = decodeLeaseItem({ leaseKey: { S: 'k' }, leaseCounter: { N: '0' }, ...pending, pendingCheckpointState: { N: '0' } });
    expect('lease' in n && n.lease.pendingCheckpointState).toBeUndefined();
    const b = decodeLeaseItem({ leaseKey: { S: 'k' }, leaseCounter: { N: '0' }, ...pending, pendingCheckpointState: { B: new Uint8Array([9]) } });
    expect('lease' in b && b.lease.pendingCheckpointState).toEqual(new Uint8Array([9]));
  });
});

describe('encodeNewLease', () => {
  it('writes the KCL attributes with their DynamoDB types, sets only when non-empty, multi-stream extras', () => {
    expect(encodeNewLease({ leaseKey: 'shardId-1', checkpoint: { sequenceNumber: 'TRIM_HORIZON' }, parentShardIds: [], childShardIds: [] })).toEqual({
      leaseKey: { S: 'shardId-1' },
      leaseCounter: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
    });
    const item = encodeNewLease({
      leaseKey: '111122223333:s:1700000000:shardId-2',
      checkpoint: { sequenceNumber: '123', subSequenceNumber: 4 },
      parentShardIds: ['a', 'b', 'a'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '10' },
      pendingCheckpoint: { sequenceNumber: '124' },
      pendingCheckpointState: new Uint8Array([1]),
    });
    expect(item).toMatchObject({
      checkpointSubSequenceNumber: { N: '4' },
      parentShardId: { SS: ['a', 'b'] },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '10' },
      pendingCheckpoint: { S: '124' },
      pendingCheckpointSubSequenceNumber: { N: '0' },
      pendingCheckpointState: { B: new Uint8Array([1]) },
      streamName: { S: '111122223333:s:1700000000' },
      shardId: { S: 'shardId-2' },
    });
    expect(item).not.toHaveProperty('childShardIds');
    expect(item).not.toHaveProperty('leaseOwner');
  });

  it('round-trips through decodeLeaseItem', () => {
    const r = decodeLeaseItem(
      encodeNewLease({ leaseKey: 'shardId-3', checkpoint: { sequenceNumber: '77', subSequenceNumber: 2 }, leaseOwner: 'w', childShardIds: ['c'] }),
    );
    expect(r).toEqual({
      lease: {
        leaseKey: 'shardId-3',
        shardId: 'shardId-3',
        leaseOwner: 'w',
        leaseCounter: 0n,
        ownerSwitchesSinceCheckpoint: 0,
        checkpoint: { sequenceNumber: '77', subSequenceNumber: 2 },
        parentShardIds: [],
        childShardIds: ['c'],
      },
    });
  });
});
