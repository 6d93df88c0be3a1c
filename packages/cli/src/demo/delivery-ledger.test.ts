import { describe, expect, it } from 'vitest';
import { DeliveryLedger } from './delivery-ledger.js';

function ledgerWith(acked: Record<string, number>): DeliveryLedger {
  const ledger = new DeliveryLedger();
  for (const [key, count] of Object.entries(acked)) for (let n = 0; n < count; n++) ledger.acknowledged(key, n);
  return ledger;
}

describe('DeliveryLedger', () => {
  it('passes when every acknowledged record is delivered in order per key, interleaved across keys', () => {
    const ledger = ledgerWith({ a: 3, b: 2 });
    for (const [key, n] of [['a', 0], ['b', 0], ['a', 1], ['b', 1], ['a', 2]] as const) ledger.delivered(key, n);
    expect(ledger.outstanding).toBe(0);
    expect(ledger.summary()).toMatchObject({ acknowledged: 5, delivered: 5, uniqueDelivered: 5, duplicates: 0, missing: 0, orderViolations: 0, passed: true });
  });

  it('counts redelivery after a failover as duplicates, not as an order violation', () => {
    const ledger = ledgerWith({ a: 4 });
    for (const n of [0, 1, 2, 1, 2, 3]) ledger.delivered('a', n);
    expect(ledger.summary()).toMatchObject({ delivered: 6, uniqueDelivered: 4, duplicates: 2, orderViolations: 0, passed: true });
  });

  it('fails on a missing record and names it', () => {
    const ledger = ledgerWith({ a: 3 });
    ledger.delivered('a', 0);
    ledger.delivered('a', 1);
    expect(ledger.outstanding).toBe(1);
    expect(ledger.summary()).toMatchObject({ missing: 1, missingSample: ['a#2'], passed: false });
  });

  it('fails when a record first arrives after a later one of the same key', () => {
    const ledger = ledgerWith({ a: 3 });
    for (const n of [0, 2, 1]) ledger.delivered('a', n);
    expect(ledger.summary()).toMatchObject({ missing: 0, orderViolations: 1, orderViolationSample: ['a: 1 after 2'], passed: false });
  });

  it('fails when a put failed or a never-acknowledged record shows up', () => {
    const failed = ledgerWith({ a: 1 });
    failed.delivered('a', 0);
    failed.putFailed();
    expect(failed.summary()).toMatchObject({ failedPuts: 1, passed: false });

    const stray = ledgerWith({ a: 1 });
    stray.delivered('a', 0);
    stray.delivered('a', 1);
    stray.delivered('a', 1);
    expect(stray.summary()).toMatchObject({ unexpected: 1, passed: false });
  });
});
