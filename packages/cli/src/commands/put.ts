import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { KinesisProducer, type UserRecordResult } from '@kinesis-kit/producer';
import { createAwsClients } from '../aws-clients.js';
import { UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, requireStreamName } from '../connection-args.js';
import { parseInputLine, type LineFormat } from '../input-line.js';
import { PutTally } from '../put-tally.js';
import type { CommandIo } from './command.js';

export const PUT_USAGE = `Usage: kinesis-kit put --stream <name> [options] < input
  --stream <name>            the stream to write to
  --json                     each line is {"key": "...", "data": <string | JSON>, "explicitHashKey"?: "..."}
  --key <key>                partition key for every line (text mode; default: a random UUID per line)
  --no-aggregation           one Kinesis record per line (default: KPL aggregation)
  --quiet                    no progress line
${CONNECTION_USAGE}
Exits 1 if any record failed, 2 on bad usage or a bad input line (records before it are still sent).`;

const MAX_PENDING = 10_000;

export async function putCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      json: { type: 'boolean', default: false },
      key: { type: 'string' },
      'no-aggregation': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${PUT_USAGE}\n`);
    return 0;
  }
  const streamName = requireStreamName(values.stream);
  if (values.key !== undefined && (values.key.length === 0 || values.key.length > 256)) throw new UsageError('--key: must be 1-256 characters');
  const format: LineFormat = values.json ? 'json' : 'text';
  const clients = createAwsClients(connectionOptions(values));
  const producer = new KinesisProducer({ streamName, kinesisClient: clients.kinesis, aggregationEnabled: !values['no-aggregation'] });
  const tally = new PutTally();
  const progress = values.quiet ? undefined : setInterval(() => io.err(`${tally.progressLine()}${io.isTty ? '\r' : '\n'}`), 1000);
  const pending = new Set<Promise<void>>();
  let badLine: unknown;
  try {
    const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      if (io.signal.aborted) break;
      lineNumber++;
      if (line.length === 0) continue;
      let record;
      try {
        record = parseInputLine(line, lineNumber, format, values.key);
      } catch (err) {
        badLine = err;
        break;
      }
      tally.submitted(record.data.byteLength);
      const settled: Promise<void> = producer.put(record).then(
        (result: UserRecordResult) => tally.succeeded(result),
        (err: unknown) => tally.failed(err),
      );
      pending.add(settled);
      void settled.finally(() => pending.delete(settled));
      // Bounded memory: stop reading stdin while this many records await their acknowledgement.
      if (pending.size >= MAX_PENDING) await Promise.race(pending);
    }
    await producer.flush();
    await Promise.all(pending);
  } finally {
    if (progress) clearInterval(progress);
    await producer.close();
    clients.destroy();
  }
  io.err(`${tally.summaryLine()}\n`);
  if (badLine !== undefined) throw badLine as Error;
  return tally.failures > 0 ? 1 : 0;
}
