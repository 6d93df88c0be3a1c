import { ConsumerConfigError } from '../errors.js';

/**
 * KCL lease keys. Single-stream applications key each lease by the shard id
 * (`shardId-000000000042`); multi-stream applications by `account:stream:creationEpoch:shardId`,
 * where the first three parts are the KCL's serialized StreamIdentifier.
 */
export interface LeaseKeyParts {
  leaseKey: string;
  shardId: string;
  /** `account:stream:creationEpochSeconds` for multi-stream keys; absent for single-stream ones. */
  streamIdentifier?: string;
  accountId?: string;
  streamName?: string;
  streamCreationEpochSeconds?: number;
}

const MULTI_STREAM_KEY = /^([0-9]+):([^:]+):([0-9]+):(.+)$/;
const STREAM_IDENTIFIER = /^([0-9]+):([^:]+):([0-9]+)$/;

/** Splits a lease key into shard id and (for multi-stream keys) the stream identifier. Never throws. */
export function parseLeaseKey(leaseKey: string): LeaseKeyParts {
  const m = MULTI_STREAM_KEY.exec(leaseKey);
  if (!m) return { leaseKey, shardId: leaseKey };
  const [, accountId, streamName, epoch, shardId] = m as unknown as [string, string, string, string, string];
  return {
    leaseKey,
    shardId,
    streamIdentifier: `${accountId}:${streamName}:${epoch}`,
    accountId,
    streamName,
    streamCreationEpochSeconds: Number(epoch),
  };
}

/** True for a serialized multi-stream StreamIdentifier (`account:stream:creationEpochSeconds`). */
export function isStreamIdentifier(value: string): boolean {
  return STREAM_IDENTIFIER.test(value);
}

/** The lease key the KCL uses for a shard: the shard id, or `streamIdentifier:shardId` in multi-stream mode. */
export function formatLeaseKey(shardId: string, streamIdentifier?: string): string {
  if (streamIdentifier === undefined) return shardId;
  if (!isStreamIdentifier(streamIdentifier)) {
    throw new ConsumerConfigError('streamIdentifier', `must look like account:stream:creationEpochSeconds, got ${JSON.stringify(streamIdentifier)}`);
  }
  return `${streamIdentifier}:${shardId}`;
}
