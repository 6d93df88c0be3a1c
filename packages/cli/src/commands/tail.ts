import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws-clients.js';
import { UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, requireStreamName } from '../connection-args.js';
import { formatRecordJson, formatRecordText } from '../tail/format-record.js';
import { ShardTailer, type TailPosition } from '../tail/shard-tailer.js';
import type { CommandIo } from './command.js';

export const TAIL_USAGE = `Usage: kinesis-kit tail --stream <name> [options]
  --stream <name>            the stream to read (nothing is written anywhere: no lease table)
  --from <position>          trim-horizon | latest (default) | an ISO timestamp
  --json                     one JSON object per record (data as UTF-8 text or base64)
  --limit <n>                stop after n records
${CONNECTION_USAGE}
Records are printed deaggregated: shard, sequence[/sub-sequence], partition key, data.`;

export function parsePosition(value: string | undefined): TailPosition {
  if (value === undefined || value === 'latest') return { type: 'LATEST' };
  if (value === 'trim-horizon') return { type: 'TRIM_HORIZON' };
  const timestamp = new Date(value);
  if (Number.isNaN(timestamp.getTime())) throw new UsageError(`--from: expected trim-horizon, latest or a timestamp, got "${value}"`);
  return { type: 'AT_TIMESTAMP', timestamp };
}

export async function tailCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      from: { type: 'string' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string' },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${TAIL_USAGE}\n`);
    return 0;
  }
  const streamName = requireStreamName(values.stream);
  const from = parsePosition(values.from);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit > 0)) throw new UsageError(`--limit: must be a positive number, got "${values.limit}"`);
  const clients = createAwsClients(connectionOptions(values));
  const done = new AbortController();
  const signal = AbortSignal.any([io.signal, done.signal]);
  let printed = 0;
  try {
    const tailer = new ShardTailer({
      kinesis: clients.kinesis,
      streamName,
      from,
      onRecords: (records) => {
        for (const r of records) {
          if (printed >= limit) break;
          io.out(`${values.json ? formatRecordJson(r) : formatRecordText(r)}\n`);
          printed++;
        }
        if (printed >= limit) done.abort();
      },
    });
    await tailer.run(signal);
    return 0;
  } finally {
    clients.destroy();
  }
}
