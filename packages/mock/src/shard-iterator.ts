/**
 * Shard iterators are opaque to clients; ours carry everything GetRecords needs (stream, its
 * generation, shard, position, issue time) so the server keeps no per-iterator state.
 */
export interface ShardIteratorState {
  streamName: string;
  generation: number;
  shardIndex: number;
  /** Counter of the next record to return. */
  counter: number;
  /** Wall time the iterator was issued (epoch ms); iterators expire after 5 minutes. */
  issuedAtMs: number;
}

const VERSION = 'k1';

export function encodeShardIterator(s: ShardIteratorState): string {
  const text = `${VERSION}|${s.generation}|${s.shardIndex}|${s.counter}|${s.issuedAtMs}|${s.streamName}`;
  return Buffer.from(text, 'utf8').toString('base64');
}

export function decodeShardIterator(iterator: string): ShardIteratorState | undefined {
  const text = Buffer.from(iterator, 'base64').toString('utf8');
  const parts = text.split('|');
  if (parts.length !== 6 || parts[0] !== VERSION) return undefined;
  const [generation, shardIndex, counter, issuedAtMs] = parts.slice(1, 5).map(Number) as [number, number, number, number];
  const streamName = parts[5]!;
  if (![generation, shardIndex, counter, issuedAtMs].every(Number.isFinite) || streamName === '') return undefined;
  return { streamName, generation, shardIndex, counter, issuedAtMs };
}
