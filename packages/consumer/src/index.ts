export {
  CheckpointThrottledError,
  ConsumerConfigError,
  ConsumerErrorCode,
  CoordinatorStoppedError,
  DynamoDbOperationError,
  InvalidCheckpointError,
  KinesisConsumerError,
  LeaseLostError,
  LeaseTableNotActiveError,
  LeaseTableNotFoundError,
  type ConsumerErrorContext,
  type InvalidCheckpointReason,
} from './errors.js';
export { formatLeaseKey, isStreamIdentifier, parseLeaseKey, type LeaseKeyParts } from './leases/lease-key.js';
export { copyLease, type Lease, type NewLease } from './leases/lease.js';
export {
  decodeLeaseItem,
  encodeNewLease,
  LEASE_ENTITY_TYPE,
  LeaseAttribute,
  type DecodeResult,
  type LeaseItem,
  type SkipReason,
} from './leases/lease-serializer.js';
export {
  LEASE_DEFAULTS,
  resolveLeaseCoordinatorOptions,
  type LeaseCoordinatorOptions,
  type LeaseManagementOptions,
  type LeaseTableBillingMode,
  type ResolvedLeaseCoordinatorOptions,
} from './leases/options.js';
export {
  LeaseTable,
  type CheckpointUpdate,
  type ConditionalWriteResult,
  type LeaseMetadataUpdate,
  type LeaseTableOptions,
} from './leases/lease-table.js';
export type { CallOptions } from './leases/dynamodb-call.js';
export { HeldLease, type HeldLeaseState } from './leases/held-lease.js';
export type {
  LeaseAcquiredEvent,
  LeaseAcquisition,
  LeaseCoordinatorEvents,
  LeaseLostEvent,
  LeaseLostReason,
  LeaseReleasedEvent,
  LeaseRenewalFailedEvent,
  TakerFailedEvent,
  TakerRunEvent,
} from './leases/events.js';
export type { RenewalResult } from './leases/lease-renewer.js';
export { planLeaseTaking, type ClassifiedLease, type LeaseStatus, type TakePlan, type TakePlanInput } from './leases/take-plan.js';
export {
  LeaseCoordinator,
  type LeaseCoordinatorState,
  type StopLeaseCoordinatorOptions,
} from './leases/lease-coordinator.js';
export {
  ShardCheckpointer,
  type Checkpointer,
  type CheckpointWriter,
  type PendingCheckpoint,
  type PreparedCheckpointer,
  type ShardCheckpointerOptions,
} from './checkpoint/checkpointer.js';
export { parseCheckpointArgs, parsePrepareCheckpointArgs, type CheckpointPosition, type ParsedCheckpointArgs } from './checkpoint/checkpoint-args.js';
