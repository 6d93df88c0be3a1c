/**
 * Typed, synchronous access to the peer `aws-kinesis-agg` 4.2.8 (CommonJS, callback API) for the
 * compatibility tests.
 */
import { createRequire } from 'node:module';

export interface PeerInputRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer | string;
}

export interface PeerEncodedRecord {
  partitionKey: string;
  data: Buffer;
  /** Capital E: the peer's spelling (kpl.md 4.1 bug 2). */
  ExplicitHashKey?: string;
}

/** Lambda-shape output of the peer's deaggregation (data is base64). */
export interface PeerUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  data: string;
}

interface AwsKinesisAggModule {
  aggregate(
    records: PeerInputRecord[],
    onEncoded: (encoded: PeerEncodedRecord, done: (err?: Error) => void) => void,
    afterAll: () => void,
    onError: (err: Error) => void,
    queueSize?: number,
  ): void;
  deaggregateSync(record: object, computeChecksums: boolean, cb: (err: Error | null | undefined, records?: PeerUserRecord[]) => void): void;
  RecordAggregator: new () => {
    addUserRecord(record: PeerInputRecord): void;
    build(): PeerEncodedRecord | undefined;
  };
}

export const peer = loadPeer();

/**
 * vitest starts its workers with `--conditions import`, so Node's require('long') inside the
 * peer's protobufjs 7 returns long 5's ESM namespace (require(esm)) instead of the Long class, and
 * its encoder fails with "Long.fromNumber is not a function". protobufjs looks for
 * `globalThis.dcodeIO.Long` first: provide the real class while the peer loads.
 */
function loadPeer(): AwsKinesisAggModule {
  const require = createRequire(import.meta.url);
  const longModule = require('long') as { default?: unknown; fromNumber?: unknown };
  const Long = typeof longModule.fromNumber === 'function' ? longModule : longModule.default;
  const global = globalThis as { dcodeIO?: unknown };
  const previous = global.dcodeIO;
  global.dcodeIO = { Long };
  try {
    return require('aws-kinesis-agg') as AwsKinesisAggModule;
  } finally {
    if (previous === undefined) delete global.dcodeIO;
    else global.dcodeIO = previous;
  }
}

/** The peer's `aggregate()`, collected: resolves with every encoded record once it has finished. */
export function peerAggregate(records: PeerInputRecord[]): Promise<{ encoded: PeerEncodedRecord[]; errors: Error[] }> {
  return new Promise((resolve) => {
    const encoded: PeerEncodedRecord[] = [];
    const errors: Error[] = [];
    peer.aggregate(
      records,
      (record, done) => {
        encoded.push(record);
        done();
      },
      () => resolve({ encoded, errors }),
      (err) => errors.push(err),
    );
  });
}

/** The peer's deaggregateSync with checksums on: the first error, else the records. */
export function peerDeaggregate(record: object): { error?: Error; records: PeerUserRecord[] } {
  let error: Error | undefined;
  let records: PeerUserRecord[] = [];
  peer.deaggregateSync(record, true, (err, out) => {
    if (err) error ??= err;
    else records = out ?? [];
  });
  return error === undefined ? { records } : { error, records };
}
