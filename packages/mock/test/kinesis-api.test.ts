import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeLimitsCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  EnableEnhancedMonitoringCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  ListShardsCommand,
  ListStreamsCommand,
  ListTagsForResourceCommand,
  ListTagsForStreamCommand,
  TagResourceCommand,
  UntagResourceCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  RemoveTagsFromStreamCommand,
  StartStreamEncryptionCommand,
  StopStreamEncryptionCommand,
  UpdateStreamModeCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { partitionKeyToHashKey } from '@kinesis-kit/aggregation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bytes, errorOf, HANDLERS, kinesisClient, text } from './helpers.js';


describe.each(HANDLERS)('Kinesis API over $protocol', ({ http1 }) => {
  let server: MockServer;
  let client: KinesisClient;
  beforeAll(async () => {
    server = await startMockServer({ limits: false });
    client = kinesisClient(server, http1);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  it('creates PROVISIONED and ON_DEMAND streams and describes them', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'prov', ShardCount: 3 }));
    await client.send(new CreateStreamCommand({ StreamName: 'ondemand', StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));

    const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'prov' }))).StreamDescriptionSummary!;
    expect(summary).toMatchObject({
      StreamName: 'prov',
      StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/prov',
      StreamStatus: 'ACTIVE',
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 24,
      OpenShardCount: 3,
      ConsumerCount: 0,
      EncryptionType: 'NONE',
    });
    expect(summary.StreamCreationTimestamp).toBeInstanceOf(Date);
    expect(Math.abs(summary.StreamCreationTimestamp!.getTime() - Date.now())).toBeLessThan(10_000);

    const od = (await client.send(new DescribeStreamCommand({ StreamName: 'ondemand' }))).StreamDescription!;
    expect(od.StreamModeDetails?.StreamMode).toBe('ON_DEMAND');
    expect(od.Shards).toHaveLength(4);
    expect(od.HasMoreShards).toBe(false);
    expect(od.Shards!.map((s) => s.ShardId)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
    expect(od.Shards![0]!.HashKeyRange!.StartingHashKey).toBe('0');
    expect(od.Shards![3]!.HashKeyRange!.EndingHashKey).toBe(((1n << 128n) - 1n).toString());

    const list = await client.send(new ListStreamsCommand({}));
    expect(list.StreamNames).toEqual(['ondemand', 'prov']);
    expect(list.StreamSummaries!.map((s) => s.StreamARN)).toEqual([
      'arn:aws:kinesis:us-east-1:000000000000:stream/ondemand',
      'arn:aws:kinesis:us-east-1:000000000000:stream/prov',
    ]);
    const page = await client.send(new ListStreamsCommand({ Limit: 1 }));
    expect(page).toMatchObject({ StreamNames: ['ondemand'], HasMoreStreams: true });
    const page2 = await client.send(new ListStreamsCommand({ NextToken: page.NextToken }));
    expect(page2).toMatchObject({ StreamNames: ['prov'], HasMoreStreams: false });

    const dup = await errorOf(client.send(new CreateStreamCommand({ StreamName: 'prov', ShardCount: 1 })));
    expect(dup.name).toBe('ResourceInUseException');
    const limits = await client.send(new DescribeLimitsCommand({}));
    expect(limits).toMatchObject({ OpenShardCount: 7, OnDemandStreamCount: 1 });
  });

  it('routes by MD5 of the partition key or by the explicit hash key, with AWS-shaped sequence numbers', async () => {
    const shards = (await client.send(new ListShardsCommand({ StreamName: 'prov' }))).Shards!;
    const shardFor = (hk: bigint) =>
      shards.find((s) => hk >= BigInt(s.HashKeyRange!.StartingHashKey!) && hk <= BigInt(s.HashKeyRange!.EndingHashKey!))!.ShardId;
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`);
    const res = await client.send(
      new PutRecordsCommand({
        StreamName: 'prov',
        Records: [
          ...keys.map((k) => ({ PartitionKey: k, Data: bytes(k) })),
          { PartitionKey: 'x', ExplicitHashKey: '0', Data: bytes('low') },
          { PartitionKey: 'x', ExplicitHashKey: ((1n << 128n) - 1n).toString(), Data: bytes('high') },
        ],
      }),
    );
    expect(res.FailedRecordCount).toBe(0);
    keys.forEach((k, i) => expect(res.Records![i]!.ShardId).toBe(shardFor(partitionKeyToHashKey(k))));
    expect(res.Records![60]!.ShardId).toBe('shardId-000000000000');
    expect(res.Records![61]!.ShardId).toBe('shardId-000000000002');
    const seqs = res.Records!.map((r) => r.SequenceNumber!);
    for (const s of seqs) expect(s).toMatch(/^\d{56}$/);
    expect(new Set(seqs).size).toBe(seqs.length);
    const byShard = new Map<string, bigint[]>();
    res.Records!.forEach((r) => byShard.set(r.ShardId!, [...(byShard.get(r.ShardId!) ?? []), BigInt(r.SequenceNumber!)]));
    for (const list of byShard.values()) for (let i = 1; i < list.length; i++) expect(list[i]! > list[i - 1]!).toBe(true);

    const one = await client.send(new PutRecordCommand({ StreamName: 'prov', PartitionKey: 'key-0', Data: bytes('single') }));
    expect(one.ShardId).toBe(shardFor(partitionKeyToHashKey('key-0')));
    expect(BigInt(one.SequenceNumber!) > byShard.get(one.ShardId!)!.at(-1)!).toBe(true);
  });

  it('positions iterators of all five types and reads with Limit, MillisBehindLatest and NextShardIterator', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'read', ShardCount: 1 }));
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/read`;
    const put = await client.send(
      new PutRecordsCommand({ StreamARN: streamArn, Records: ['a', 'b', 'c', 'd'].map((d) => ({ PartitionKey: d, Data: bytes(d) })) }),
    );
    const seq = put.Records!.map((r) => r.SequenceNumber!);
    const ShardId = 'shardId-000000000000';
    const read = async (iteratorInput: Partial<ConstructorParameters<typeof GetShardIteratorCommand>[0]>, limit?: number) => {
      const it = await client.send(new GetShardIteratorCommand({ StreamName: 'read', ShardId, ShardIteratorType: 'TRIM_HORIZON', ...iteratorInput }));
      return client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: limit }));
    };
    const all = await read({ ShardIteratorType: 'TRIM_HORIZON' });
    expect(all.Records!.map((r) => text(r.Data))).toEqual(['a', 'b', 'c', 'd']);
    expect(all.Records![0]).toMatchObject({ PartitionKey: 'a', SequenceNumber: seq[0] });
    expect(all.Records![0]!.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
    expect(all.MillisBehindLatest).toBe(0);
    expect(all.NextShardIterator).toBeTruthy();
    expect(all.ChildShards).toBeUndefined();

    expect((await read({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: seq[2] })).Records!.map((r) => text(r.Data))).toEqual(['c', 'd']);
    expect((await read({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: seq[2] })).Records!.map((r) => text(r.Data))).toEqual(['d']);
    expect((await read({ ShardIteratorType: 'LATEST' })).Records).toEqual([]);
    const ts = all.Records![0]!.ApproximateArrivalTimestamp!;
    expect((await read({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: ts })).Records!.length).toBe(4);
    const lastTs = all.Records![3]!.ApproximateArrivalTimestamp!;
    expect((await read({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(lastTs.getTime() + 1) })).Records).toEqual([]);
    const future = await errorOf(read({ ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(Date.now() + 3_600_000) }));
    expect(future.name).toBe('InvalidArgumentException');

    const first = await read({ ShardIteratorType: 'TRIM_HORIZON' }, 1);
    expect(first.Records!.map((r) => text(r.Data))).toEqual(['a']);
    expect(first.MillisBehindLatest).toBeGreaterThanOrEqual(0);
    const rest = await client.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator, Limit: 2 }));
    expect(rest.Records!.map((r) => text(r.Data))).toEqual(['b', 'c']);

    // LATEST then a new record: the iterator sees only the new one.
    const latest = await client.send(new GetShardIteratorCommand({ StreamName: 'read', ShardId, ShardIteratorType: 'LATEST' }));
    await client.send(new PutRecordCommand({ StreamName: 'read', PartitionKey: 'e', Data: bytes('e') }));
    const fresh = await client.send(new GetRecordsCommand({ ShardIterator: latest.ShardIterator }));
    expect(fresh.Records!.map((r) => text(r.Data))).toEqual(['e']);

    const wrongShard = await errorOf(
      client.send(new GetShardIteratorCommand({ StreamName: 'read', ShardId: 'shardId-000000000009', ShardIteratorType: 'LATEST' })),
    );
    expect(wrongShard.name).toBe('ResourceNotFoundException');
    const foreignSeq = await errorOf(
      client.send(
        new GetShardIteratorCommand({
          StreamName: 'read',
          ShardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: '49000000010000000000000000000000000000000000000000000001',
        }),
      ),
    );
    expect(foreignSeq.name).toBe('InvalidArgumentException');
    const badIterator = await errorOf(client.send(new GetRecordsCommand({ ShardIterator: 'bm90IGFuIGl0ZXJhdG9y' })));
    expect(badIterator.name).toBe('InvalidArgumentException');
  });

  it('pages ListShards with MaxResults, NextToken and ExclusiveStartShardId; NextToken plus StreamName is rejected', async () => {
    const p1 = await client.send(new ListShardsCommand({ StreamName: 'ondemand', MaxResults: 3 }));
    expect(p1.Shards!.map((s) => s.ShardId)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    expect(p1.NextToken).toBeTruthy();
    const p2 = await client.send(new ListShardsCommand({ NextToken: p1.NextToken, MaxResults: 3 }));
    expect(p2.Shards!.map((s) => s.ShardId)).toEqual(['shardId-000000000003']);
    expect(p2.NextToken).toBeUndefined();
    const both = await errorOf(client.send(new ListShardsCommand({ StreamName: 'ondemand', NextToken: p1.NextToken })));
    expect(both.name).toBe('InvalidArgumentException');
    const after = await client.send(new ListShardsCommand({ StreamName: 'ondemand', ExclusiveStartShardId: 'shardId-000000000001' }));
    expect(after.Shards!.map((s) => s.ShardId)).toEqual(['shardId-000000000002', 'shardId-000000000003']);
    const s0 = p1.Shards![0]!;
    expect(s0.SequenceNumberRange!.StartingSequenceNumber).toMatch(/^\d{56}$/);
    expect(s0.SequenceNumberRange!.EndingSequenceNumber).toBeUndefined();
    const missing = await errorOf(client.send(new ListShardsCommand({ StreamName: 'nope' })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('manages tags, retention, encryption, enhanced monitoring and stream mode', async () => {
    const StreamName = 'prov';
    await client.send(new AddTagsToStreamCommand({ StreamName, Tags: { team: 'data', env: 'test', tier: 'gold' } }));
    await client.send(new RemoveTagsFromStreamCommand({ StreamName, TagKeys: ['tier'] }));
    const tags = await client.send(new ListTagsForStreamCommand({ StreamName }));
    expect(tags.Tags).toEqual([
      { Key: 'env', Value: 'test' },
      { Key: 'team', Value: 'data' },
    ]);
    expect((await client.send(new ListTagsForStreamCommand({ StreamName, Limit: 1 }))).HasMoreTags).toBe(true);
    const ResourceARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/prov';
    await client.send(new TagResourceCommand({ ResourceARN, Tags: { owner: 'me' } }));
    await client.send(new UntagResourceCommand({ ResourceARN, TagKeys: ['env'] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceARN }))).Tags).toEqual([
      { Key: 'owner', Value: 'me' },
      { Key: 'team', Value: 'data' },
    ]);

    await client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName, RetentionPeriodHours: 48 }));
    expect((await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!.RetentionPeriodHours).toBe(48);
    const wrongWay = await errorOf(client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName, RetentionPeriodHours: 24 })));
    expect(wrongWay.name).toBe('InvalidArgumentException');
    await client.send(new DecreaseStreamRetentionPeriodCommand({ StreamName, RetentionPeriodHours: 24 }));

    await client.send(new StartStreamEncryptionCommand({ StreamName, EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }));
    let summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!;
    expect(summary).toMatchObject({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    const encrypted = await client.send(new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: bytes('secret') }));
    expect(encrypted.EncryptionType).toBe('KMS');
    await client.send(new StopStreamEncryptionCommand({ StreamName, EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }));

    const mon = await client.send(new EnableEnhancedMonitoringCommand({ StreamName, ShardLevelMetrics: ['IncomingBytes'] }));
    expect(mon.DesiredShardLevelMetrics).toEqual(['IncomingBytes']);

    await client.send(new UpdateStreamModeCommand({ StreamARN: summary.StreamARN, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    summary = (await client.send(new DescribeStreamSummaryCommand({ StreamARN: summary.StreamARN }))).StreamDescriptionSummary!;
    expect(summary).toMatchObject({ EncryptionType: 'NONE', StreamModeDetails: { StreamMode: 'ON_DEMAND' }, EnhancedMonitoring: [{ ShardLevelMetrics: ['IncomingBytes'] }] });
  });

  it('deletes streams (consumers need EnforceConsumerDeletion) and reports missing ones', async () => {
    await client.send(new CreateStreamCommand({ StreamName: 'doomed', ShardCount: 1 }));
    await client.send(
      new RegisterStreamConsumerCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/doomed', ConsumerName: 'app' }),
    );
    const inUse = await errorOf(client.send(new DeleteStreamCommand({ StreamName: 'doomed' })));
    expect(inUse.name).toBe('ResourceInUseException');
    await client.send(new DeleteStreamCommand({ StreamName: 'doomed', EnforceConsumerDeletion: true }));
    const gone = await errorOf(client.send(new DescribeStreamSummaryCommand({ StreamName: 'doomed' })));
    expect(gone.name).toBe('ResourceNotFoundException');
    expect(gone.message).toContain('doomed');
    expect(gone.$metadata?.httpStatusCode).toBe(400);
    const arnOnly = await errorOf(
      client.send(new PutRecordCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/doomed', PartitionKey: 'k', Data: bytes('x') })),
    );
    expect(arnOnly.name).toBe('ResourceNotFoundException');
  });

  it('rejects invalid input with ValidationException', async () => {
    const badName = await errorOf(client.send(new CreateStreamCommand({ StreamName: 'bad name!', ShardCount: 1 })));
    expect(badName.name).toBe('ValidationException');
    expect(badName.message).toContain("at 'streamName'");
    const emptyKey = await errorOf(client.send(new PutRecordsCommand({ StreamName: 'prov', Records: [{ PartitionKey: '', Data: bytes('x') }] })));
    expect(emptyKey.name).toBe('ValidationException');
    expect(emptyKey.message).toContain("records.1.member.partitionKey");
    const longKey = await errorOf(client.send(new PutRecordCommand({ StreamName: 'prov', PartitionKey: 'k'.repeat(257), Data: bytes('x') })));
    expect(longKey.name).toBe('ValidationException');
    const badHashKey = await errorOf(
      client.send(new PutRecordCommand({ StreamName: 'prov', PartitionKey: 'k', ExplicitHashKey: (1n << 128n).toString(), Data: bytes('x') })),
    );
    expect(badHashKey.name).toBe('InvalidArgumentException');
    const noShards = await errorOf(client.send(new CreateStreamCommand({ StreamName: 'zero', ShardCount: 0 })));
    expect(noShards.name).toBe('ValidationException');
  });
});
