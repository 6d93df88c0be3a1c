/** fast-check arbitraries shared by the property tests. */
import fc from 'fast-check';

/** Partition keys: fixed edge cases, any Unicode (astral included) up to 256 UTF-16 units, short ASCII-ish. */
export const partitionKeyArbitrary = fc.oneof(
  fc.constantFrom('pk1', 'pk2', 'a', 'ü', '😀', 'x'.repeat(256), '😀'.repeat(128)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }),
  fc.string({ minLength: 1, maxLength: 20 }),
);

export const explicitHashKeyArbitrary = fc.oneof(
  fc.constantFrom('0', '999', '340282366920938463463374607431768211455'),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((n) => n.toString()),
);

/** Mostly small data, sometimes past the 127-byte one-byte-varint boundary. */
export const dataArbitrary = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 400 }));

/** A user record; the explicit hash key is present about half the time. */
export const userRecordArbitrary = fc.record(
  { partitionKey: partitionKeyArbitrary, explicitHashKey: explicitHashKeyArbitrary, data: dataArbitrary },
  { requiredKeys: ['partitionKey', 'data'] },
);
