/**
 * The KPL schema (messages.proto) built with protobufjs 8 reflection, used by the tests as the
 * reference our hand-written encoder and decoder must agree with.
 */
import protobuf from 'protobufjs';

const { Root, Type, Field } = protobuf;

const tag = new Type('Tag').add(new Field('key', 1, 'string', 'required')).add(new Field('value', 2, 'string', 'optional'));
const record = new Type('Record')
  .add(new Field('partition_key_index', 1, 'uint64', 'required'))
  .add(new Field('explicit_hash_key_index', 2, 'uint64', 'optional'))
  .add(new Field('data', 3, 'bytes', 'required'))
  .add(new Field('tags', 4, 'Tag', 'repeated'));
const aggregatedRecord = new Type('AggregatedRecord')
  .add(new Field('partition_key_table', 1, 'string', 'repeated'))
  .add(new Field('explicit_hash_key_table', 2, 'string', 'repeated'))
  .add(new Field('records', 3, 'Record', 'repeated'));
new Root().add(tag).add(record).add(aggregatedRecord).resolveAll();

export const AggregatedRecordType = aggregatedRecord;

export interface ReferenceMessage {
  partitionKeyTable: string[];
  explicitHashKeyTable: string[];
  records: { partitionKeyIndex: number; explicitHashKeyIndex?: number; data: Uint8Array }[];
}

interface LongLike {
  toNumber(): number;
}

/** Decodes with protobufjs; undefined when protobufjs rejects the bytes. Indices as numbers. */
export function referenceDecode(bytes: Uint8Array): ReferenceMessage | undefined {
  let message: Record<string, unknown>;
  try {
    message = AggregatedRecordType.decode(bytes);
  } catch {
    return undefined;
  }
  const toNumber = (v: unknown) => (typeof v === 'number' ? v : (v as LongLike).toNumber());
  const records = ((message.records as Record<string, unknown>[] | undefined) ?? []).map((r) => {
    const out: ReferenceMessage['records'][number] = {
      partitionKeyIndex: toNumber(r.partition_key_index),
      data: r.data as Uint8Array,
    };
    if (Object.prototype.hasOwnProperty.call(r, 'explicit_hash_key_index')) out.explicitHashKeyIndex = toNumber(r.explicit_hash_key_index);
    return out;
  });
  return {
    partitionKeyTable: (message.partition_key_table as string[] | undefined) ?? [],
    explicitHashKeyTable: (message.explicit_hash_key_table as string[] | undefined) ?? [],
    records,
  };
}

/** Encodes with protobufjs (field order = field numbers, as the KPL's C++ protobuf). */
export function referenceEncode(message: ReferenceMessage): Uint8Array {
  return AggregatedRecordType.encode(
    AggregatedRecordType.fromObject({
      partition_key_table: message.partitionKeyTable,
      explicit_hash_key_table: message.explicitHashKeyTable,
      records: message.records.map((r) => ({
        partition_key_index: r.partitionKeyIndex,
        ...(r.explicitHashKeyIndex === undefined ? {} : { explicit_hash_key_index: r.explicitHashKeyIndex }),
        data: r.data,
      })),
    }),
  ).finish();
}
