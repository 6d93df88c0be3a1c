/**
 * An aws-kcl (MultiLangDaemon) record processor ported to kinesis-kit. The lifecycle methods keep
 * their names; completeCallback becomes "return (or resolve)"; the checkpointer returns a promise
 * and takes the record itself, so KPL-aggregated records are checkpointed with their
 * sub-sequence number. Records arrive deaggregated, with `data` as bytes (not base64).
 *
 * The lease table is the KCL's: run this with the applicationName of the properties file and the
 * shards resume from the checkpoints the Java daemon wrote.
 * Run: node --conditions=@kinesis-kit/source --import tsx examples/migrate-multilang-processor.ts
 */
import {
  KinesisConsumer,
  type InitializationInput,
  type ProcessRecordsInput,
  type ShardEndedInput,
  type ShardRecordProcessor,
  type ShutdownRequestedInput,
} from '@kinesis-kit/consumer';
import { startMockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';

/** The aws-kcl sample processor: handle every record, checkpoint after each batch. */
export class SampleRecordProcessor implements ShardRecordProcessor {
  private shardId = '';

  constructor(
    private readonly handle: (shardId: string, partitionKey: string, text: string) => void | Promise<void>,
    private readonly onCheckpoint: (shardId: string, records: number, sequenceNumber: string) => void = () => {},
  ) {}

  /** aws-kcl: initialize(input, completeCallback); input.sequenceNumber is the lease's checkpoint. */
  initialize(input: InitializationInput): void {
    this.shardId = input.shardId;
  }

  /** aws-kcl: processRecords(input, completeCallback), then checkpointer.checkpoint(seq, callback). */
  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    for (const record of records) {
      // aws-kcl handed a base64 string: Buffer.from(record.data, 'base64').
      await this.handle(this.shardId, record.partitionKey, Buffer.from(record.data).toString('utf8'));
    }
    const last = records.at(-1);
    if (!last) return;
    // Rejects where aws-kcl passed `err` to the callback (e.g. LeaseLostError); a throw here redelivers the batch.
    await checkpointer.checkpoint(last);
    this.onCheckpoint(this.shardId, records.length, last.sequenceNumber);
  }

  /** aws-kcl: leaseLost(input, completeCallback). No checkpointer: another worker owns the shard now. */
  leaseLost(): void {}

  /** aws-kcl: shardEnded(input, completeCallback) had to call checkpointer.checkpoint() (SHARD_END). */
  async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    await checkpointer.checkpoint();
  }

  /** aws-kcl: shutdownRequested(input, completeCallback); called on consumer.stop(). */
  async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    await checkpointer.checkpoint();
  }
}

export async function main(log: (line: string) => void = console.log, count = 200): Promise<number> {
  const server = await startMockServer({ streams: [{ name: 'kclnodejssample', shardCount: 2 }] });
  const producer = new KinesisProducer({ streamName: 'kclnodejssample', ...server.clientConfig() });
  let consumer: KinesisConsumer | undefined;
  const perShard = new Map<string, { records: number; checkpoint: string }>();
  let checkpointed = 0;
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => producer.put({ partitionKey: `key-${i % 10}`, data: `record ${i}` })));

    let finished = (): void => {};
    const done = new Promise<void>((resolve) => (finished = resolve));
    consumer = new KinesisConsumer({
      applicationName: 'kclnodejssample', // the properties file's applicationName = the lease table
      streamName: 'kclnodejssample',
      ...server.clientConfig(), // in AWS: { region } (properties regionName)
      initialPosition: 'TRIM_HORIZON', // initialPositionInStream; only for shards without a lease
      processorFactory: () =>
        new SampleRecordProcessor(
          () => {},
          (shardId, records, sequenceNumber) => {
            const tally = perShard.get(shardId) ?? { records: 0, checkpoint: '' };
            perShard.set(shardId, { records: tally.records + records, checkpoint: sequenceNumber });
            checkpointed += records;
            if (checkpointed >= count) finished();
          },
        ),
    });
    await consumer.start();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${checkpointed} of ${count} records checkpointed after 30 s`)), 30_000);
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    for (const [shardId, { records, checkpoint }] of [...perShard].sort()) log(`${shardId}: ${records} records, checkpoint ${checkpoint}`);
    log(`${checkpointed} of ${count} records processed and checkpointed`);
  } finally {
    await consumer?.stop(); // shutdownRequested on each shard, then the leases are released
    await producer.close();
    await server.close();
  }
  return checkpointed;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
