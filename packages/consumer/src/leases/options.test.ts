import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConsumerConfigError } from '../errors.js';
import { LEASE_DEFAULTS, resolveLeaseCoordinatorOptions } from './options.js';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

describe('resolveLeaseCoordinatorOptions', () => {
  it('derives the KCL intervals from failover and epsilon: renew 3308 ms, taker 20050 ms', () => {
    const o = resolveLeaseCoordinatorOptions({ dynamoDbClient: client, applicationName: 'my-app', workerId: 'w' });
    expect(o).toMatchObject({
      tableName: 'my-app',
      failoverTimeMillis: 10_000,
      epsilonMillis: 25,
      renewIntervalMillis: 3_308,
      takerIntervalMillis: 20_050,
      maxLeasesToStealAtOneTime: 1,
      billingMode: 'PAY_PER_REQUEST',
      initialLeaseTableReadCapacity: 10,
      initialLeaseTableWriteCapacity: 10,
      createTableIfMissing: true,
      releaseLeasesOnStop: true,
    });
    expect(o.maxLeasesForWorker).toBe(Number.POSITIVE_INFINITY);
    expect(LEASE_DEFAULTS.failoverTimeMillis).toBe(10_000);
  });

  it('tableName wins over applicationName', () => {
    expect(resolveLeaseCoordinatorOptions({ dynamoDbClient: client, applicationName: 'app', tableName: 'tbl', workerId: 'w' }).tableName).toBe('tbl');
  });

  it.each([
    [{ workerId: '' }, 'workerId'],
    [{ applicationName: undefined }, 'tableName'],
    [{ applicationName: 'a' }, 'applicationName'],
    [{ tableName: 'bad name!' }, 'tableName'],
    [{ failoverTimeMillis: 0 }, 'failoverTimeMillis'],
    [{ failoverTimeMillis: 300, epsilonMillis: 200 }, 'epsilonMillis'],
    [{ maxLeasesForWorker: 0 }, 'maxLeasesForWorker'],
    [{ maxLeasesToStealAtOneTime: 1.5 }, 'maxLeasesToStealAtOneTime'],
    [{ billingMode: 'ON_DEMAND' }, 'billingMode'],
    [{ createTableIfMissing: 'yes' }, 'createTableIfMissing'],
  ])('rejects %o naming the field %s', (patch, field) => {
    const options = { dynamoDbClient: client, applicationName: 'my-app', workerId: 'w', ...patch } as Parameters<typeof resolveLeaseCoordinatorOptions>[0];
    let err: unknown;
    try {
      resolveLeaseCoordinatorOptions(options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConsumerConfigError);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', field });
  });

  it('requires a client', () => {
    expect(() => resolveLeaseCoordinatorOptions({ applicationName: 'app', workerId: 'w' } as never)).toThrow(ConsumerConfigError);
  });

  it('adapts the taker period to the table size unless it is given', () => {
    const auto = resolveLeaseCoordinatorOptions({ dynamoDbClient: client, applicationName: 'my-app', workerId: 'w' });
    expect(auto.takerIntervalMillis).toBe(20_050); // the KCL's, for tables over smallTableMaxLeases
    expect(auto.smallTableTakerIntervalMillis).toBe(1_250); // failover / 8
    expect(auto.smallTableMaxLeases).toBe(100);
    const slow = resolveLeaseCoordinatorOptions({ dynamoDbClient: client, applicationName: 'my-app', workerId: 'w', failoverTimeMillis: 60_000 });
    expect(slow.smallTableTakerIntervalMillis).toBe(7_500);
    const fixed = resolveLeaseCoordinatorOptions({ dynamoDbClient: client, applicationName: 'my-app', workerId: 'w', takerIntervalMillis: 5_000 });
    expect(fixed.takerIntervalMillis).toBe(5_000);
    expect(fixed.smallTableTakerIntervalMillis).toBeUndefined();
  });
});
