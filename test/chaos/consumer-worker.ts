/**
 * A consumer worker in its own process for the consumer chaos test (so it can be killed with SIGKILL).
 * Args: <endpoint> <stream> <application> <workerId> <failoverTimeMillis>.
 *
 * Every line starts with a tag and a monotonic timestamp in milliseconds (process.hrtime, which on
 * Linux is CLOCK_MONOTONIC and so comparable between processes of one machine):
 *   READY <t>                                     consumer.start() resolved
 *   B <t> <workerId> <shardId> <key#n> ...        one delivered batch (printed when eachBatch is called)
 *   A <t> <shardId>                               leaseAcquired
 *   L <t> <shardId> <reason>                      leaseLost
 *   P <t> <shardId> <errorName> <willRetry>       processingError (e.g. the automatic checkpoint after a batch failed)
 *   E <t> <operation> <errorName>                 a DynamoDB call of the consumer failed (counted by middleware)
 *   SF <t> <errorName> <message>                  consumer.start() rejected; a new consumer is started (a supervisor's restart)
 *   STOPPED <t>                                   graceful stop finished (stdin ended), then the process exits 0
 * stdout is a pipe, which Node writes synchronously on Linux: a line printed before a SIGKILL is not lost.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KinesisConsumer } from '@kinesis-kit/consumer';

const [endpoint, streamName, applicationName, workerId, failover] = process.argv.slice(2) as [string, string, string, string, string];
const now = (): string => (Number(process.hrtime.bigint() / 1000n) / 1000).toFixed(3);
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const clientConfig = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
// Our own DynamoDB client (as the consumer would build it: HTTP/1.1, SDK retries off) so that each
// failed lease-table call can be counted; the consumer does its own retrying.
const dynamo = new DynamoDBClient({ ...clientConfig, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
dynamo.middlewareStack.add(
  (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      out(`E ${now()} ${context.commandName ?? '?'} ${(err as Error).name}`);
      throw err;
    }
  },
  { step: 'initialize', name: 'chaosDynamoErrorCounter' },
);

function newConsumer(): KinesisConsumer {
  const consumer = new KinesisConsumer({
    applicationName,
    streamName,
    workerId,
    ...clientConfig,
    dynamoDbClient: dynamo,
    initialPosition: 'TRIM_HORIZON',
    leaseManagement: { failoverTimeMillis: Number(failover), takerInitialJitterMillis: 100 },
    parentShardPollIntervalMillis: 200,
    eachBatch: ({ shardId, records }) => {
      out(`B ${now()} ${workerId} ${shardId} ${records.map((r) => Buffer.from(r.data).toString('utf8')).join(' ')}`);
    },
  });
  consumer.on('leaseAcquired', ({ shardId }) => out(`A ${now()} ${shardId}`));
  consumer.on('leaseLost', ({ shardId, reason }) => out(`L ${now()} ${shardId} ${reason}`));
  consumer.on('processingError', ({ shardId, error, willRetry }) => out(`P ${now()} ${shardId} ${error.name} ${willRetry}`));
  return consumer;
}

let consumer = newConsumer();
let stopping = false;
process.stdin.resume();
process.stdin.on('end', () => {
  stopping = true;
  void consumer
    .stop()
    .catch(() => undefined)
    .finally(() => {
      dynamo.destroy();
      out(`STOPPED ${now()}`);
      process.exit(0);
    });
});

for (let attempt = 1; !stopping; attempt++) {
  try {
    await consumer.start();
    out(`READY ${now()}`);
    break;
  } catch (err) {
    const e = err as Error;
    if (stopping) break; // stdin ended during start(): the 'end' handler stops and exits
    out(`SF ${now()} ${e.name} ${e.message.replace(/\s+/g, ' ').slice(0, 200)}`);
    if (attempt >= 20) process.exit(3);
    await new Promise((resolve) => setTimeout(resolve, 250));
    consumer = newConsumer();
  }
}
