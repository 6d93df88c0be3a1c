/**
 * Suite 'leases': start-up convergence of the lease taker and steady-state DynamoDB cost.
 *
 * Ours: 4 real LeaseCoordinators on dynalite (with the KCL's taker period for the comparison rows,
 * and once with the default adaptive period to show what its extra Scans cost) (real @aws-sdk/client-dynamodb calls), driven by a
 * ManualClock advanced in 50 ms steps with the I/O of each step allowed to finish, so the figure is
 * protocol time (simulated seconds), independent of this machine's speed. KCL 2.x: a model of its
 * taker (kcl.md 2.3, bench/leases/kcl-model.ts) simulated on the same start offsets.
 */
import { ManualClock, seededRandom } from '@kinesis-kit/core';
import { LeaseCoordinator, LeaseTable } from '@kinesis-kit/consumer';
import type { BenchRow, BenchSuite } from '../lib.js';
import { runConsumerFleet, type FleetStart } from './consumer-fleet.js';
import { countingClient, quiesce, startDynalite, type CountingClient } from './dynalite.js';
import { simulateKcl2xTaker } from './kcl-model.js';

const WORKERS = 4;
const LEASES = 64;
/** Workers of a deployment start within this window (same offsets for ours and the KCL model). */
const START_SPREAD_MS = 2_000;
const STEP_MS = 50;
const KCL_RENEW_MS = 3_308;
const KCL_TAKER_MS = 20_050;

interface Convergence {
  seconds: number;
  steals: number;
  requests: number;
}

function startOffsets(seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: WORKERS }, () => Math.floor(random() * START_SPREAD_MS)).sort((a, b) => a - b);
}

function balanced(counts: number[]): boolean {
  return counts.reduce((a, b) => a + b, 0) === LEASES && Math.max(...counts) - Math.min(...counts) <= 1;
}

async function runOurs(
  endpoint: string,
  seed: number,
  steadyMinutes: number,
  takerIntervalMillis: number | undefined,
): Promise<{ convergence: Convergence; requestsPerLeaseMinute: number }> {
  const clock = new ManualClock();
  const admin = countingClient(endpoint);
  const tableName = `bench-leases-${seed}-${Date.now()}`;
  const table = new LeaseTable({ client: admin.client, tableName, clock });
  await table.ensureTable();
  for (let i = 0; i < LEASES; i++) {
    await table.createLeaseIfNotExists({ leaseKey: `shardId-${String(i).padStart(12, '0')}`, checkpoint: { sequenceNumber: 'TRIM_HORIZON' } });
  }
  const offsets = startOffsets(seed);
  const ios: CountingClient[] = [];
  const workers = offsets.map((_, i) => {
    const io = countingClient(endpoint);
    ios.push(io);
    return new LeaseCoordinator({
      dynamoDbClient: io.client,
      tableName,
      workerId: `worker-${i}`,
      clock,
      random: seededRandom(seed * 100 + i),
      ...(takerIntervalMillis !== undefined ? { takerIntervalMillis } : {}),
    });
  });
  let steals = 0;
  for (const w of workers) w.on('takerRun', (e) => void (steals += e.stolen));
  const t0 = clock.monotonic();
  const started = new Set<number>();
  let convergence: Convergence | undefined;
  try {
    for (let elapsed = 0; elapsed <= 600_000; elapsed += STEP_MS) {
      for (let i = 0; i < workers.length; i++) {
        if (!started.has(i) && offsets[i]! <= elapsed) {
          started.add(i);
          await workers[i]!.start();
        }
      }
      await clock.advance(STEP_MS);
      await quiesce(ios);
      if (started.size === workers.length && balanced(workers.map((w) => w.heldLeases().length))) {
        convergence = { seconds: (clock.monotonic() - t0) / 1000, steals, requests: ios.reduce((a, c) => a + c.total(), 0) };
        break;
      }
    }
    if (!convergence) throw new Error('ours did not converge within 600 simulated seconds');

    // Steady state: let the fast follow-up passes run out, then count every request for a while.
    for (let t = 0; t < 60_000; t += 250) {
      await clock.advance(250);
      await quiesce(ios);
    }
    const before = ios.reduce((a, c) => a + c.total(), 0);
    const windowMs = steadyMinutes * 60_000;
    for (let t = 0; t < windowMs; t += 250) {
      await clock.advance(250);
      await quiesce(ios);
    }
    const requests = ios.reduce((a, c) => a + c.total(), 0) - before;
    if (!balanced(workers.map((w) => w.heldLeases().length))) throw new Error('split changed in steady state');
    return { convergence, requestsPerLeaseMinute: requests / LEASES / steadyMinutes };
  } finally {
    await Promise.all(workers.map((w) => w.stop({ releaseLeases: false })));
    for (const io of [admin, ...ios]) io.client.destroy();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const suite: BenchSuite = {
  name: 'leases',
  async run({ quick }) {
    const seeds = quick ? [1, 2] : [1, 2, 3, 4, 5];
    const steadyMinutes = quick ? 1 : 3;
    const dynalite = await startDynalite();
    const ours: { convergence: Convergence; requestsPerLeaseMinute: number }[] = [];
    let adaptive: { convergence: Convergence; requestsPerLeaseMinute: number } | undefined;
    try {
      // The KCL's taker period, for a like-for-like comparison of start-up and DynamoDB cost...
      for (const seed of seeds) ours.push(await runOurs(dynalite.endpoint, seed, steadyMinutes, KCL_TAKER_MS));
      // ...and the default adaptive period (short on small tables), whose extra Scans are the price of fast takeovers.
      adaptive = await runOurs(dynalite.endpoint, seeds[0]!, steadyMinutes, undefined);
    } finally {
      await dynalite.close();
    }
    const kcl = seeds.map((seed) => simulateKcl2xTaker({ leases: LEASES, startOffsets: startOffsets(seed), seed }));
    // The same start offsets through KinesisConsumer (its start() runs passes of its own), in wall time.
    const fleets: FleetStart[] = [];
    for (const seed of seeds) fleets.push(await runConsumerFleet(LEASES, startOffsets(seed)));

    const oursSeconds = median(ours.map((o) => o.convergence.seconds));
    const kclSeconds = median(kcl.map((k) => k.balancedAtMillis / 1000));
    const oursSteals = median(ours.map((o) => o.convergence.steals));
    const kclSteals = median(kcl.map((k) => k.steals));
    const oursCost = median(ours.map((o) => o.requestsPerLeaseMinute));
    const kclCost = 60_000 / KCL_RENEW_MS + (WORKERS * (60_000 / KCL_TAKER_MS)) / LEASES;

    const rows: BenchRow[] = [
      {
        metric: `time to a balanced split, ${WORKERS} workers x ${LEASES} unowned leases (simulated s, median of ${seeds.length})`,
        ours: oursSeconds,
        unit: 's',
        peer: kclSeconds,
        peerName: 'KCL 2.x',
        target: '< KCL 2.x',
        pass: oursSeconds < kclSeconds,
      },
      {
        metric: 'leases stolen from a live worker during start-up (median)',
        ours: oursSteals,
        unit: 'leases',
        peer: kclSteals,
        peerName: 'KCL 2.x',
      },
      {
        metric: `KinesisConsumer fleet, same start offsets: time to a balanced split (wall s on the mock, median of ${seeds.length})`,
        ours: median(fleets.map((f) => f.seconds)),
        unit: 's',
      },
      {
        metric: 'KinesisConsumer fleet: leases stolen from a live worker during start-up (median)',
        ours: median(fleets.map((f) => f.steals)),
        unit: 'leases',
      },
      {
        metric: 'DynamoDB requests per lease per minute, steady state',
        ours: oursCost,
        unit: 'req/lease/min',
        peer: kclCost,
        peerName: 'KCL 2.x',
        target: '<= KCL 2.x + 10%',
        pass: oursCost <= kclCost * 1.1,
      },
      {
        metric: 'DynamoDB requests per lease per minute, steady state, default adaptive taker period (one Scan per worker every 1.25 s)',
        ours: adaptive.requestsPerLeaseMinute,
        unit: 'req/lease/min',
        peer: kclCost,
        peerName: 'KCL 2.x',
      },
    ];
    return {
      suite: 'leases',
      rows,
      notes: [
        `workers start at seeded offsets within ${START_SPREAD_MS} ms (the same for both); times are protocol time on a ManualClock, not wall time`,
        `ours per seed (s): ${ours.map((o) => o.convergence.seconds.toFixed(1)).join(', ')}; KCL 2.x model per seed (s): ${kcl.map((k) => (k.balancedAtMillis / 1000).toFixed(1)).join(', ')}`,
        `ours: ${median(ours.map((o) => o.convergence.requests))} DynamoDB requests until balanced (median); KCL cost computed from its intervals (renew ${KCL_RENEW_MS} ms per lease, one Scan per worker every ${KCL_TAKER_MS} ms)`,
        `KinesisConsumer fleet per seed: ${fleets.map((f) => `${f.seconds.toFixed(1)} s, ${f.steals} stolen`).join('; ')} (default lease settings; a ${LEASES}-shard stream on the in-process mock, limits off)`,
      ],
    };
  },
};
