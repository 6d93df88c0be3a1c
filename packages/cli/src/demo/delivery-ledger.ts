/**
 * Bookkeeping for the demo's verification: which records the producer had acknowledged, which
 * the consumers delivered, and whether each key's records arrived in the order they were put.
 *
 * Records are identified by (key, n) where n counts up from 0 per key in put order. At-least-once
 * delivery means a record may come again (after a failover, from the last checkpoint): that is a
 * duplicate, not an order violation. A record seen for the first time while a later record of the
 * same key was already seen is an order violation.
 */
export interface LedgerSummary {
  acknowledged: number;
  failedPuts: number;
  delivered: number;
  uniqueDelivered: number;
  duplicates: number;
  missing: number;
  /** Up to ten missing records, as `key#n`. */
  missingSample: string[];
  orderViolations: number;
  /** Up to ten violations, as `key: n after m`. */
  orderViolationSample: string[];
  /** Deliveries of records the producer never acknowledged (should be 0). */
  unexpected: number;
  passed: boolean;
}

interface KeyState {
  acknowledged: Set<number>;
  delivered: Set<number>;
  highestDelivered: number;
}

const SAMPLE_SIZE = 10;

export class DeliveryLedger {
  private readonly keys = new Map<string, KeyState>();
  private acknowledgedCount = 0;
  private failedPuts = 0;
  private deliveries = 0;
  private duplicates = 0;
  private unexpected = 0;
  private orderViolations = 0;
  private readonly orderViolationSample: string[] = [];

  acknowledged(key: string, n: number): void {
    const state = this.state(key);
    if (!state.acknowledged.has(n)) {
      state.acknowledged.add(n);
      this.acknowledgedCount++;
    }
  }

  putFailed(): void {
    this.failedPuts++;
  }

  delivered(key: string, n: number): void {
    this.deliveries++;
    const state = this.state(key);
    if (state.delivered.has(n)) {
      this.duplicates++;
      return;
    }
    state.delivered.add(n);
    if (n < state.highestDelivered) {
      this.orderViolations++;
      if (this.orderViolationSample.length < SAMPLE_SIZE) this.orderViolationSample.push(`${key}: ${n} after ${state.highestDelivered}`);
    }
    state.highestDelivered = Math.max(state.highestDelivered, n);
  }

  /** Acknowledged records not yet delivered. */
  get outstanding(): number {
    let count = 0;
    for (const state of this.keys.values()) for (const n of state.acknowledged) if (!state.delivered.has(n)) count++;
    return count;
  }

  get deliveredCount(): number {
    return this.deliveries;
  }

  get acknowledgedTotal(): number {
    return this.acknowledgedCount;
  }

  summary(): LedgerSummary {
    const missingSample: string[] = [];
    let missing = 0;
    let uniqueDelivered = 0;
    for (const [key, state] of this.keys) {
      for (const n of state.acknowledged) {
        if (state.delivered.has(n)) continue;
        missing++;
        if (missingSample.length < SAMPLE_SIZE) missingSample.push(`${key}#${n}`);
      }
      for (const n of state.delivered) {
        if (state.acknowledged.has(n)) uniqueDelivered++;
        else this.countUnexpectedOnce(key, n);
      }
    }
    return {
      acknowledged: this.acknowledgedCount,
      failedPuts: this.failedPuts,
      delivered: this.deliveries,
      uniqueDelivered,
      duplicates: this.duplicates,
      missing,
      missingSample,
      orderViolations: this.orderViolations,
      orderViolationSample: [...this.orderViolationSample],
      unexpected: this.unexpected,
      passed: missing === 0 && this.orderViolations === 0 && this.failedPuts === 0 && this.unexpected === 0,
    };
  }

  private readonly unexpectedSeen = new Set<string>();

  private countUnexpectedOnce(key: string, n: number): void {
    const id = `${key}#${n}`;
    if (this.unexpectedSeen.has(id)) return;
    this.unexpectedSeen.add(id);
    this.unexpected++;
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { acknowledged: new Set(), delivered: new Set(), highestDelivered: -1 };
      this.keys.set(key, state);
    }
    return state;
  }
}
