/** dynalite in-process and DynamoDB clients that count their requests, for the 'leases' suite. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** dynalite on a loopback port (the mock package's standalone DynamoDB). */
export { startStandaloneDynamoDb as startDynalite } from '@kinesis-kit/mock';

export interface CountingClient {
  client: DynamoDBClient;
  total(): number;
  inFlight(): number;
}

export function countingClient(endpoint: string): CountingClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  let total = 0;
  let inFlight = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      total += 1;
      inFlight += 1;
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'benchCounter', priority: 'high' },
  );
  return { client, total: () => total, inFlight: () => inFlight };
}

/** Waits until no request is in flight for a few event-loop turns. */
export async function quiesce(clients: readonly CountingClient[], turns = 3): Promise<void> {
  let quiet = 0;
  while (quiet < turns) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (clients.every((c) => c.inFlight() === 0)) quiet += 1;
    else {
      quiet = 0;
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }
}
