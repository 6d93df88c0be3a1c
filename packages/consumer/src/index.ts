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
  MultiStreamLeaseTableError,
  FanOutConsumerNotFoundError,
  type FanOutConsumerState,
  ConsumerStoppedError,
  ShardEndNotCheckpointedError,
  ShardListingError,
  FanOutRegistrationError,
  type ConsumerErrorContext,
  type InvalidCheckpointReason,
} from './errors.js';
export {
  KCL_LEASE_OWNER_INDEX,
  KCL_MIGRATION_ITEM_KEY,
  hasKclLeaseOwnerIndex,
  kclCoordinatorStateTableName,
  kclFleetMode,
  readKclMigrationState,
  type KclFleetMode,
  type KclMigrationState,
  type KclMigrationStateRead,
} from './leases/kcl-migration-state.js';
export {
  KCL_WORKER_ACTIVE_MILLIS,
  KCL_WORKER_METRICS_ENTITY_TYPE,
  kclWorkerLiveness,
  kclWorkerMetricsTableName,
  kclWorkerReportOf,
  readKclFleetLiveness,
  readKclWorkerMetricsTable,
  type KclFleetLivenessRead,
  type KclWorkerLiveness,
  type KclWorkerMetricsTableRead,
  type KclWorkerReport,
} from './leases/kcl-worker-metrics.js';
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
  type KclWorkerReportsSeen,
  type LeaseMetadataUpdate,
  type LeaseTableOptions,
} from './leases/lease-table.js';
export {
  findLeaseProblems,
  planLeaseRepair,
  type CheckpointResetPosition,
  type LeaseProblem,
  type LeaseProblemKind,
  type LeaseRepair,
} from './leases/lease-table-check.js';
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
  type StartLeaseCoordinatorOptions,
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
export {
  KinesisConsumer,
  type ConsumerStatus,
  type KinesisConsumerState,
  type StopConsumerOptions,
} from './consumer/kinesis-consumer.js';
export {
  CONSUMER_DEFAULTS,
  resolveConsumerOptions,
  type ConsumerHandler,
  type ConsumerSettings,
  type FanOutRetrievalOptions,
  type ResolvedFanOutOptions,
  type InitialPosition,
  type KinesisConsumerOptions,
  type PollingRetrievalOptions,
  type ResolvedConsumerOptions,
} from './consumer/options.js';
export type {
  ConsumerErrorEvent,
  KclMigrationStateEvent,
  KinesisConsumerEvents,
  ShardEndedEvent,
  ShardStateChangedEvent,
  ShardSyncEvent,
} from './consumer/events.js';
export type {
  ChildShard,
  EachBatchHandler,
  EachBatchPayload,
  EachRecordHandler,
  EachRecordPayload,
  InitializationInput,
  LeaseLostInput,
  ProcessRecordsInput,
  ProcessRecordsResult,
  ShardEndedInput,
  ShardRecordProcessor,
  ShardRecordProcessorFactory,
  ShutdownRequestedInput,
} from './processing/processor.js';
export type { ShardConsumerState, ShardStatus } from './processing/shard-consumer-state.js';
/** The record type handlers receive, re-exported so a processor needs no import from @kinesis-kit/aggregation. */
export type { UserRecord } from '@kinesis-kit/aggregation';
export {
  FAILURE_POLICY_DEFAULTS,
  type FailurePolicyOptions,
  type GiveUpReason,
  type ProcessingFailure,
} from './processing/failure-policy.js';
export { PartialBatchFailureError, type ProcessingErrorInfo, type RecordsSkippedInfo } from './processing/batch-delivery.js';
export { POLLING_DEFAULTS, type PollingOptions } from './retrieval/polling-fetcher.js';
export { FANOUT_WINDOW_BYTES, FanOutRequestHandler, type FanOutRequestHandlerOptions, type InnerRequestHandler } from './retrieval/fanout-request-handler.js';
export { FANOUT_DEFAULTS, FanOutFetcher, type FanOutFetcherContext, type FanOutOptions } from './retrieval/fanout-fetcher.js';
export { deregisterStreamConsumer, ensureStreamConsumer, resolveStreamArn, type StreamConsumerContext } from './retrieval/fanout-registration.js';
export type { FetchedBatch, RecordsFetcher, RetrievalErrorInfo, StartPosition } from './retrieval/records-fetcher.js';
export { MetricsScope } from './leases/metrics.js';
export { planLeaseCreation, type InitialPositionSentinel, type LeaseCreationInput } from './shards/lease-creation-plan.js';
export type { ShardInfo } from './shards/shard-lister.js';
