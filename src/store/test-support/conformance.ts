import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../log/checkpoint.js';
import { rootOf } from '../../log/merkle.js';
import { generateSignerKey } from '../../log/note.js';
import type { Envelope, RecordInput } from '../../record/types.js';
import { LEAF_MATCHES } from '../leaf-scan.js';
import { matchesFilter } from '../match.js';
import { StatsColumnsBuilder, statusOfCode } from '../stats-columns.js';
import type { NewEntry, SearchFilter, StatsColumns, StatsColumnsRequest, StatsGroupField, Store } from '../store.js';
import { contentConformance } from './conformance-content.js';
import { eventsConformance } from './conformance-events.js';
import {
  contentRows,
  entriesFor,
  expectedContent,
  item,
  ORIGIN,
  SAMPLE,
  scanned,
  testWriter,
  withContent,
  type AppendOptions,
  type StoreHarness,
  type SuiteState,
  type TestWriter,
} from './conformance-fixtures.js';
import { pruningConformance } from './conformance-pruning.js';
import { tamperConformance } from './conformance-tamper.js';

export { entriesFor, testWriter, type StoreHarness, type StoreTamper } from './conformance-fixtures.js';

/**
 * Calls over three days, with ties in latency, every label present and absent, and events in
 * between; two calls are back-dated, as a client may do, so time and log order disagree.
 */
export const STATS_CALLS: RecordInput[] = Array.from({ length: 40 }, (_, i): RecordInput => {
  const timestamp = new Date(Date.UTC(2026, 0, 1, i % 11 === 10 ? 0 : 2 * i)).toISOString();
  if (i % 7 === 6) return { timestamp, kind: 'event', eventType: 'policy_evaluated', latencyMs: 9999 };
  return {
    timestamp,
    ...(i % 5 === 4 ? {} : { model: ['gpt-4o', 'claude-sonnet-4', 'o3-mini'][i % 3]! }),
    ...(i % 4 === 3 ? {} : { user: `user-${i % 3}`, provider: i % 3 === 1 ? 'anthropic' : 'openai' }),
    status: (['success', 'error', 'success', 'blocked', 'aborted'] as const)[i % 5],
    inputTokens: i * 10,
    ...(i % 6 === 0 ? {} : { outputTokens: i, costUsd: i / 1000, latencyMs: (i * 7) % 5 }),
    ...(i % 3 === 0 ? { reasoningTokens: 2, cachedTokens: i } : {}),
  };
});

/** Filters of llm.call records as the ledger's stats send them, boundaries and empty answers included. */
export const STATS_FILTERS: SearchFilter[] = (
  [
    {},
    { since: '2026-01-02T00:00:00.000Z' },
    { until: '2026-01-02T00:00:00.000Z' },
    { since: '2026-01-01T10:00:00.000Z', until: '2026-01-03T04:00:00.000Z' },
    { model: 'gpt-4o' },
    { model: 'claude-sonnet-4', since: '2026-01-02T00:00:00.000Z' },
    { user: 'user-1', status: 'error' },
    { provider: 'anthropic', user: 'user-1' },
    { status: 'blocked', until: '2026-01-03T00:00:00.000Z' },
    { model: 'no-such-model' },
    { since: '2027-01-01T00:00:00.000Z' },
  ] satisfies SearchFilter[]
).map((f): SearchFilter => ({ ...f, kind: 'llm.call' }));

export const STATS_GROUPINGS = [undefined, 'model', 'user', 'provider', 'day'] as const;

/** The stats columns of a store as sorted rows (columns come in no particular order), with the batch sizes. */
export async function statsRowsOf(store: Store, filter: SearchFilter, request: StatsColumnsRequest): Promise<{ rows: string[]; batchSizes: number[] }> {
  const rows: string[] = [];
  const batchSizes: number[] = [];
  for await (const c of store.statsColumns(filter, request)) {
    batchSizes.push(c.length);
    for (let i = 0; i < c.length; i++) {
      rows.push(rowText(c, i));
    }
  }
  return { rows: rows.sort(), batchSizes };
}

/** Row `i` of a stats batch, every column, as comparable text. */
function rowText(c: StatsColumns, i: number): string {
  return JSON.stringify([
    c.time?.[i],
    c.group?.[i],
    c.status[i],
    c.inputTokens[i],
    c.outputTokens[i],
    c.reasoningTokens[i],
    c.cachedTokens[i],
    c.costUsd[i],
    c.latencyMs[i],
  ]);
}

/** The rows `statsRowsOf` must give: each matching envelope as the columns builder sees it. */
export function expectedStatsRows(envelopes: Envelope[], filter: SearchFilter, request: StatsColumnsRequest): string[] {
  const builder = new StatsColumnsBuilder({ ...request, batchSize: envelopes.length + 1 });
  for (const e of envelopes) if (matchesFilter(e, filter)) builder.addEnvelope(e);
  const c = builder.take();
  return c ? Array.from({ length: c.length }, (_, i) => rowText(c, i)).sort() : [];
}

/**
 * The contract every store must meet, run against each driver (as transparency-dev/tessera
 * proves its storage drivers): a new store is done when this suite passes against it. What a
 * driver lacks (content, pruning) its harness declares, and the suite holds it to the refusal
 * the Store interface documents instead.
 */
export function storeConformance(name: string, harness: StoreHarness): void {
  describe(`${name} store conformance`, () => {
    let store: Store;
    let writer: TestWriter;
    const append = (entries: readonly NewEntry[], options?: AppendOptions) => writer.append(store, entries, options);
    beforeEach(async () => {
      store = await harness.open();
      writer = testWriter();
    });
    afterEach(async () => {
      await store.close();
    });
    const state: SuiteState = {
      harness,
      get store() {
        return store;
      },
      get writer() {
        return writer;
      },
      append,
      reopen: async () => {
        await store.close();
        store = await harness.reopen!();
        return store;
      },
    };

    it('starts empty', async () => {
      expect(await store.size()).toBe(0);
      expect(await store.head()).toBeUndefined();
      expect(await store.checkpoints()).toEqual([]);
      expect(await store.leafHashes(0, 10)).toEqual([]);
      expect(await store.search({}, { limit: 10 })).toEqual([]);
      expect(await store.getById('0190c7e6-0000-7000-8000-000000000000')).toBeUndefined();
      expect((await scanned(store, 10)).rows).toEqual([]);
      const scans: unknown[] = [];
      for await (const batch of store.scan({}, 10)) scans.push(batch);
      expect(scans).toEqual([]);
    });

    it('keeps appended rows, their exact bytes, their leaf hashes and checkpoints in order', async () => {
      const entries = entriesFor(SAMPLE);
      const first = await append(entries.slice(0, 2), { checkpoint: true });
      const second = await append(entries.slice(2), { checkpoint: true });
      expect([first.indexes, second.indexes]).toEqual([
        [0, 1],
        [2, 3],
      ]);
      expect(first.checkpoint).toEqual(first.head);
      expect(await store.size()).toBe(4);
      expect(await store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
      expect(await store.leafHashes(1, 3)).toEqual(entries.slice(1, 3).map((e) => e.leafHash));
      expect(await store.checkpoints()).toEqual([first.checkpoint, second.checkpoint]);
      expect(await store.head()).toEqual(second.head);
      // Exactly as stored: the bytes read back are the bytes committed.
      for (const e of entries) expect((await store.getById(e.id))?.envelope).toEqual(JSON.parse(e.canonical));
      const batches = [];
      for await (const batch of store.scanLeaves(3)) batches.push(batch);
      expect(batches.every((b) => b.indexes.length <= 3)).toBe(true);
      expect(batches.flatMap((b) => b.indexes)).toEqual([0, 1, 2, 3]);
      expect(Buffer.concat(batches.map((b) => b.leaves))).toEqual(Buffer.concat(entries.map((e) => e.leafHash)));
      expect(batches.flatMap((b) => [...b.committed])).toEqual([LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES]);
    });

    it('reads leaf hashes for any range, clipped to what is stored', async () => {
      const entries = entriesFor(SAMPLE);
      await append(entries);
      const leaves = entries.map((e) => e.leafHash);
      expect(await store.leafHashes(0, 0)).toEqual([]);
      expect(await store.leafHashes(2, 2)).toEqual([]);
      expect(await store.leafHashes(3, 1)).toEqual([]);
      expect(await store.leafHashes(0, 1)).toEqual(leaves.slice(0, 1));
      expect(await store.leafHashes(3, 4)).toEqual(leaves.slice(3));
      expect(await store.leafHashes(2, 1000)).toEqual(leaves.slice(2));
      expect(await store.leafHashes(4, 10)).toEqual([]);
      expect(await store.leafHashes(0, Number.MAX_SAFE_INTEGER)).toEqual(leaves);
    });

    it('signs a head over the whole log with every batch, committed with it', async () => {
      const entries = entriesFor(SAMPLE);
      expect(await store.head()).toBeUndefined();
      for (let i = 0; i < entries.length; i++) {
        const { head, checkpoint } = await append(entries.slice(i, i + 1));
        expect(checkpoint).toBeUndefined();
        const signed = openCheckpoint(head.note, writer.sequencer.verifierKey, ORIGIN);
        expect(signed.size).toBe(i + 1);
        expect(signed.root).toEqual(rootOf(entries.slice(0, i + 1).map((e) => e.leafHash)));
        expect(await store.head()).toEqual(head);
      }
      expect(await store.checkpoints()).toEqual([]);
    });

    it('appends a checkpoint alone, and raises the pruning horizon its head states', async () => {
      await append(entriesFor(SAMPLE.slice(0, 2)));
      const { checkpoint, indexes } = await append([], { checkpoint: true });
      expect(indexes).toEqual([]);
      expect(await store.checkpoints()).toEqual([checkpoint]);
      expect(openCheckpoint(checkpoint!.note, writer.sequencer.verifierKey, ORIGIN)).toMatchObject({ size: 2 });
      const raised = await append([], { checkpoint: true, raiseHorizon: 1 });
      expect(openCheckpoint(raised.head.note, writer.sequencer.verifierKey, ORIGIN).prunedBelow).toBe(1);
      // Never lowered, and carried by the heads after it.
      const next = await append(entriesFor(SAMPLE.slice(2, 3)));
      expect(openCheckpoint(next.head.note, writer.sequencer.verifierKey, ORIGIN).prunedBelow).toBe(1);
    });

    it('leaves out replayed records that are already stored, and stores the rest', async () => {
      const entries = entriesFor(SAMPLE);
      await append(entries.slice(0, 2));
      const replayed = await append(entries.slice(1, 4), { replayed: true });
      expect(replayed.indexes).toEqual([-1, 2, 3]);
      expect(await store.size()).toBe(4);
      expect(openCheckpoint(replayed.head.note, writer.sequencer.verifierKey, ORIGIN).root).toEqual(rootOf(entries.map((e) => e.leafHash)));
    });

    it('takes up the head another writer signed: each batch lands where the log ends', async () => {
      const key = generateSignerKey(ORIGIN);
      const [one, two] = [testWriter(key), testWriter(key)];
      const entries = entriesFor(STATS_CALLS.slice(0, 12));
      const indexes: number[] = [];
      for (let i = 0; i < entries.length; i += 2) indexes.push(...(await (i % 4 === 0 ? one : two).append(store, entries.slice(i, i + 2))).indexes);
      expect(indexes).toEqual(entries.map((_, i) => i));
      const head = (await store.head())!;
      expect(openCheckpoint(head.note, one.sequencer.verifierKey, ORIGIN).root).toEqual(rootOf(entries.map((e) => e.leafHash)));
    });

    it('refuses to extend a head whose frontier does not give its signed root, and the refused batch takes no index', async () => {
      const entries = entriesFor(SAMPLE);
      const { head } = await append(entries.slice(0, 1));
      const stranger = testWriter();
      await expect(stranger.append(store, entries.slice(1, 2), { checkpoint: true })).rejects.toThrow(/stored head does not verify/);
      expect(await store.size()).toBe(1);
      expect(await store.head()).toEqual(head);
      expect(await store.checkpoints()).toEqual([]);
      expect(await store.getById(entries[1]!.id)).toBeUndefined();
      expect(await store.leafHashes(0, 10)).toEqual([entries[0]!.leafHash]);
      expect((await append(entries.slice(1, 3))).indexes).toEqual([1, 2]);
    });

    it('signs the head again for an empty batch, and for a replayed batch it already holds, at the same size', async () => {
      const entries = entriesFor(SAMPLE);
      await append(entries.slice(0, 2));
      const empty = await append([]);
      expect(empty.indexes).toEqual([]);
      expect(empty.checkpoint).toBeUndefined();
      expect(openCheckpoint(empty.head.note, writer.sequencer.verifierKey, ORIGIN)).toMatchObject({
        size: 2,
        root: rootOf(entries.slice(0, 2).map((e) => e.leafHash)),
      });
      expect(await store.head()).toEqual(empty.head);
      const replayed = await append(entries.slice(0, 2), { replayed: true });
      expect(replayed.indexes).toEqual([-1, -1]);
      expect(replayed.head.size).toBe(2);
      expect(await store.size()).toBe(2);
      expect(await store.checkpoints()).toEqual([]);
    });

    it('lists checkpoints in the order they were published, whatever the batches between them', async () => {
      const entries = entriesFor(SAMPLE);
      const published = [];
      published.push((await append(entries.slice(0, 1), { checkpoint: true })).checkpoint);
      await append(entries.slice(1, 2));
      published.push((await append([], { checkpoint: true })).checkpoint);
      await append([]);
      published.push((await append(entries.slice(2, 4), { checkpoint: true, raiseHorizon: 1 })).checkpoint);
      published.push((await append([], { checkpoint: true })).checkpoint);
      expect(published.map((c) => c?.size)).toEqual([1, 2, 4, 4]);
      expect(await store.checkpoints()).toEqual(published);
      for (const [i, c] of (await store.checkpoints()).entries()) {
        expect(openCheckpoint(c.note, writer.sequencer.verifierKey, ORIGIN).root).toEqual(rootOf(entries.slice(0, c.size).map((e) => e.leafHash)));
        expect(openCheckpoint(c.note, writer.sequencer.verifierKey, ORIGIN).prunedBelow ?? 0).toBe(i >= 2 ? 1 : 0);
      }
    });

    it("applies one writer's calls in call order, each batch numbered where the one before it ended", async () => {
      const entries = entriesFor(STATS_CALLS.slice(0, 9));
      const calls = [entries.slice(0, 1), entries.slice(1, 4), [], entries.slice(4, 5), entries.slice(5, 9)].map((batch) => append(batch));
      expect((await Promise.all(calls)).map((r) => r.indexes)).toEqual([[0], [1, 2, 3], [], [4], [5, 6, 7, 8]]);
      expect(await store.leafHashes(0, 9)).toEqual(entries.map((e) => e.leafHash));
      expect((await store.head())?.size).toBe(9);
    });

    it('answers reads for records another writer stored (on another connection where the store takes writers on several)', async () => {
      const other = harness.sharedWriters ? await harness.reopen!() : store;
      try {
        const entries = entriesFor(SAMPLE);
        await append(entries.slice(0, 1));
        const theirs = await testWriter(writer.sequencer.signerKey).append(other, entries.slice(1), { checkpoint: true });
        expect(theirs.indexes).toEqual([1, 2, 3]);
        expect(await store.size()).toBe(4);
        expect(await store.head()).toEqual(theirs.head);
        expect(await store.checkpoints()).toEqual([theirs.checkpoint]);
        expect(await store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
        const found = await store.getById(entries[3]!.id);
        expect(found).toEqual({ index: 3, envelope: JSON.parse(entries[3]!.canonical) });
        expect((await store.search({ user: 'alice' }, { limit: 10 })).map((r) => r.index)).toEqual([3, 0]);
        expect((await store.search({ traceId: 't1' }, { limit: 10, beforeIndex: 3 })).map((r) => r.index)).toEqual([2, 0]);
        const scans: number[] = [];
        for await (const batch of store.scan({ since: '2026-01-02T00:00:00.000Z' }, 2)) scans.push(...batch.map((r) => r.index));
        expect(scans).toEqual([1, 2, 3]);
        expect((await scanned(store, 10)).rows.map((r) => [r.index, r.committed])).toEqual(entries.map((_, i) => [i, LEAF_MATCHES]));
        // And the first writer takes up the head the other signed.
        expect((await append(entriesFor(STATS_CALLS.slice(0, 1)))).indexes).toEqual([4]);
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('finds a record by id with its index', async () => {
      const entries = entriesFor(SAMPLE);
      await append(entries);
      const found = await store.getById(entries[3]!.id);
      expect(found?.index).toBe(3);
      expect(found?.envelope.id).toBe(entries[3]!.id);
      expect(found?.envelope.status).toBe('blocked');
    });

    const cases: [SearchFilter, number[]][] = [
      [{}, [3, 2, 1, 0]],
      [{ model: 'gpt-4o' }, [3, 0]],
      [{ provider: 'anthropic' }, [1]],
      [{ user: 'alice' }, [3, 0]],
      [{ session: 's2' }, [1]],
      [{ conversation: 'c1' }, [0]],
      [{ keyPrefix: 'sk-alpha' }, [0]],
      [{ keyPrefix: 'sk-' }, [3, 0]],
      [{ status: 'error' }, [1]],
      [{ kind: 'event' }, [2]],
      [{ eventType: 'policy_evaluated' }, [2]],
      [{ traceId: 't1' }, [2, 0]],
      [{ requestId: 'r3' }, [3]],
      [{ since: '2026-01-02T00:00:00.000Z' }, [3, 2, 1]],
      [{ until: '2026-01-02T00:00:00.000Z' }, [0]],
      [{ since: '2026-01-02T00:00:00.000Z', until: '2026-01-04T00:00:00.000Z', kind: 'llm.call' }, [1]],
      [{ model: 'gpt-4o', user: 'bob' }, []],
    ];
    it.each(cases)('searches newest first by %j', async (filter, expected) => {
      await append(entriesFor(SAMPLE));
      expect((await store.search(filter, { limit: 10 })).map((r) => r.index)).toEqual(expected);
    });

    it('pages with a limit and an index cursor', async () => {
      await append(entriesFor(SAMPLE));
      expect((await store.search({}, { limit: 2 })).map((r) => r.index)).toEqual([3, 2]);
      expect((await store.search({}, { limit: 2, beforeIndex: 2 })).map((r) => r.index)).toEqual([1, 0]);
      expect(await store.search({}, { limit: 2, beforeIndex: 0 })).toEqual([]);
      expect((await store.search({}, { limit: 2, beforeIndex: 100 })).map((r) => r.index)).toEqual([3, 2]);
      expect((await store.search({ model: 'gpt-4o' }, { limit: 1, beforeIndex: 3 })).map((r) => r.index)).toEqual([0]);
      expect(await store.search({}, { limit: 0 })).toEqual([]);
    });

    it('scans matches oldest first in batches', async () => {
      await append(entriesFor(SAMPLE));
      const batches = [];
      for await (const batch of store.scan({ model: 'gpt-4o' }, 1)) batches.push(batch.map((r) => r.index));
      expect(batches).toEqual([[0], [3]]);
    });

    it.each<[SearchFilter, number[]]>([
      [{ since: '2026-01-02T00:00:00.000Z' }, [1, 2, 3]],
      [{ since: '2026-01-02T00:00:00.000Z', until: '2026-01-04T00:00:00.000Z', kind: 'llm.call' }, [1]],
      [{ until: '2026-01-03T00:00:00.000Z', user: 'alice' }, [0]],
      [{ since: '2027-01-01T00:00:00.000Z' }, []],
    ])('scans a time range in log order: %j', async (filter, expected) => {
      await append(entriesFor(SAMPLE));
      const found: number[] = [];
      for await (const batch of store.scan(filter, 2)) found.push(...batch.map((r) => r.index));
      expect(found).toEqual(expected);
    });

    const NUMBERED: RecordInput[] = [
      {
        timestamp: '2026-01-01T10:00:00.250Z',
        model: 'gpt-4o',
        provider: 'openai',
        user: 'alice',
        status: 'success',
        inputTokens: 10,
        outputTokens: 5,
        reasoningTokens: 2,
        cachedTokens: 1,
        costUsd: 0.5,
        latencyMs: 100,
      },
      { timestamp: '2026-01-01T11:00:00.000Z', model: 'claude-sonnet-4', provider: 'anthropic', user: 'bob', status: 'error', inputTokens: 20 },
      { timestamp: '2026-01-02T09:00:00.000Z', kind: 'event', eventType: 'policy_evaluated' },
      {
        timestamp: '2026-01-03T00:00:00.000Z',
        model: 'gpt-4o',
        provider: 'openai',
        status: 'blocked',
        inputTokens: 0,
        outputTokens: 0,
        latencyMs: 0,
        costUsd: 0,
      },
    ];
    const statsOf = async (filter: SearchFilter, request: StatsColumnsRequest) => {
      const batches: StatsColumns[] = [];
      for await (const batch of store.statsColumns(filter, request)) batches.push(batch);
      return batches;
    };

    /** Rows of column batches as tuples, in time order (stats columns come in no particular order). */
    const rowsOf = (batches: StatsColumns[]) =>
      batches
        .flatMap((b) =>
          Array.from({ length: b.length }, (_, i) => ({
            time: b.time![i]!,
            group: b.group?.[i],
            status: statusOfCode(b.status[i]!),
            numbers: [b.inputTokens[i], b.outputTokens[i], b.reasoningTokens[i], b.cachedTokens[i], b.costUsd[i], b.latencyMs[i]],
          })),
        )
        .sort((a, b) => a.time - b.time);

    it('gives the numbers of matching records in column batches, absent numbers as NaN', async () => {
      await append(entriesFor(NUMBERED));
      const batches = await statsOf({}, { batchSize: 3, withTime: true });
      expect(batches.map((b) => b.length)).toEqual([3, 1]);
      const rows = rowsOf(batches);
      expect(rows.map((r) => r.time)).toEqual(NUMBERED.map((r) => Date.parse(r.timestamp as string)));
      expect(rows.map((r) => r.status)).toEqual(['success', 'error', undefined, 'blocked']);
      expect(rows.map((r) => r.numbers)).toEqual([
        [10, 5, 2, 1, 0.5, 100],
        [20, NaN, NaN, NaN, NaN, NaN],
        [NaN, NaN, NaN, NaN, NaN, NaN],
        [0, 0, NaN, NaN, 0, 0],
      ]);
      const [plain] = await statsOf({}, { batchSize: 10 });
      expect(plain!.group).toBeUndefined();
      expect(plain!.time).toBeUndefined();
    });

    it.each<[StatsGroupField, (string | null)[]]>([
      ['model', ['gpt-4o', 'claude-sonnet-4', null, 'gpt-4o']],
      ['user', ['alice', 'bob', null, null]],
      ['provider', ['openai', 'anthropic', null, 'openai']],
      ['day', ['2026-01-01', '2026-01-01', '2026-01-02', '2026-01-03']],
    ])('adds the %s of each row as its group, and the time on request', async (groupBy, expected) => {
      await append(entriesFor(NUMBERED));
      expect(rowsOf(await statsOf({}, { batchSize: 10, groupBy, withTime: true })).map((r) => r.group)).toEqual(expected);
    });

    it('applies the search filter to stats columns', async () => {
      await append(entriesFor(NUMBERED));
      const [batch] = await statsOf({ model: 'gpt-4o', since: '2026-01-02T00:00:00.000Z' }, { batchSize: 10, groupBy: 'model' });
      expect(batch!.length).toBe(1);
      expect(batch!.group).toEqual(['gpt-4o']);
      expect(await statsOf({ user: 'nobody' }, { batchSize: 10 })).toEqual([]);
    });

    it('gives the stats columns of calls for every filter and grouping, appended in batches of any size', async () => {
      const entries = entriesFor(STATS_CALLS);
      for (const [from, to] of [
        [0, 5],
        [5, 6],
        [6, 31],
        [31, 40],
      ] as const)
        await append(entries.slice(from, to));
      const envelopes = entries.map((e) => JSON.parse(e.canonical) as Envelope);
      for (const filter of STATS_FILTERS) {
        for (const groupBy of STATS_GROUPINGS) {
          const request = { batchSize: 4, withTime: true, ...(groupBy ? { groupBy } : {}) };
          const { rows, batchSizes } = await statsRowsOf(store, filter, request);
          expect(rows, JSON.stringify({ filter, groupBy })).toEqual(expectedStatsRows(envelopes, filter, request));
          expect(batchSizes.every((n) => n > 0 && n <= 4)).toBe(true);
        }
      }
    });

    if (harness.reopen) {
      it(`keeps everything across a reopen: rows, leaves, head, checkpoints${harness.content ? ', content' : ''}${harness.pruning ? ', the pruning horizon' : ''}`, async () => {
        const entries = entriesFor(SAMPLE);
        const kept = item('plaintext', 'user:bob', 'kept across a reopen');
        const { checkpoint, head } = await append(
          entries.map((e, i) => (harness.content && i === 1 ? withContent(e, kept) : e)),
          { checkpoint: true, ...(harness.pruning ? { raiseHorizon: 1 } : {}) },
        );
        if (harness.pruning) expect(await store.pruning!.prune(1, 10)).toBe(1);
        await state.reopen();
        expect(await store.size()).toBe(4);
        expect(await store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
        expect(await store.checkpoints()).toEqual([checkpoint]);
        expect(await store.head()).toEqual(head);
        expect((await store.search({ user: 'alice' }, { limit: 5 })).map((r) => r.index)).toEqual(harness.pruning ? [3] : [3, 0]);
        if (harness.content) expect(contentRows(await store.content!.get(1))).toEqual(expectedContent(entries[1]!, 1, kept));
        if (harness.pruning) expect(await store.pruning!.prunedBelow()).toBe(1);
        // A new process's writer takes the log up from the stored head.
        const next = await testWriter(writer.sequencer.signerKey).append(store, entriesFor(STATS_CALLS.slice(0, 1)));
        expect(next.indexes).toEqual([4]);
      });
    }

    if (harness.reopen && harness.sharedWriters) {
      it('takes batches from writers on two connections at once, as from two processes, into one log', async () => {
        const other = await harness.reopen!();
        try {
          const key = generateSignerKey(ORIGIN);
          const [one, two] = [testWriter(key), testWriter(key)];
          const entries = entriesFor(STATS_CALLS);
          // The first record of each batch carries content, which must land beside the index its batch got.
          const batchOf = (b: number) =>
            entries.slice(b * 4, b * 4 + 4).map((e, k) => (harness.content && k === 0 ? withContent(e, item('plaintext', `user:${b}`, `batch ${b}`)) : e));
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, b) =>
              b % 2 === 0 ? one.append(store, batchOf(b), { checkpoint: true }) : two.append(other, batchOf(b), { checkpoint: true }),
            ),
          );
          expect(results.flatMap((r) => r.indexes).sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
          const leaves = await store.leafHashes(0, entries.length);
          const byIndex = new Map(results.flatMap((r, b) => r.indexes.map((index, k) => [index, entries[b * 4 + k]!.leafHash] as const)));
          expect(leaves).toEqual(entries.map((_, i) => byIndex.get(i)));
          const head = (await store.head())!;
          expect(head.size).toBe(entries.length);
          expect(openCheckpoint(head.note, one.sequencer.verifierKey, ORIGIN).root).toEqual(rootOf(leaves));
          // Checkpoints in the order they were published: growing, each one a batch's (batches that shared a commit share one).
          const checkpoints = await store.checkpoints();
          expect(await other.checkpoints()).toEqual(checkpoints);
          expect(checkpoints.map((c) => c.size)).toEqual([...new Set(results.map((r) => r.checkpoint!.size))].sort((a, b) => a - b));
          for (const c of checkpoints) expect(results.some((r) => r.checkpoint?.note === c.note)).toBe(true);
          expect(checkpoints.at(-1)).toEqual(head);
          for (const [b, r] of results.entries()) {
            const found = await (b % 2 === 0 ? other : store).getById(entries[b * 4]!.id);
            expect(found?.index).toBe(r.indexes[0]);
            if (harness.content) {
              const expected = expectedContent(entries[b * 4]!, r.indexes[0]!, item('plaintext', `user:${b}`, `batch ${b}`));
              expect(contentRows(await store.content!.get(r.indexes[0]!))).toEqual(expected);
              expect(contentRows(await other.content!.get(r.indexes[0]!))).toEqual(expected);
            }
          }
        } finally {
          await other.close();
        }
      });
    }

    contentConformance(state);
    eventsConformance(state);
    pruningConformance(state);
    tamperConformance(state);
  });
}
