import { utf8ByteLength, type AggregatedRecord } from '@kinesis-kit/aggregation';
import type { BatchSettlement } from './batch.js';
import { partitionKeyHashWords, wordsToHashKey } from './hash-key-words.js';
import type { Attempt, ProducerRecord, SuccessfulUserRecordResult } from './types.js';

/**
 * A user record between put() and its settlement. Times are monotonic ms, whole (so V8 keeps them
 * as small integers in the object rather than a boxed double each). Its hash key is not kept: it
 * is computed when the record is routed (again, on the rare retry).
 */
export interface PendingRecord {
  id: number;
  partitionKey: string;
  /** Canonical decimal form, when the user gave one. */
  explicitHashKey: string | undefined;
  data: Uint8Array;
  /** The record as the user gave it (carried by the final error). */
  original: ProducerRecord;
  /** Partition key (UTF-8) + data: what the backend and the outstanding-bytes limit count. */
  bytes: number;
  arrival: number;
  expiration: number;
  /** When it must leave the buffers (arrival + recordMaxBufferedTime, clamped to expiration). */
  deadline: number;
  /** End of the previous attempt (or arrival): the next attempt's delay is measured from it. */
  lastEnd: number;
  /**
   * NO_ATTEMPTS until the first attempt ends (most records need one, so no array grows). Bounded:
   * the first attempt and the latest RECENT_ATTEMPTS_KEPT (see addAttempt).
   */
  attempts: Attempt[];
  /** Attempts dropped from the middle of `attempts` (the total is attempts.length + this). */
  attemptsOmitted: number;
  /** The put() promise's resolve; a failure resolves it with a rejected promise. Unused in a batch. */
  resolve: (result: SuccessfulUserRecordResult | PromiseLike<SuccessfulUserRecordResult>) => void;
  /** The putMany() call the record came in, and its position there; undefined for put(). */
  batch: BatchSettlement | undefined;
  batchIndex: number;
  done: boolean;
  /** Neighbours in the producer's list of outstanding records (put() order). */
  prev: PendingRecord | undefined;
  next: PendingRecord | undefined;
}

/** Shared, frozen: a record's attempts before its first one ends (addAttempt replaces it). */
export const NO_ATTEMPTS: Attempt[] = Object.freeze([]) as unknown as Attempt[];

/**
 * Attempts a record keeps besides its first: with recordTtl Infinity a throttled record may be
 * retried forever, and the memory it holds must stay bounded (outstanding bytes do not count it).
 */
export const RECENT_ATTEMPTS_KEPT = 32;

/**
 * Records an attempt. A record keeps its first attempt and the latest RECENT_ATTEMPTS_KEPT; those
 * in between are dropped (oldest first) and counted in attemptsOmitted.
 */
export function addAttempt(record: PendingRecord, attempt: Attempt): void {
  const attempts = record.attempts;
  if (attempts === NO_ATTEMPTS) record.attempts = [attempt];
  else if (attempts.length <= RECENT_ATTEMPTS_KEPT) attempts.push(attempt);
  else {
    // Full: drop the oldest of the recent ones (index 1, after the first) in place.
    attempts.copyWithin(1, 2);
    attempts[attempts.length - 1] = attempt;
    record.attemptsOmitted++;
  }
}

/** Every attempt a record made, the omitted ones included. */
export function attemptCount(record: PendingRecord): number {
  return record.attempts.length + record.attemptsOmitted;
}

/**
 * Outstanding records in put() order, linked through the records themselves: insert and remove
 * allocate nothing and the oldest is the head (what a Map keyed by id gave, without the hashing).
 */
export class PendingList {
  private head: PendingRecord | undefined;
  private tail: PendingRecord | undefined;
  size = 0;

  get oldest(): PendingRecord | undefined {
    return this.head;
  }

  append(r: PendingRecord): void {
    r.prev = this.tail;
    r.next = undefined;
    if (this.tail) this.tail.next = r;
    else this.head = r;
    this.tail = r;
    this.size++;
  }

  remove(r: PendingRecord): void {
    if (r.prev) r.prev.next = r.next;
    else this.head = r.next;
    if (r.next) r.next.prev = r.prev;
    else this.tail = r.prev;
    r.prev = undefined;
    r.next = undefined;
    this.size--;
  }

  toArray(): PendingRecord[] {
    const out: PendingRecord[] = [];
    for (let r = this.head; r; r = r.next) out.push(r);
    return out;
  }
}

/** One Kinesis record (a PutRecords entry): an aggregated container or a user record sent alone. */
export interface Container {
  records: PendingRecord[];
  partitionKey: string;
  explicitHashKey: string;
  data: Uint8Array;
  aggregated: boolean;
  /** Partition key (UTF-8) + data bytes. */
  size: number;
  predictedShardId: string | undefined;
  deadline: number;
  expiration: number;
}

export function recordBytes(partitionKey: string, data: Uint8Array): number {
  return utf8ByteLength(partitionKey) + data.length;
}

export function containerFromAggregated(agg: AggregatedRecord<PendingRecord>, predictedShardId: string | undefined): Container {
  const records = agg.userRecords;
  let deadline = Infinity;
  let expiration = Infinity;
  for (const r of records) {
    if (r.deadline < deadline) deadline = r.deadline;
    if (r.expiration < expiration) expiration = r.expiration;
  }
  return {
    records,
    partitionKey: agg.partitionKey,
    explicitHashKey: agg.explicitHashKey,
    data: agg.data,
    aggregated: agg.aggregated,
    size: utf8ByteLength(agg.partitionKey) + agg.data.length,
    predictedShardId,
    deadline,
    expiration,
  };
}

/** A user record as its own Kinesis record (aggregation off, map unknown, or too big to share). */
export function singleContainer(record: PendingRecord, predictedShardId: string | undefined): Container {
  return {
    records: [record],
    partitionKey: record.partitionKey,
    // The KPL always sets the hash key, so routing never depends on the backend hashing the key again.
    explicitHashKey: record.explicitHashKey ?? wordsToHashKey(partitionKeyHashWords(record.partitionKey)).toString(10),
    data: record.data,
    aggregated: false,
    size: record.bytes,
    predictedShardId,
    deadline: record.deadline,
    expiration: record.expiration,
  };
}
