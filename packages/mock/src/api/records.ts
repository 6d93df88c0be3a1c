import { AwsErrorName, invalidArgument, resourceInUse, serializationError, ServiceError } from '../errors.js';
import type { IteratorType, PutEntry, StartingPosition } from '../engine.js';
import type { StreamState } from '../model.js';
import { readStreamRef, type ApiContext, type ApiResult } from './context.js';
import type { Input} from './input.js';
import { CONSUMER_ARN_RULE, HASH_KEY_RULE, SEQUENCE_NUMBER_RULE, SHARD_ID_RULE } from './input.js';
import { hashKey } from './streams.js';
import { hashKeyToHex, partitionKeyHashHex } from '../hash-routing.js';

const ITERATOR_TYPES = ['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER', 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const;
const PARTITION_KEY_MAX = 256;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decoded length of base64 text, or -1 if it is not base64. */
function base64Length(text: string): number {
  const n = text.length;
  if (n % 4 !== 0 || !BASE64.test(text)) return -1;
  const padding = n === 0 ? 0 : text.charCodeAt(n - 1) !== 61 ? 0 : text.charCodeAt(n - 2) === 61 ? 2 : 1;
  return (n / 4) * 3 - padding;
}

/** Validates one record's members and builds the engine's entry; `at` is its member path. */
function readEntry(input: Input, ctx: ApiContext): PutEntry | undefined {
  const partitionKey = input.string('PartitionKey', { required: true, min: 1, max: PARTITION_KEY_MAX });
  const data = input.raw.Data;
  if (data === undefined || data === null) input.fail('Data', undefined, 'Member must not be null');
  else if (typeof data !== 'string') throw serializationError('Unexpected value type for member Data: expected a blob (base64 string).');
  const ehk = input.string('ExplicitHashKey', HASH_KEY_RULE);
  if (partitionKey === undefined || typeof data !== 'string') return undefined; // reported by done()
  const dataBytes = base64Length(data);
  if (dataBytes < 0) throw serializationError('Base64 encoded value for member Data is not valid base64.');
  const keyBytes = Buffer.byteLength(partitionKey, 'utf8');
  const max = ctx.engine.limits.maxRecordSizeBytes;
  if (keyBytes + dataBytes > max) {
    input.fail('Data', `java.nio.HeapByteBuffer[pos=0 lim=${dataBytes} cap=${dataBytes}]`, `Member must have length less than or equal to ${max} (partition key and data together)`);
  }
  return {
    partitionKey,
    keyBytes,
    data,
    dataBytes,
    hashKeyHex: ehk !== undefined ? hashKeyToHex(hashKey(ehk, 'ExplicitHashKey')) : partitionKeyHashHex(partitionKey),
  };
}

const EHK_PATTERN = HASH_KEY_RULE.pattern;
/** 2^128 - 1 has 39 digits; shorter explicit hash keys are always in range. */
const SAFE_EHK_DIGITS = 38;

/**
 * The hot path for a well-formed PutRecords entry: plain checks, no validator objects. Returns
 * undefined for anything unusual; the caller then runs the full validator for AWS's error message.
 */
function fastEntry(record: unknown, maxRecordBytes: number): PutEntry | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const { PartitionKey: partitionKey, Data: data, ExplicitHashKey: ehk } = record as Record<string, unknown>;
  if (typeof partitionKey !== 'string' || partitionKey.length < 1 || partitionKey.length > PARTITION_KEY_MAX || typeof data !== 'string') return undefined;
  let hashKeyHex: string;
  if (ehk === undefined || ehk === null) hashKeyHex = partitionKeyHashHex(partitionKey);
  else if (typeof ehk === 'string' && ehk.length <= SAFE_EHK_DIGITS && EHK_PATTERN.test(ehk)) hashKeyHex = hashKeyToHex(BigInt(ehk));
  else return undefined;
  const dataBytes = base64Length(data);
  if (dataBytes < 0) return undefined;
  const keyBytes = Buffer.byteLength(partitionKey, 'utf8');
  if (keyBytes + dataBytes > maxRecordBytes) return undefined;
  return { partitionKey, keyBytes, data, dataBytes, hashKeyHex };
}

export function putRecords(input: Input, ctx: ApiContext): ApiResult {
  const { engine } = ctx;
  const ref = readStreamRef(input);
  const records = input.array('Records', { required: true, min: 1, max: engine.limits.putRecordsMaxRecords }) ?? [];
  const maxRecordBytes = engine.limits.maxRecordSizeBytes;
  let entries: PutEntry[] = new Array<PutEntry>(records.length);
  let total = 0;
  let slow = false;
  for (let i = 0; i < records.length && !slow; i++) {
    const e = fastEntry(records[i], maxRecordBytes);
    if (e) {
      entries[i] = e;
      total += e.keyBytes + e.dataBytes;
    } else slow = true;
  }
  if (slow) {
    // Something is off: validate member by member to report it as AWS does.
    entries = new Array<PutEntry>(records.length);
    total = 0;
    for (let i = 0; i < records.length; i++) {
      const e = readEntry(input.element('Records', i, records[i]), ctx);
      if (e) {
        entries[i] = e;
        total += e.keyBytes + e.dataBytes;
      }
    }
  }
  input.done();
  if (total > engine.limits.putRecordsMaxBytes) {
    throw invalidArgument(`Records size exceeds ${engine.limits.putRecordsMaxBytes} bytes limit (partition keys and data of all records).`);
  }
  return putEntries(engine.usableStream(ref), entries, ctx);
}

function putEntries(stream: StreamState, entries: PutEntry[], ctx: ApiContext): ApiResult {
  const results = ctx.engine.putRecords(stream, entries, ctx.throttleEntry);
  let failed = 0;
  const parts: string[] = new Array<string>(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if ('errorCode' in r) {
      failed++;
      parts[i] = `{"ErrorCode":"${r.errorCode}","ErrorMessage":${JSON.stringify(r.errorMessage)}}`;
    } else {
      parts[i] = `{"SequenceNumber":"${r.shard.sequenceNumber(r.counter)}","ShardId":"${r.shard.shardId}"}`;
    }
  }
  const encryption = stream.encryptionType === 'KMS' ? ',"EncryptionType":"KMS"' : '';
  return { raw: `{"FailedRecordCount":${failed},"Records":[${parts.join(',')}]${encryption}}` };
}

export function putRecord(input: Input, ctx: ApiContext): ApiResult {
  const { engine } = ctx;
  const ref = readStreamRef(input);
  input.string('SequenceNumberForOrdering', SEQUENCE_NUMBER_RULE);
  const entry = readEntry(input, ctx);
  input.done();
  const stream = engine.usableStream(ref);
  const [result] = engine.putRecords(stream, [entry!], ctx.throttleEntry);
  if (!result || 'errorCode' in result) {
    throw new ServiceError(AwsErrorName.THROUGHPUT_EXCEEDED, result?.errorMessage ?? 'Rate exceeded.', 400, { streamName: stream.name });
  }
  return {
    json: {
      ShardId: result.shard.shardId,
      SequenceNumber: result.shard.sequenceNumber(result.counter),
      ...(stream.encryptionType === 'KMS' ? { EncryptionType: 'KMS' } : {}),
    },
  };
}

/** Reads a StartingPosition-like structure (GetShardIterator members or SubscribeToShard's StartingPosition). */
function readPosition(input: Input, typeKey: string, seqKey: string): StartingPosition {
  const type = input.string(typeKey, { required: true, values: ITERATOR_TYPES }) as IteratorType;
  const sequenceNumber = input.string(seqKey, SEQUENCE_NUMBER_RULE);
  const timestampMs = input.timestampMs('Timestamp');
  input.done();
  if ((type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER') && sequenceNumber === undefined) {
    throw invalidArgument(`You must specify a starting sequence number with ${type}.`);
  }
  if (type === 'AT_TIMESTAMP' && timestampMs === undefined) throw invalidArgument('You must specify a timestamp with AT_TIMESTAMP.');
  if (type !== 'AT_SEQUENCE_NUMBER' && type !== 'AFTER_SEQUENCE_NUMBER' && sequenceNumber !== undefined) {
    throw invalidArgument(`You cannot specify a starting sequence number with ${type}.`);
  }
  return { type, sequenceNumber, timestampMs };
}

export function getShardIterator(input: Input, { engine }: ApiContext): ApiResult {
  const ref = readStreamRef(input);
  const shardId = input.string('ShardId', { ...SHARD_ID_RULE, required: true });
  const position = readPosition(input, 'ShardIteratorType', 'StartingSequenceNumber');
  return { json: { ShardIterator: engine.getShardIterator(ref, shardId, position) } };
}

export function getRecords(input: Input, { engine }: ApiContext): ApiResult {
  const iterator = input.string('ShardIterator', { required: true, min: 1, max: 512 });
  const limit = input.integer('Limit', { min: 1, max: 10_000 }) ?? 10_000;
  const streamArn = input.string('StreamARN');
  input.done();
  const batch = engine.getRecords(iterator, limit, streamArn);
  const { shard, stream } = batch;
  const enc = stream.encryptionType === 'KMS' ? ',"EncryptionType":"KMS"' : '';
  const next = batch.nextIterator === null ? 'null' : `"${batch.nextIterator}"`;
  const children = batch.shardEnd ? `,"ChildShards":${JSON.stringify(engine.childShards(shard))}` : '';
  const tail = `],"NextShardIterator":${next},"MillisBehindLatest":${batch.millisBehindLatest}${children}}`;
  return { bytes: shard.log.recordsJson(batch.from, batch.to, shard.seqPrefix, '{"Records":[', tail, enc) };
}

export function subscribeToShard(input: Input, { engine }: ApiContext): ApiResult {
  const consumerArn = input.string('ConsumerARN', { ...CONSUMER_ARN_RULE, required: true });
  const shardId = input.string('ShardId', { ...SHARD_ID_RULE, required: true });
  const positionInput = input.object('StartingPosition', { required: true });
  input.done();
  const position = readPosition(positionInput!, 'Type', 'SequenceNumber');
  const consumer = engine.findConsumer({ consumerArn });
  const stream = consumer.stream;
  if (stream.status === 'DELETING' || stream.status === 'CREATING') throw invalidArgument(`Stream ${stream.name} under account ${engine.accountId} is not ACTIVE.`);
  if (consumer.status !== 'ACTIVE') {
    throw resourceInUse(`Consumer ${consumer.arn} under account ${engine.accountId} is not ACTIVE, instead in state ${consumer.status}.`);
  }
  const shard = engine.findShard(stream, shardId);
  const startCounter = engine.startingCounter(stream, shard, position);
  return { subscription: { consumer, stream, shard, startCounter } };
}
