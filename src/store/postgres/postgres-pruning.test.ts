import type pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import { entriesFor } from '../test-support/conformance.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

describe('PostgreSQL pruning', () => {
  let schema: string;
  let store: PostgresStore;
  const sequencer = new Sequencer(generateSignerKey('test.example/log'), 'test.example/log');
  beforeEach(() => {
    schema = schemas.next();
    store = openPostgresStore({ url: TEST_DATABASE_URL, schema });
  });
  afterEach(() => store.close());

  // Found by four gateways starting on an empty log: one's start-up retention pass saw no record
  // to keep, then counted the log after another gateway's first batch had committed, and pruned
  // that fresh batch as expired.
  it('does not take a record committed while it looks for the first record to keep for an expired one', async () => {
    const expired = entriesFor([{ timestamp: '2024-01-01T10:00:00.000Z' }, { timestamp: '2024-01-01T11:00:00.000Z' }]);
    await store.append(expired, { sequencer });
    const fresh = entriesFor([{ timestamp: new Date().toISOString() }], 2);
    // Hold the expired day's partition, which a search for records to keep (ts >= cutoff) does not
    // read but counting the whole log does, and commit the fresh record while retention waits for it.
    await withClient(async (gate) => {
      await gate.query('BEGIN');
      await gate.query(`LOCK TABLE "${schema}".records_20240101 IN ACCESS EXCLUSIVE MODE`);
      const kept = store.pruning.firstKeptIndex(0, '2025-01-01T00:00:00.000Z');
      await untilWaitingFor(gate, `"${schema}".records_20240101`);
      expect((await store.append(fresh, { sequencer })).indexes).toEqual([2]);
      await gate.query('COMMIT');
      // 2 whether retention saw the fresh record (the first to keep) or not (the end of the log it saw); never past it.
      expect(await kept).toBe(2);
    });
  });
});

/** Waits until some session waits for a lock on `table`. */
async function untilWaitingFor(client: pg.Client, table: string): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass`, [table]);
    if (rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no session waited for ${table}`);
}
