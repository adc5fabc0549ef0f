import pg from 'pg';
import { NO_JIT } from '../src/store/postgres/postgres-connection.js';
import { ServerMeter, type ServerCost } from './postgres-cost.js';

/** Rows per statement or transaction, as the ledger's writer batches them. */
export const BATCH = 2048;

/**
 * Sends `count` rows in batches of BATCH from `connections` connections at once, each taking the
 * next batch when its last one is done; returns rows/s and what the server spent.
 */
export async function timedBatches(
  url: string,
  count: number,
  connections: number,
  send: (client: pg.Client, from: number, to: number) => Promise<unknown>,
): Promise<{ rowsPerSecond: number; cost: ServerCost }> {
  return onConnections(url, connections, async (clients) => {
    const meter = await ServerMeter.start(url);
    let next = 0;
    const start = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        for (let from = next; from < count; from = next) {
          next = Math.min(count, from + BATCH);
          await send(client, from, next);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return { rowsPerSecond: count / seconds, cost: await meter.stop(count) };
  });
}

/** Runs `work` on `n` fresh connections, closed afterwards. */
export async function onConnections<T>(url: string, n: number, work: (clients: pg.Client[]) => Promise<T>): Promise<T> {
  const clients = await Promise.all(
    Array.from({ length: n }, async () => {
      const client = new pg.Client({ connectionString: url, options: NO_JIT });
      await client.connect();
      return client;
    }),
  );
  try {
    return await work(clients);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}
