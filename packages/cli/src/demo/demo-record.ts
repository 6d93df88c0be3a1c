/** What the demo writes: the key and its per-key counter (for the order check) and the put time (for lag). */
export interface DemoRecord {
  key: string;
  n: number;
  /** Epoch ms when put() was called. */
  t: number;
}

export function encodeDemoRecord(record: DemoRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record));
}

/** Undefined for anything that is not a demo record (the stream could hold others). */
export function decodeDemoRecord(data: Uint8Array): DemoRecord | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { key, n, t } = value as Record<string, unknown>;
    if (typeof key !== 'string' || typeof n !== 'number' || typeof t !== 'number') return undefined;
    return { key, n, t };
  } catch {
    return undefined;
  }
}
