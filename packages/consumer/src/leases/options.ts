import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { noopMetricsSink, silentLogger, systemClock, type Clock, type Logger, type MetricsSink } from '@kinesis-kit/core';
import { ConsumerConfigError } from '../errors.js';
import { boolOption as bool, intOption as int } from '../config-checks.js';

export type LeaseTableBillingMode = 'PAY_PER_REQUEST' | 'PROVISIONED';

/** Lease table and lease coordination options; names and defaults are the KCL's where the KCL has one. */
export interface LeaseManagementOptions {
  /** A lease whose counter has not moved for this long is expired (KCL `failoverTimeMillis`). Default 10000. */
  failoverTimeMillis?: number;
  /** Safety margin subtracted from/added to intervals (KCL `epsilonMillis`). Default 25. */
  epsilonMillis?: number;
  /** Most leases one worker holds (KCL `maxLeasesForWorker`). Default unlimited. */
  maxLeasesForWorker?: number;
  /** Most leases stolen from a busier worker in one taker pass (KCL `maxLeasesToStealAtOneTime`). Default 1. */
  maxLeasesToStealAtOneTime?: number;
  /** Concurrent renewals per tick (KCL `maxLeaseRenewalThreads`). Default 20. */
  maxLeaseRenewalConcurrency?: number;
  /** The first taker pass runs after a random delay in [0, this) ms, so a fleet started together interleaves. Default 1000. */
  takerInitialJitterMillis?: number;
  /**
   * Regular taker pass period. A lease released by a stopping peer is taken at the next pass, and
   * an expired one at the first pass failoverTimeMillis after its counter stopped moving, so this
   * bounds takeover times; each pass is one lease-table Scan per worker. Default: adaptive —
   * max(1000, failoverTimeMillis / 8) (1250 ms) while the table holds at most
   * `smallTableMaxLeases` leases, else the KCL's 2 x (failoverTimeMillis + epsilonMillis) (20050 ms).
   */
  takerIntervalMillis?: number;
  /** Up to this many leases, the adaptive taker period is the short one (scans of a small table are cheap). Default 100. */
  smallTableMaxLeases?: number;
  /** While the split is not settled, taker passes follow each other at about this interval instead of the KCL's 20 s. Default 1000. */
  fastTakerIntervalMillis?: number;
  /** At most this many fast passes in a row; then one regular interval. Default 20. */
  maxFastTakerPasses?: number;
  /**
   * Also scan again the moment a lease seen renewing would expire if its owner fell silent
   * (failoverTimeMillis + epsilonMillis after the scan that saw it move): a crashed worker's
   * leases are taken after about the failover time instead of up to a taker period later. The
   * cost: with live peers a worker scans about every failoverTimeMillis. `false` gives the KCL's
   * scan rate (one Scan per taker period). Default true.
   */
  expiryLookAhead?: boolean;
  /** Release held leases on stop() so peers take them at once (the KCL never does). Default true. */
  releaseLeasesOnStop?: boolean;
  /** Create the table when DescribeTable says it is missing (needs dynamodb:CreateTable). Default true. */
  createTableIfMissing?: boolean;
  /** Default PAY_PER_REQUEST, as the KCL. */
  billingMode?: LeaseTableBillingMode;
  /** PROVISIONED only (KCL `initialLeaseTableReadCapacity`). Default 10. */
  initialLeaseTableReadCapacity?: number;
  /** PROVISIONED only (KCL `initialLeaseTableWriteCapacity`). Default 10. */
  initialLeaseTableWriteCapacity?: number;
  /** How long start() waits for a new table to become ACTIVE. Default 600000 (the KCL's bound). */
  tableActiveTimeoutMillis?: number;
  /** Strongly consistent lease scans (doubles their read cost). Default false, as the KCL. */
  consistentReads?: boolean;
}

export interface LeaseCoordinatorOptions extends LeaseManagementOptions {
  dynamoDbClient: DynamoDBClient;
  /** The KCL application name; the table name when `tableName` is not given. */
  applicationName?: string;
  /** Lease table name (default: applicationName). */
  tableName?: string;
  /** Unique per live process; reusing it after a restart keeps this worker's leases. */
  workerId: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: MetricsSink;
  /** Randomness in [0, 1) for jitter and lease choice (injectable for deterministic tests). */
  random?: () => number;
}

export const LEASE_DEFAULTS = {
  failoverTimeMillis: 10_000,
  epsilonMillis: 25,
  maxLeasesForWorker: Number.POSITIVE_INFINITY,
  maxLeasesToStealAtOneTime: 1,
  maxLeaseRenewalConcurrency: 20,
  takerInitialJitterMillis: 1_000,
  fastTakerIntervalMillis: 1_000,
  maxFastTakerPasses: 20,
  expiryLookAhead: true,
  releaseLeasesOnStop: true,
  createTableIfMissing: true,
  billingMode: 'PAY_PER_REQUEST',
  initialLeaseTableReadCapacity: 10,
  initialLeaseTableWriteCapacity: 10,
  tableActiveTimeoutMillis: 600_000,
  consistentReads: false,
  smallTableMaxLeases: 100,
} as const;

export interface ResolvedLeaseCoordinatorOptions
  extends Required<Omit<LeaseCoordinatorOptions, 'applicationName' | 'tableName' | 'billingMode'>> {
  tableName: string;
  billingMode: LeaseTableBillingMode;
  /** failover/3 - epsilon (KCL renewer period): 3308 ms by default. */
  renewIntervalMillis: number;
  /** The regular taker period: the KCL's (failover + epsilon) x 2 = 20050 ms by default, or the one given. */
  takerIntervalMillis: number;
  /** Taker period for small tables when the period is adaptive (takerIntervalMillis not given); undefined otherwise. */
  smallTableTakerIntervalMillis: number | undefined;
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/** Validates once and fills defaults; throws ConsumerConfigError naming the field. */
export function resolveLeaseCoordinatorOptions(options: LeaseCoordinatorOptions): ResolvedLeaseCoordinatorOptions {
  if (!options || typeof options !== 'object') throw new ConsumerConfigError('options', 'required');
  if (!options.dynamoDbClient || typeof (options.dynamoDbClient as { send?: unknown }).send !== 'function') {
    throw new ConsumerConfigError('dynamoDbClient', 'a DynamoDBClient is required');
  }
  if (typeof options.workerId !== 'string' || options.workerId.length === 0) {
    throw new ConsumerConfigError('workerId', 'must be a non-empty string');
  }
  const tableName = options.tableName ?? options.applicationName;
  if (tableName === undefined) throw new ConsumerConfigError('tableName', 'tableName or applicationName is required');
  if (!TABLE_NAME.test(tableName)) {
    throw new ConsumerConfigError(
      options.tableName !== undefined ? 'tableName' : 'applicationName',
      `${JSON.stringify(tableName)} is not a valid DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)`,
    );
  }
  const d = LEASE_DEFAULTS;
  const failoverTimeMillis = int('failoverTimeMillis', options.failoverTimeMillis ?? d.failoverTimeMillis, 100);
  const epsilonMillis = int('epsilonMillis', options.epsilonMillis ?? d.epsilonMillis, 0);
  const renewIntervalMillis = Math.floor(failoverTimeMillis / 3) - epsilonMillis;
  if (renewIntervalMillis < 1) throw new ConsumerConfigError('epsilonMillis', 'must be well below failoverTimeMillis / 3');
  const maxLeasesForWorker = options.maxLeasesForWorker ?? d.maxLeasesForWorker;
  if (maxLeasesForWorker !== Number.POSITIVE_INFINITY) int('maxLeasesForWorker', maxLeasesForWorker, 1);
  const billingMode = options.billingMode ?? d.billingMode;
  if (billingMode !== 'PAY_PER_REQUEST' && billingMode !== 'PROVISIONED') {
    throw new ConsumerConfigError('billingMode', `must be PAY_PER_REQUEST or PROVISIONED, got ${JSON.stringify(billingMode)}`);
  }
  return {
    dynamoDbClient: options.dynamoDbClient,
    workerId: options.workerId,
    tableName,
    failoverTimeMillis,
    epsilonMillis,
    renewIntervalMillis,
    takerIntervalMillis:
      options.takerIntervalMillis !== undefined
        ? int('takerIntervalMillis', options.takerIntervalMillis, 100)
        : (failoverTimeMillis + epsilonMillis) * 2,
    smallTableTakerIntervalMillis:
      options.takerIntervalMillis !== undefined ? undefined : Math.min((failoverTimeMillis + epsilonMillis) * 2, Math.max(1_000, Math.floor(failoverTimeMillis / 8))),
    smallTableMaxLeases: int('smallTableMaxLeases', options.smallTableMaxLeases ?? d.smallTableMaxLeases, 0),
    maxLeasesForWorker,
    maxLeasesToStealAtOneTime: int('maxLeasesToStealAtOneTime', options.maxLeasesToStealAtOneTime ?? d.maxLeasesToStealAtOneTime, 1),
    maxLeaseRenewalConcurrency: int('maxLeaseRenewalConcurrency', options.maxLeaseRenewalConcurrency ?? d.maxLeaseRenewalConcurrency, 1),
    takerInitialJitterMillis: int('takerInitialJitterMillis', options.takerInitialJitterMillis ?? d.takerInitialJitterMillis, 0),
    fastTakerIntervalMillis: int('fastTakerIntervalMillis', options.fastTakerIntervalMillis ?? d.fastTakerIntervalMillis, 1),
    maxFastTakerPasses: int('maxFastTakerPasses', options.maxFastTakerPasses ?? d.maxFastTakerPasses, 0),
    expiryLookAhead: bool('expiryLookAhead', options.expiryLookAhead ?? d.expiryLookAhead),
    releaseLeasesOnStop: bool('releaseLeasesOnStop', options.releaseLeasesOnStop ?? d.releaseLeasesOnStop),
    createTableIfMissing: bool('createTableIfMissing', options.createTableIfMissing ?? d.createTableIfMissing),
    billingMode,
    initialLeaseTableReadCapacity: int(
      'initialLeaseTableReadCapacity',
      options.initialLeaseTableReadCapacity ?? d.initialLeaseTableReadCapacity,
      1,
    ),
    initialLeaseTableWriteCapacity: int(
      'initialLeaseTableWriteCapacity',
      options.initialLeaseTableWriteCapacity ?? d.initialLeaseTableWriteCapacity,
      1,
    ),
    tableActiveTimeoutMillis: int('tableActiveTimeoutMillis', options.tableActiveTimeoutMillis ?? d.tableActiveTimeoutMillis, 0),
    consistentReads: bool('consistentReads', options.consistentReads ?? d.consistentReads),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    metrics: options.metrics ?? noopMetricsSink,
    random: options.random ?? Math.random,
  };
}
