import { Writable } from 'node:stream';
import type { KinesisProducer } from './producer.js';
import type { ProducerRecord, SuccessfulUserRecordResult } from './types.js';

export interface ProducerWritableOptions {
  /** Records buffered by the stream itself before write() reports back-pressure (default 16). */
  highWaterMark?: number;
  /**
   * Called for each record that fails (bad input or final failure). Without it, the first failure
   * destroys the stream with that error (so `pipeline()` rejects).
   */
  onRecordError?: (error: Error, record: ProducerRecord) => void;
  /** Called for each record written. */
  onRecordResult?: (result: SuccessfulUserRecordResult, record: ProducerRecord) => void;
  /** Close the producer when the stream finishes (default false: the stream only flushes). */
  closeProducer?: boolean;
}

/**
 * An object-mode Writable over a producer, for `pipeline()`: each chunk is a ProducerRecord. A write
 * completes once the producer has accepted the record (not when it is acknowledged), so the
 * producer's outstanding limits are what hold the source back. `final` flushes and waits for every
 * record to settle.
 */
export function createProducerWritable(producer: KinesisProducer, options: ProducerWritableOptions = {}): Writable {
  let failure: Error | undefined;
  const onFailure = (error: Error, record: ProducerRecord, stream: Writable): void => {
    if (options.onRecordError) {
      options.onRecordError(error, record);
      return;
    }
    if (failure === undefined) {
      failure = error;
      stream.destroy(error);
    }
  };
  const submit = (record: ProducerRecord, stream: Writable): void => {
    producer.put(record).then(
      (result) => options.onRecordResult?.(result, record),
      (error: Error) => onFailure(error, record, stream),
    );
  };
  const stream: Writable = new Writable({
    objectMode: true,
    highWaterMark: options.highWaterMark ?? 16,
    write(chunk: ProducerRecord, _encoding, callback) {
      if (producer.hasCapacity) {
        submit(chunk, stream);
        callback();
        return;
      }
      producer.waitForCapacity().then(
        () => {
          submit(chunk, stream);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    final(callback) {
      const done = options.closeProducer ? producer.close() : producer.flush();
      done.then(
        () => callback(failure ?? null),
        (err: Error) => callback(err),
      );
    },
  });
  return stream;
}
