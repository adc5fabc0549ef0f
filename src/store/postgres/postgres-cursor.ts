import type pg from 'pg';

/**
 * Rows of one query in batches, through a server-side cursor in a read-only transaction: a scan
 * of millions of rows holds one batch in memory at a time, and sees one snapshot throughout.
 * Rows come as arrays, in the order of the SELECT list. The connection goes back to the pool when
 * the caller stops iterating, early or not.
 */
export async function* cursorBatches(pool: pg.Pool, sql: string, params: unknown[], batchSize: number): AsyncIterable<unknown[][]> {
  const client = await pool.connect();
  let failure: Error | undefined;
  let done = false;
  // A checked-out connection that breaks emits 'error', which unheard would end the process (see inTransaction).
  const onError = (err: Error) => (failure ??= err);
  client.on('error', onError);
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`DECLARE rows NO SCROLL CURSOR FOR ${sql}`, params);
    for (;;) {
      const { rows } = await client.query<unknown[]>({ text: `FETCH FORWARD ${batchSize} FROM rows`, rowMode: 'array' });
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) break;
    }
    await client.query('COMMIT');
    done = true;
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    if (!done && !failure) await client.query('ROLLBACK').catch((err: Error) => (failure = err));
    // A connection that failed mid-transaction is closed rather than handed to the next caller.
    client.off('error', onError);
    client.release(failure);
  }
}
