import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface StandaloneDynamoDb {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * DynamoDB alone (an in-memory dynalite) on a loopback port: for tests that keep a lease table
 * apart from Kinesis (e.g. Kinesis in kinesis-local or LocalStack). `startMockServer` serves
 * DynamoDB on its own endpoint already; this is for when that is not the one used.
 */
export async function startStandaloneDynamoDb(options: { createTableMs?: number; host?: string } = {}): Promise<StandaloneDynamoDb> {
  const server = dynalite({ createTableMs: options.createTableMs ?? 0, deleteTableMs: 0, updateTableMs: 0 });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
