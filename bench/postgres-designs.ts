import type pg from 'pg';
import { generateSignerKey } from '../src/log/checkpoint.js';
import { Sequencer } from '../src/log/sequencer.js';
import { appendBatch, canonicalLines } from '../src/store/postgres/postgres-append.js';
import { timeOf } from '../src/store/postgres/postgres-partitions.js';
import type { NewEntry } from '../src/store/store.js';
import { BATCH, onConnections, timedBatches } from './postgres-batches.js';

/**
 * The two ways many writers can share one log, compared on the database alone with the same
 * sealed rows, `connections` writers at once, timed until every row sits in the log at its index:
 *
 * - `head`: what the store does. Each writer locks the log head, sequences its batch after it,
 *   extends the tree and signs the new head, and inserts the batch with it, in one transaction
 *   (`appendBatch`).
 * - `queue`: sequence-then-integrate. Writers insert into a queue table (with no JSONB and no
 *   search index, so less work than a searchable queue would need); one integrator connection
 *   moves the oldest batch from the queue into the log, numbered, in one statement, over and over.
 *
 * The queue side builds no tree (an integrator would, reading the new leaf hashes); the head side
 * does, under the lock, each writer taking up the others' heads from their stored frontiers.
 */
export async function designRates(
  url: string,
  schemas: { head: string; queue: string },
  rows: readonly NewEntry[],
  connections: number,
): Promise<{ head: number; queue: number }> {
  const key = generateSignerKey('bench.example/log');
  // One sequencer per connection, as each writer process holds its own.
  const sequencers = new Map<pg.Client, Sequencer>();
  const { rowsPerSecond: head } = await timedBatches(url, rows.length, connections, async (client, from, to) => {
    if (!sequencers.has(client)) sequencers.set(client, new Sequencer(key, 'bench.example/log'));
    await client.query('BEGIN');
    await appendBatch(client, `"${schemas.head}"`, rows.slice(from, to), { sequencer: sequencers.get(client)! }, (query) => client.query(query));
    await client.query('COMMIT');
  });
  const q = `"${schemas.queue}"`;
  await timed(url, 1, async ([client]) => {
    await client!.query(
      `CREATE TABLE ${q}.queue (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, ts timestamptz NOT NULL, canonical text NOT NULL, hash bytea NOT NULL)`,
    );
    // The queue's integrator moves the head without signing one, which the head's trigger refuses.
    await client!.query(`ALTER TABLE ${q}.log_head DISABLE TRIGGER log_head_forward_only`);
  });
  const queue = await timed(url, connections + 1, async ([integrator, ...writers]) => {
    let next = 0;
    const writing = Promise.all(
      writers.map(async (client) => {
        for (let from = next; from < rows.length; from = next) {
          next = Math.min(rows.length, from + BATCH);
          const part = rows.slice(from, next);
          await client.query(
            `INSERT INTO ${q}.queue (id, ts, canonical, hash)
             SELECT u.id, u.ts, t.canonical, u.hash FROM unnest($1::text[], $2::timestamptz[], $4::bytea[]) WITH ORDINALITY AS u(id, ts, hash, ord)
             JOIN string_to_table($3::text, E'\\n') WITH ORDINALITY AS t(canonical, ord) ON t.ord = u.ord`,
            [part.map((e) => e.id), part.map((e) => timeOf(e.canonical)), canonicalLines(part), part.map((e) => e.leafHash)],
          );
        }
      }),
    );
    // Only sequence numbers pass through the CTEs; the rows are read from the queue where they lie.
    const move = `WITH batch AS (SELECT seq FROM ${q}.queue ORDER BY seq LIMIT ${BATCH}),
      head AS (UPDATE ${q}.log_head SET size = size + (SELECT count(*) FROM batch) RETURNING size - (SELECT count(*) FROM batch) AS first),
      numbered AS (SELECT head.first + row_number() OVER (ORDER BY batch.seq) - 1 AS idx, batch.seq FROM batch, head),
      r AS (INSERT INTO ${q}.records (idx, ts, canonical) SELECT n.idx, x.ts, x.canonical FROM numbered n JOIN ${q}.queue x ON x.seq = n.seq),
      l AS (INSERT INTO ${q}.leaves (idx, hash, id, ts) SELECT n.idx, x.hash, x.id, x.ts FROM numbered n JOIN ${q}.queue x ON x.seq = n.seq)
      DELETE FROM ${q}.queue WHERE seq IN (SELECT seq FROM numbered)`;
    let moved = 0;
    while (moved < rows.length) {
      const n = (await integrator!.query(move)).rowCount ?? 0;
      moved += n;
      if (n === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await writing;
  });
  return { head, queue: rows.length / queue };
}

/** Seconds `work` takes on `n` fresh connections. */
function timed(url: string, n: number, work: (clients: pg.Client[]) => Promise<void>): Promise<number> {
  return onConnections(url, n, async (clients) => {
    const start = performance.now();
    await work(clients);
    return (performance.now() - start) / 1000;
  });
}
