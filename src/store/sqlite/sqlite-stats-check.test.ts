import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Envelope } from '../../record/types.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import { entriesFor, STATS_CALLS, testWriter } from '../test-support/conformance.js';

const entries = entriesFor(STATS_CALLS);
const callIndexes = entries.flatMap((e, i) => ((JSON.parse(e.canonical) as Envelope).kind === 'llm.call' ? [i] : []));

let file = '';
let store: SqliteStore;
beforeEach(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'llm-ledger-check-')), 'ledger.db');
  store = openSqliteStore(file, { statsBlockCalls: 4 });
  await testWriter().append(store, entries);
  // Blocks are packed between appends: the tests change them once all are there.
  await vi.waitFor(() => expect(countBlocks()).toBe(blocks));
});
afterEach(async () => {
  await store.close();
});

/** Changes the derived tables as someone with the file could, past the triggers that refuse it. */
function tamper(sql: string): void {
  const db = new DatabaseSync(file);
  db.exec(
    `DROP TRIGGER IF EXISTS call_stats_no_update; DROP TRIGGER IF EXISTS call_stats_blocks_no_update; DROP TRIGGER IF EXISTS call_stats_blocks_pruned; ${sql}`,
  );
  db.close();
}

const blocks = Math.floor(callIndexes.length / 4);

function countBlocks(): number {
  const db = new DatabaseSync(file);
  try {
    return (db.prepare('SELECT count(*) AS n FROM call_stats_blocks').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

it('finds the copies stats read in agreement with the records they were taken from', async () => {
  expect(await store.checkStatsCopies()).toEqual({ calls: callIndexes.length, blocks, problems: [] });
});

it('names the calls whose copy was changed, removed or made up, and the blocks that no longer match', async () => {
  const event = entries.findIndex((e) => (JSON.parse(e.canonical) as Envelope).kind === 'event');
  // The first two calls changed and removed are in the first block; the event lies between calls of the second.
  tamper(`UPDATE call_stats SET latency_ms = 1e9 WHERE idx = ${callIndexes[0]}; DELETE FROM call_stats WHERE idx = ${callIndexes[2]};
    INSERT INTO call_stats (idx, ts, status) SELECT idx, ts, 'success' FROM records WHERE idx = ${event};`);
  expect(event).toBeGreaterThan(callIndexes[4]!);
  expect(event).toBeLessThan(callIndexes[7]!);
  expect((await store.checkStatsCopies())?.problems).toEqual([
    `call_stats disagrees with the llm.call records at index ${callIndexes[0]}, ${callIndexes[2]}, ${event}`,
    `stats blocks disagree with call_stats, the blocks from index ${callIndexes[0]}, ${callIndexes[4]}`,
  ]);
});

it('names a block changed by itself, and one laid over another (which stats do not count twice)', async () => {
  tamper(`UPDATE call_stats_blocks SET max_ts = '2030-01-01T00:00:00.000Z' WHERE first_idx = ${callIndexes[4]};
    INSERT INTO call_stats_blocks SELECT first_idx + 1, last_idx, calls, format, min_ts, max_ts, labels, columns FROM call_stats_blocks WHERE first_idx = ${callIndexes[8]};`);
  expect((await store.checkStatsCopies())?.problems).toEqual([
    `stats blocks disagree with call_stats, the blocks from index ${callIndexes[4]}, ${callIndexes[8]! + 1}`,
  ]);
});

it('counts the rest past the first few it names', async () => {
  tamper('UPDATE call_stats SET input_tokens = -1');
  const [problem] = (await store.checkStatsCopies())!.problems;
  expect(problem).toBe(`call_stats disagrees with the llm.call records at index ${callIndexes.slice(0, 5).join(', ')} and ${callIndexes.length - 5} more`);
});
