import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Envelope } from '../../record/types.js';
import { StatsBlockWriter } from './sqlite-stats-blocks.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';
import type { StatsColumnsRequest } from '../store.js';
import { entriesFor, expectedStatsRows, STATS_CALLS, STATS_FILTERS, STATS_GROUPINGS, statsRowsOf, testWriter } from '../test-support/conformance.js';

const entries = entriesFor(STATS_CALLS);
const envelopes = entries.map((e) => JSON.parse(e.canonical) as Envelope);
const callIndexes = envelopes.flatMap((e, i) => (e.kind === 'llm.call' ? [i] : []));

let file = '';
let store: SqliteStore;
const log = testWriter();
afterEach(async () => {
  await store.close();
});

/** A new ledger file, or `again` the last one; blocks of 4 calls. */
function openStore(again = false): SqliteStore {
  if (!again) file = join(mkdtempSync(join(tmpdir(), 'llm-ledger-blocks-')), 'ledger.db');
  return (store = openSqliteStore(file, { statsBlockCalls: 4 }));
}

/** Reads the file on a connection of its own, as a second process would. */
function inFile<T>(read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const blocks = () => inFile((db) => db.prepare('SELECT first_idx AS first, last_idx AS last, calls FROM call_stats_blocks ORDER BY first_idx').all());

/** Blocks are packed between appends, a step at a time: waits until the calls of the first `count` records are. */
async function packedThrough(count: number): Promise<void> {
  const calls = callIndexes.filter((i) => i < count).length;
  await vi.waitFor(() => expect(blocks().length).toBe(Math.floor(calls / 4)));
}

/** Every filter and grouping of the conformance suite gives the rows of the envelopes still stored. */
async function expectStatsOf(kept: (index: number) => boolean): Promise<void> {
  const stored = envelopes.filter((_, i) => kept(i));
  for (const filter of STATS_FILTERS) {
    for (const groupBy of STATS_GROUPINGS) {
      const request: StatsColumnsRequest = { batchSize: 5, withTime: true, ...(groupBy ? { groupBy } : {}) };
      expect((await statsRowsOf(store, filter, request)).rows, JSON.stringify({ filter, groupBy })).toEqual(expectedStatsRows(stored, filter, request));
    }
  }
}

describe('stats blocks of a SQLite ledger', () => {
  it('packs every full block of calls soon after the append that fills it, events left out, the rest waiting in call_stats', async () => {
    openStore();
    await log.append(store, entries.slice(0, 3));
    expect(blocks()).toEqual([]);
    await log.append(store, entries.slice(3, 40));
    await packedThrough(40);
    // Every 4 calls in log order make a block; the last calls, fewer than 4, are not in one.
    const full = Math.floor(callIndexes.length / 4);
    expect(blocks()).toEqual(Array.from({ length: full }, (_, b) => ({ first: callIndexes[4 * b], last: callIndexes[4 * b + 3], calls: 4 })));
    expect(callIndexes.length % 4).toBeGreaterThan(0);
    const plans = await store.explain(() => statsRowsOf(store, { kind: 'llm.call' }, { batchSize: 100 }));
    expect(plans).toEqual([
      expect.stringMatching(/^SCAN call_stats_blocks$/),
      expect.stringMatching(/call_stats_blocks USING INTEGER PRIMARY KEY \(rowid=\?\)/),
      expect.stringMatching(/call_stats USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/),
    ]);
    await expectStatsOf(() => true);
  });

  it('drops the blocks retention cuts into, reads what is left of them from call_stats, and packs on after the last block', async () => {
    openStore();
    await log.append(store, entries.slice(0, 30));
    await packedThrough(30);
    const before = blocks();
    const cut = callIndexes[5]!; // inside the second block
    expect(await store.pruning.prune(cut + 1, 1000)).toBe(cut + 1);
    expect(blocks()).toEqual(before.slice(2));
    await expectStatsOf((i) => i > cut && i < 30);
    await log.append(store, entries.slice(30, 40));
    await vi.waitFor(() => expect(blocks().length).toBeGreaterThan(before.length - 2));
    expect(blocks().slice(0, before.length - 2)).toEqual(before.slice(2));
    await expectStatsOf((i) => i > cut);
  });

  it('reads the calls of a block it cannot read (another format, a cut BLOB, one laid over another) from call_stats', async () => {
    openStore();
    await log.append(store, entries);
    await packedThrough(entries.length);
    inFile((db) => {
      db.exec('DROP TRIGGER call_stats_blocks_no_update');
      db.prepare('UPDATE call_stats_blocks SET format = 2 WHERE first_idx = ?').run(callIndexes[0]!);
      db.prepare('UPDATE call_stats_blocks SET columns = substr(columns, 1, 10) WHERE first_idx = ?').run(callIndexes[8]!);
      db.prepare(
        'INSERT INTO call_stats_blocks SELECT first_idx + 1, last_idx + 4, calls, format, min_ts, max_ts, labels, columns FROM call_stats_blocks WHERE first_idx = ?',
      ).run(callIndexes[12]!);
    });
    await expectStatsOf(() => true);
  });

  it('packs the calls of a file from before blocks in the background once it is opened', async () => {
    openStore();
    await log.append(store, entries);
    await packedThrough(entries.length);
    const packed = blocks();
    await store.close();
    inFile((db) => db.exec('DROP TABLE call_stats_blocks; DROP TRIGGER call_stats_blocks_pruned;'));
    openStore(true);
    await expectStatsOf(() => true);
    await vi.waitFor(() => expect(blocks()).toEqual(packed));
    await expectStatsOf(() => true);
  });

  it('refuses changes to a block: it is derived from call_stats', async () => {
    openStore();
    await log.append(store, entries);
    await packedThrough(entries.length);
    expect(() => inFile((db) => db.exec('UPDATE call_stats_blocks SET calls = 0'))).toThrow(
      /call_stats_blocks is derived from call_stats; updates are refused/,
    );
  });

  it('reads a block a slice of at least 512 calls at a time (more when more were appended), outside any transaction, and writes it in a transaction of its own', async () => {
    // Blocks of 1,024 calls; the store's own thread packs none (its blocks would be a million calls).
    file = join(mkdtempSync(join(tmpdir(), 'llm-ledger-blocks-')), 'ledger.db');
    store = openSqliteStore(file, { statsBlockCalls: 1_000_000 });
    const calls = entriesFor(
      Array.from({ length: 3500 }, (_, i) => ({ timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), model: `m${i % 3}`, inputTokens: i })),
    );
    await log.append(store, calls.slice(0, 1500));
    const db = new DatabaseSync(file);
    try {
      const writer = new StatsBlockWriter(db, 1024);
      const transactions: boolean[] = [];
      const transaction = (work: () => void) => {
        transactions.push(db.isTransaction);
        db.exec('BEGIN IMMEDIATE');
        work();
        db.exec('COMMIT');
      };
      const written = () =>
        (db.prepare('SELECT first_idx AS first, calls FROM call_stats_blocks ORDER BY first_idx').all() as { first: number; calls: number }[]).map(
          (b) => `${b.first}+${b.calls}`,
        );
      expect(writer.due).toBe(true);
      expect([writer.step(transaction), writer.step(transaction), written(), transactions]).toEqual([true, true, [], []]);
      expect([writer.step(transaction), written(), transactions]).toEqual([false, ['0+1024'], [false]]);
      // 2,000 calls appended at once: one step reads as many (packing a block on the way), so packing keeps up with appends.
      await log.append(store, calls.slice(1500));
      writer.appended(1500);
      expect([writer.step(transaction), written()]).toEqual([true, ['0+1024', '1024+1024']]);
      expect([writer.step(transaction), writer.step(transaction), written(), writer.due]).toEqual([true, false, ['0+1024', '1024+1024', '2048+1024'], false]);
    } finally {
      db.close();
    }
  });
});
