import type { AwsErrorKind } from '@kinesis-kit/core';
import type { Lease } from './lease.js';

/** How this worker came to hold a lease. */
export type LeaseAcquisition = 'taken' | 'stolen' | 'adopted';

/**
 * Why a lease stopped being held without a graceful release:
 * - `conflict`: a conditional write failed (another worker took it, or a KCL 3.x handoff began);
 * - `expired`: no successful renewal within failoverTimeMillis (e.g. DynamoDB unreachable or throttled for that long);
 * - `stopped`: the coordinator stopped without releasing (releaseLeasesOnStop: false).
 */
export type LeaseLostReason = 'conflict' | 'expired' | 'stopped';

export interface LeaseAcquiredEvent {
  leaseKey: string;
  shardId: string;
  streamIdentifier?: string;
  acquisition: LeaseAcquisition;
  /** Owner before us (undefined for an unowned lease). */
  previousOwner?: string;
  /** The lease as written by the take: checkpoint, pending checkpoint and state, parents, hash range. */
  lease: Lease;
}

export interface LeaseLostEvent {
  leaseKey: string;
  shardId: string;
  streamIdentifier?: string;
  reason: LeaseLostReason;
  /** The owner seen in the table when we found out, if we read it. */
  currentOwner?: string;
}

export interface LeaseReleasedEvent {
  leaseKey: string;
  shardId: string;
  streamIdentifier?: string;
  /**
   * True when the table now shows the lease unowned (peers take it at their next taker pass);
   * false when the release write failed (peers take it after failoverTimeMillis).
   */
  evicted: boolean;
}

/** A renewal failed for a reason other than a lost condition (throttling, 5xx, network): the lease is still held. */
export interface LeaseRenewalFailedEvent {
  leaseKey: string;
  shardId: string;
  error: Error;
  errorKind: AwsErrorKind;
  /** Time left before the lease expires locally and is dropped. */
  msUntilExpiry: number;
}

export interface TakerRunEvent {
  /** Leases taken that were unowned, expired, or ours from before a restart. */
  taken: number;
  /** Leases taken from a live, busier worker. */
  stolen: number;
  /** Takes or steals that lost the race to another worker. */
  failed: number;
  target: number;
  workers: number;
  totalLeases: number;
  availableLeases: number;
  expiredLeases: number;
  heldLeases: number;
  /** The pass found nothing to do (the split is settled from this worker's view). */
  settled: boolean;
  /**
   * Milliseconds until the first lease owned by a live-looking worker would count as expired if
   * its counter stays where it is (undefined when there is none): the coordinator runs a pass then,
   * so a crashed worker's leases are taken about failoverTimeMillis after their last renewal.
   */
  nextExpiryInMillis?: number;
  durationMs: number;
}

export interface TakerFailedEvent {
  error: Error;
}

/** Events of the LeaseCoordinator (listen with `coordinator.on(name, fn)`; listener errors are isolated). */
export interface LeaseCoordinatorEvents {
  leaseAcquired: LeaseAcquiredEvent;
  leaseLost: LeaseLostEvent;
  leaseReleased: LeaseReleasedEvent;
  leaseRenewalFailed: LeaseRenewalFailedEvent;
  takerRun: TakerRunEvent;
  takerFailed: TakerFailedEvent;
}
