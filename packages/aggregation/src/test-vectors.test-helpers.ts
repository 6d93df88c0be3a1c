/** The two test vectors of kpl.md section 1.6 (produced by aws-kinesis-agg 4.2.8 and matching the KPL's layout). */

const utf8 = (s: string) => Buffer.from(s, 'utf8');

export const VECTOR_1 = {
  records: [
    { partitionKey: 'pk1', data: utf8('hello') },
    { partitionKey: 'pk2', data: utf8('world') },
    { partitionKey: 'pk1', data: utf8('!') },
  ],
  hex:
    'f3899ac2' +
    '0a03706b31' +
    '0a03706b32' +
    '1a09' +
    '0800' +
    '1a0568656c6c6f' +
    '1a09' +
    '0801' +
    '1a05776f726c64' +
    '1a05' +
    '0800' +
    '1a0121' +
    '13441f9267225980303271d133978ab4',
  /** The hash key KPL would send the container with: MD5("pk1") as a uint128. */
  routingHashKey: '329398341438914906102347661116985167824',
};

export const VECTOR_2 = {
  records: [
    { partitionKey: 'a', explicitHashKey: '999', data: utf8('x') },
    { partitionKey: 'b', data: utf8('y') },
  ],
  hex: 'f3899ac2' + '0a0161' + '0a0162' + '1203393939' + '1a07' + '0800' + '1000' + '1a0178' + '1a05' + '0801' + '1a0179' + 'a660e549fb817083c69fd2b8b578a6b8',
};
