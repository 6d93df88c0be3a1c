import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ExtendedSequenceNumber } from '@kinesis-kit/aggregation';
import type { Lease, NewLease } from './lease.js';
import { parseLeaseKey } from './lease-key.js';

/** The KCL lease table's attribute names (kcl.md 1.2). Never rename: Java workers read the same items. */
export const LeaseAttribute = {
  leaseKey: 'leaseKey',
  leaseOwner: 'leaseOwner',
  leaseCounter: 'leaseCounter',
  ownerSwitchesSinceCheckpoint: 'ownerSwitchesSinceCheckpoint',
  checkpoint: 'checkpoint',
  checkpointSubSequenceNumber: 'checkpointSubSequenceNumber',
  pendingCheckpoint: 'pendingCheckpoint',
  pendingCheckpointSubSequenceNumber: 'pendingCheckpointSubSequenceNumber',
  pendingCheckpointState: 'pendingCheckpointState',
  parentShardId: 'parentShardId',
  childShardIds: 'childShardIds',
  startingHashKey: 'startingHashKey',
  endingHashKey: 'endingHashKey',
  throughputKBps: 'throughputKBps',
  checkpointOwner: 'checkpointOwner',
  entityType: 'entityType',
  /** Multi-stream only: the serialized StreamIdentifier (legacy attribute name). */
  streamName: 'streamName',
  /** Multi-stream only. */
  shardId: 'shardId',
} as const;

/** `entityType` of lease items in the KCL 3.5 single-table layout; other values are not leases. */
export const LEASE_ENTITY_TYPE = 'LEASE';

export type LeaseItem = Record<string, AttributeValue>;

/** Why an item was not decoded as a lease. */
export type SkipReason = 'not-a-lease' | 'malformed';

export type DecodeResult = { lease: Lease } | { skipped: SkipReason; detail: string };

/**
 * Decodes a lease table item. Items whose `entityType` is present and not `LEASE` (KCL 3.5 leader,
 * migration, worker-metrics and stream items) are skipped, as the KCL's own scan does.
 */
export function decodeLeaseItem(item: LeaseItem): DecodeResult {
  const entityType = item[LeaseAttribute.entityType];
  if (entityType !== undefined && entityType.S !== LEASE_ENTITY_TYPE) {
    return { skipped: 'not-a-lease', detail: `entityType ${entityType.S ?? JSON.stringify(entityType)}` };
  }
  const leaseKey = item[LeaseAttribute.leaseKey]?.S;
  if (leaseKey === undefined) return { skipped: 'malformed', detail: 'no leaseKey (S)' };
  const counter = parseCounter(item[LeaseAttribute.leaseCounter]?.N);
  if (counter === undefined) return { skipped: 'malformed', detail: `leaseCounter of ${leaseKey} is not an integer N` };

  const keyParts = parseLeaseKey(leaseKey);
  const lease: Lease = {
    leaseKey,
    shardId: item[LeaseAttribute.shardId]?.S ?? keyParts.shardId,
    leaseCounter: counter,
    ownerSwitchesSinceCheckpoint: parseSmallInt(item[LeaseAttribute.ownerSwitchesSinceCheckpoint]?.N) ?? 0,
    parentShardIds: [...(item[LeaseAttribute.parentShardId]?.SS ?? [])],
    childShardIds: [...(item[LeaseAttribute.childShardIds]?.SS ?? [])],
  };
  const streamIdentifier = item[LeaseAttribute.streamName]?.S ?? keyParts.streamIdentifier;
  if (streamIdentifier !== undefined) lease.streamIdentifier = streamIdentifier;
  const owner = item[LeaseAttribute.leaseOwner]?.S;
  if (owner !== undefined) lease.leaseOwner = owner;
  const checkpoint = decodeEsn(item[LeaseAttribute.checkpoint], item[LeaseAttribute.checkpointSubSequenceNumber]);
  if (checkpoint) lease.checkpoint = checkpoint;
  const pending = decodeEsn(item[LeaseAttribute.pendingCheckpoint], item[LeaseAttribute.pendingCheckpointSubSequenceNumber]);
  if (pending) lease.pendingCheckpoint = pending;
  // KCL quirk: its PutItem path writes an N here (holding the checkpoint's sub-sequence number, not the
  // application's state); only a B carries real state, so an N reads as "no state".
  const state = item[LeaseAttribute.pendingCheckpointState]?.B;
  if (state !== undefined) lease.pendingCheckpointState = Uint8Array.from(state);
  const starting = item[LeaseAttribute.startingHashKey]?.S;
  const ending = item[LeaseAttribute.endingHashKey]?.S;
  if (starting !== undefined && ending !== undefined) lease.hashKeyRange = { startingHashKey: starting, endingHashKey: ending };
  const checkpointOwner = item[LeaseAttribute.checkpointOwner]?.S;
  if (checkpointOwner !== undefined) lease.checkpointOwner = checkpointOwner;
  const throughput = item[LeaseAttribute.throughputKBps]?.N;
  if (throughput !== undefined && Number.isFinite(Number(throughput))) lease.throughputKBps = Number(throughput);
  return { lease };
}

/** The full item `createLeaseIfNotExists` puts, with exactly the KCL's attribute names and types. */
export function encodeNewLease(lease: NewLease): LeaseItem {
  const item: LeaseItem = {
    [LeaseAttribute.leaseKey]: { S: lease.leaseKey },
    [LeaseAttribute.leaseCounter]: { N: '0' },
    [LeaseAttribute.ownerSwitchesSinceCheckpoint]: { N: '0' },
    [LeaseAttribute.checkpoint]: { S: lease.checkpoint.sequenceNumber },
    [LeaseAttribute.checkpointSubSequenceNumber]: { N: String(lease.checkpoint.subSequenceNumber ?? 0) },
  };
  if (lease.leaseOwner !== undefined) item[LeaseAttribute.leaseOwner] = { S: lease.leaseOwner };
  if (lease.pendingCheckpoint) {
    item[LeaseAttribute.pendingCheckpoint] = { S: lease.pendingCheckpoint.sequenceNumber };
    item[LeaseAttribute.pendingCheckpointSubSequenceNumber] = { N: String(lease.pendingCheckpoint.subSequenceNumber ?? 0) };
  }
  // Written as B, the type the KCL reads (we do not reproduce its N quirk).
  if (lease.pendingCheckpointState) item[LeaseAttribute.pendingCheckpointState] = { B: lease.pendingCheckpointState };
  if (lease.parentShardIds && lease.parentShardIds.length > 0) {
    item[LeaseAttribute.parentShardId] = { SS: [...new Set(lease.parentShardIds)] };
  }
  if (lease.childShardIds && lease.childShardIds.length > 0) {
    item[LeaseAttribute.childShardIds] = { SS: [...new Set(lease.childShardIds)] };
  }
  if (lease.hashKeyRange) {
    item[LeaseAttribute.startingHashKey] = { S: lease.hashKeyRange.startingHashKey };
    item[LeaseAttribute.endingHashKey] = { S: lease.hashKeyRange.endingHashKey };
  }
  const parts = parseLeaseKey(lease.leaseKey);
  if (parts.streamIdentifier !== undefined) {
    item[LeaseAttribute.streamName] = { S: parts.streamIdentifier };
    item[LeaseAttribute.shardId] = { S: parts.shardId };
  }
  return item;
}

function decodeEsn(seq: AttributeValue | undefined, sub: AttributeValue | undefined): ExtendedSequenceNumber | undefined {
  const sequenceNumber = seq?.S;
  if (sequenceNumber === undefined) return undefined;
  return { sequenceNumber, subSequenceNumber: parseSmallInt(sub?.N) ?? 0 };
}

/** leaseCounter as the KCL reads it (an integer N, possibly written as "3.0"); undefined when it is not one. */
export function parseCounter(n: string | undefined): bigint | undefined {
  if (n === undefined) return undefined;
  const t = n.trim();
  if (/^-?[0-9]+$/.test(t)) return BigInt(t);
  const x = Number(t);
  return Number.isFinite(x) && Number.isInteger(x) ? BigInt(x) : undefined;
}

function parseSmallInt(n: string | undefined): number | undefined {
  if (n === undefined) return undefined;
  const x = Number(n);
  return Number.isSafeInteger(x) ? x : undefined;
}
