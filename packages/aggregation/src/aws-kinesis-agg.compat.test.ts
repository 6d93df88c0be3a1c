/**
 * Round trips with the Node peer aws-kinesis-agg 4.2.8, both ways. Its known bugs (kpl.md 4.1,
 * plus the key-table ordering one found here) are tested around, not taken as correct.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataArbitrary, explicitHashKeyArbitrary, partitionKeyArbitrary } from './arbitraries.test-helpers.js';
import { peer, peerAggregate, peerDeaggregate, type PeerUserRecord } from './aws-kinesis-agg.test-helpers.js';
import { deaggregate } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode.js';
import { RecordAggregator, type AggregatorUserRecord } from './record-aggregator.js';
import { VECTOR_1, VECTOR_2 } from './test-vectors.test-helpers.js';

const SEQ = '49590338271490256608559692538361571095921575989136588898';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** JS object keys that are array indices are enumerated first, in numeric order: the peer's table-order bug. */
const isArrayIndexKey = (key: string) => /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1;
/** The peer keeps its key tables in plain objects: `obj['__proto__'] = n` sets the prototype, the key is lost. */
const isProtoKey = (key: string) => key === '__proto__';

/**
 * What the peer's deaggregation must say about our records. Its bug 1: a record without an
 * explicit_hash_key_index gets the EHK at table index 0, so `explicitPartitionKey` is only
 * checked for records that have one.
 */
function expectPeerSees(peerRecords: PeerUserRecord[], records: { partitionKey: string; explicitHashKey?: string; data: Uint8Array }[]) {
  expect(peerRecords).toHaveLength(records.length);
  peerRecords.forEach((r, i) => {
    const input = records[i]!;
    expect(r.partitionKey).toBe(input.partitionKey);
    expect(r.data).toBe(b64(input.data));
    expect(r.subSequenceNumber).toBe(i);
    expect(r.sequenceNumber).toBe(SEQ);
    if (input.explicitHashKey !== undefined) expect(r.explicitPartitionKey).toBe(BigInt(input.explicitHashKey).toString());
  });
}

const ourRecords = fc.array(
  fc.record({ partitionKey: partitionKeyArbitrary, explicitHashKey: explicitHashKeyArbitrary, data: dataArbitrary }, { requiredKeys: ['partitionKey', 'data'] }),
  { minLength: 2, maxLength: 30 },
);

describe('ours -> aws-kinesis-agg', () => {
  it('the peer deaggregates what encodeAggregatedRecord writes (checksums on), Lambda and SDK shapes', () => {
    fc.assert(
      fc.property(ourRecords, (records) => {
        const data = encodeAggregatedRecord(records);
        const lambda = peerDeaggregate({ data: b64(data), partitionKey: 'a', sequenceNumber: SEQ });
        expect(lambda.error).toBeUndefined();
        expectPeerSees(lambda.records, records);
        const sdk = peerDeaggregate({ Data: data, PartitionKey: 'a', SequenceNumber: SEQ });
        expect(sdk.error).toBeUndefined();
        const pascal = sdk.records as unknown as Record<string, unknown>[];
        expect(pascal.map((r) => r.PartitionKey)).toEqual(records.map((r) => r.partitionKey));
        expect(pascal.map((r) => r.Data)).toEqual(records.map((r) => b64(r.data)));
      }),
      { numRuns: 100 },
    );
  });

  it('the peer deaggregates every aggregated container our RecordAggregator emits at the 1 MiB-ish and 50 KB limits', () => {
    const aggregator = new RecordAggregator({ maxSize: 51200 });
    const inputs: AggregatorUserRecord[] = Array.from({ length: 3000 }, (_, i) => ({ partitionKey: `key-${i % 137}`, data: Buffer.alloc(i % 300, i & 0xff) }));
    const containers = inputs.flatMap((r) => aggregator.add(r));
    const last = aggregator.flush();
    if (last) containers.push(last);
    expect(containers.length).toBeGreaterThan(5);
    for (const c of containers.filter((x) => x.aggregated)) {
      const { error, records } = peerDeaggregate({ data: b64(c.data), partitionKey: c.partitionKey, sequenceNumber: SEQ });
      expect(error).toBeUndefined();
      expectPeerSees(records, c.userRecords);
    }
  });

  it('both kpl.md vectors come out of the peer as written', () => {
    expectPeerSees(peerDeaggregate({ data: b64(Buffer.from(VECTOR_1.hex, 'hex')), partitionKey: 'a', sequenceNumber: SEQ }).records, VECTOR_1.records);
    const v2 = peerDeaggregate({ data: b64(Buffer.from(VECTOR_2.hex, 'hex')), partitionKey: 'a', sequenceNumber: SEQ }).records;
    expectPeerSees(v2, VECTOR_2.records);
    // Peer bug 1: the second record has no explicit_hash_key_index, yet the peer hands it table[0].
    expect(v2[1]!.explicitPartitionKey).toBe('999');
    // We do not.
    expect(deaggregate({ Data: Buffer.from(VECTOR_2.hex, 'hex'), PartitionKey: 'a', SequenceNumber: SEQ })[1]!.explicitHashKey).toBeUndefined();
  });
});

describe('aws-kinesis-agg -> ours', () => {
  // Keys the peer can encode correctly: no array-index-like keys (see the table-order test below).
  const peerSafeKey = partitionKeyArbitrary.filter((k) => !isArrayIndexKey(k) && !isProtoKey(k));
  const peerRecords = fc.array(fc.record({ partitionKey: peerSafeKey, data: dataArbitrary }), { minLength: 2, maxLength: 30 });

  it('we deaggregate what its aggregate() writes (no explicit hash keys)', async () => {
    await fc.assert(
      fc.asyncProperty(peerRecords, async (records) => {
        const { encoded, errors } = await peerAggregate(records.map((r) => ({ partitionKey: r.partitionKey, data: Buffer.from(r.data) })));
        expect(errors).toEqual([]);
        expect(encoded).toHaveLength(1);
        const out = deaggregate({ Data: encoded[0]!.data, PartitionKey: encoded[0]!.partitionKey, SequenceNumber: SEQ });
        expect(out.map((r) => [r.partitionKey, b64(r.data), r.subSequenceNumber, r.aggregated])).toEqual(
          records.map((r, i) => [r.partitionKey, b64(r.data), i, true]),
        );
        for (const r of out) expect('explicitHashKey' in r).toBe(false);
        // Same records, same bytes: the peer and we both write the KPL layout.
        expect(Buffer.from(encodeAggregatedRecord(records)).equals(encoded[0]!.data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('we deaggregate what its RecordAggregator builds, with explicit hash keys, from a Lambda record', () => {
    // Explicit hash keys >= 2^32-1 are not array indices, so the peer keeps them in first-use order.
    const bigEhk = fc.bigInt({ min: 2n ** 32n, max: (1n << 128n) - 1n }).map(String);
    fc.assert(
      fc.property(
        fc.array(fc.record({ partitionKey: peerSafeKey, explicitHashKey: bigEhk, data: dataArbitrary }, { requiredKeys: ['partitionKey', 'data'] }), {
          minLength: 2,
          maxLength: 20,
        }),
        (records) => {
          const aggregator = new peer.RecordAggregator();
          for (const r of records) aggregator.addUserRecord({ ...r, data: Buffer.from(r.data) });
          const built = aggregator.build()!;
          const out = deaggregate({ data: b64(built.data), partitionKey: built.partitionKey, sequenceNumber: SEQ, approximateArrivalTimestamp: 1700000000 });
          expect(out.map((r) => [r.partitionKey, r.explicitHashKey, b64(r.data)])).toEqual(records.map((r) => [r.partitionKey, r.explicitHashKey, b64(r.data)]));
          expect(out.every((r) => r.approximateArrivalTimestamp?.getTime() === 1700000000000)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('peer bug: array-index-like keys reorder its key table (Object.keys), so its records carry the wrong keys', () => {
    const aggregator = new peer.RecordAggregator();
    aggregator.addUserRecord({ partitionKey: 'b', data: Buffer.from('1') });
    aggregator.addUserRecord({ partitionKey: '1', data: Buffer.from('2') });
    const built = aggregator.build()!;
    // We decode the wire faithfully: the peer wrote table ["1","b"] with record 0 -> index 0.
    expect(deaggregate({ Data: built.data, PartitionKey: 'b', SequenceNumber: SEQ }).map((r) => r.partitionKey)).toEqual(['1', 'b']);
    // Our encoder keeps first-appearance order, so the same records survive.
    const ours = encodeAggregatedRecord([
      { partitionKey: 'b', data: Buffer.from('1') },
      { partitionKey: '1', data: Buffer.from('2') },
    ]);
    expect(deaggregate({ Data: ours, PartitionKey: 'a', SequenceNumber: SEQ }).map((r) => r.partitionKey)).toEqual(['b', '1']);
    expect(peerDeaggregate({ data: b64(ours), partitionKey: 'a', sequenceNumber: SEQ }).records.map((r) => r.partitionKey)).toEqual(['b', '1']);
  });

  it('peer bug: a "__proto__" partition key is missing from its key table, so its container has a dangling index', async () => {
    const { encoded } = await peerAggregate([
      { partitionKey: '__proto__', data: 'one' },
      { partitionKey: 'pk1', data: 'two' },
    ]);
    // Two records but a one-entry table: record 1 points at index 1, past its end.
    const out = deaggregate({ Data: encoded[0]!.data, PartitionKey: encoded[0]!.partitionKey, SequenceNumber: SEQ });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ aggregated: false, subSequenceNumber: 0 }); // passed through whole, not lost
    // Ours writes the key like any other.
    const ours = encodeAggregatedRecord([
      { partitionKey: '__proto__', data: Buffer.from('one') },
      { partitionKey: 'pk1', data: Buffer.from('two') },
    ]);
    expect(deaggregate({ Data: ours, PartitionKey: 'a', SequenceNumber: SEQ }).map((r) => r.partitionKey)).toEqual(['__proto__', 'pk1']);
  });

  it('peer quirks on the outer record: partition key = first key, no EHK unless records[0] has one; we route like the KPL', async () => {
    const { encoded } = await peerAggregate([
      { partitionKey: 'pk1', data: 'hello' },
      { partitionKey: 'pk2', data: 'world', explicitHashKey: '5000000000' },
    ]);
    expect(encoded[0]!.partitionKey).toBe('pk1');
    expect(encoded[0]!.ExplicitHashKey).toBeUndefined(); // bug 2
    const aggregator = new RecordAggregator();
    aggregator.add({ partitionKey: 'pk1', data: Buffer.from('hello') });
    aggregator.add({ partitionKey: 'pk2', data: Buffer.from('world'), explicitHashKey: '5000000000' });
    expect(aggregator.flush()).toMatchObject({ partitionKey: 'a', explicitHashKey: VECTOR_1.routingHashKey });
  });

  it('peer bug 7 vs KCL semantics: a record that starts with the magic but is not a container is lost by the peer, kept by us', () => {
    const notAContainer = Buffer.concat([Buffer.from('f3899ac2', 'hex'), Buffer.from('plain text payload, no protobuf')]);
    expect(peerDeaggregate({ data: b64(notAContainer), partitionKey: 'k', sequenceNumber: SEQ }).error).toBeInstanceOf(Error);
    const out = deaggregate({ data: b64(notAContainer), partitionKey: 'k', sequenceNumber: SEQ });
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!.data).equals(notAContainer)).toBe(true);
  });
});
