import { defaultCapturePolicy } from '../../capture/default-policy.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Digester } from '../../crypto/digest.js';
import { openCheckpoint } from '../../log/checkpoint.js';
import { leafHash, rootOf } from '../../log/merkle.js';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import { sealEnvelope } from '../../record/envelope.js';
import type { Envelope, RecordInput } from '../../record/types.js';
import { LEAF_MATCHES } from '../leaf-scan.js';
import { matchesFilter } from '../match.js';
import { StatsColumnsBuilder, statusOfCode } from '../stats-columns.js';
import type { AppendEntry, Appended, NewEntry, SearchFilter, StatsColumns, StatsColumnsRequest, StatsGroupField, Store } from '../store.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** The same storage opened again, for stores that persist; omitted for memory-only stores. */
  reopen?(): Promise<Store>;
  /** `reopen` may be called while the first store is open, for a second writer (another process's, in effect). */
  sharedWriters?: boolean;
}

const ORIGIN = 'conformance.example/log';

/** A writer of the test log: its sequencer, and an append that asks for a checkpoint when told to. */
export function testWriter(signerKey = generateSignerKey(ORIGIN)) {
  const sequencer = new Sequencer(signerKey, ORIGIN);
  return {
    sequencer,
    append: (store: Store, entries: readonly NewEntry[], options: { checkpoint?: boolean; raiseHorizon?: number; replayed?: boolean } = {}): Promise<Appended> => store.append(entries, { sequencer, ...options }),
  };
}

const ctx = { capture: defaultCapturePolicy(new Digester('sha256')), limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 } };

/** Seals inputs into entries the way the core does, starting at `first`. */
export function entriesFor(inputs: RecordInput[], first = 0): AppendEntry[] {
  return inputs.map((input, i) => {
    const { envelope, canonical } = sealEnvelope(input, ctx);
    return { index: first + i, id: envelope.id, canonical, leafHash: leafHash(Buffer.from(canonical)) };
  });
}

const SAMPLE: RecordInput[] = [
  { timestamp: '2026-01-01T00:00:00.000Z', model: 'gpt-4o', provider: 'openai', user: 'alice', session: 's1', conversation: 'c1', apiKey: 'sk-alpha-0123456789abcdefghij', status: 'success', traceId: 't1', requestId: 'r1' },
  { timestamp: '2026-01-02T00:00:00.000Z', model: 'claude-sonnet-4', provider: 'anthropic', user: 'bob', session: 's2', status: 'error', traceId: 't2', requestId: 'r2' },
  { timestamp: '2026-01-03T00:00:00.000Z', kind: 'event', eventType: 'policy_evaluated', component: 'policy', traceId: 't1', requestId: 'r1' },
  { timestamp: '2026-01-04T00:00:00.000Z', model: 'gpt-4o', provider: 'openai', user: 'alice', session: 's3', apiKey: 'sk-beta-0123456789abcdefghijk', status: 'blocked', traceId: 't3', requestId: 'r3' },
];

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
      rows.push(JSON.stringify([c.time?.[i], c.group?.[i], c.status[i], c.inputTokens[i], c.outputTokens[i], c.reasoningTokens[i], c.cachedTokens[i], c.costUsd[i], c.latencyMs[i]]));
    }
  }
  return { rows: rows.sort(), batchSizes };
}

/** The rows `statsRowsOf` must give: each matching envelope as the columns builder sees it. */
export function expectedStatsRows(envelopes: Envelope[], filter: SearchFilter, request: StatsColumnsRequest): string[] {
  const builder = new StatsColumnsBuilder({ ...request, batchSize: envelopes.length + 1 });
  for (const e of envelopes) if (matchesFilter(e, filter)) builder.addEnvelope(e);
  const c = builder.take();
  return c ? Array.from({ length: c.length }, (_, i) => JSON.stringify([c.time?.[i], c.group?.[i], c.status[i], c.inputTokens[i], c.outputTokens[i], c.reasoningTokens[i], c.cachedTokens[i], c.costUsd[i], c.latencyMs[i]])).sort() : [];
}

/**
 * The contract every store must meet, run against each driver (as transparency-dev/tessera
 * proves its storage drivers): a new store is done when this suite passes against it.
 */
export function storeConformance(name: string, harness: StoreHarness): void {
  describe(`${name} store conformance`, () => {
    let store: Store;
    let writer: ReturnType<typeof testWriter>;
    const append = (entries: readonly NewEntry[], options?: { checkpoint?: boolean; raiseHorizon?: number; replayed?: boolean }) => writer.append(store, entries, options);
    beforeEach(async () => {
      store = await harness.open();
      writer = testWriter();
    });
    afterEach(async () => {
      await store.close();
    });

    it('starts empty', async () => {
      expect(await store.size()).toBe(0);
      expect(await store.checkpoints()).toEqual([]);
      expect(await store.leafHashes(0, 10)).toEqual([]);
      expect(await store.search({}, { limit: 10 })).toEqual([]);
      expect(await store.getById('0190c7e6-0000-7000-8000-000000000000')).toBeUndefined();
    });

    it('keeps appended rows, their exact bytes, their leaf hashes and checkpoints in order', async () => {
      const entries = entriesFor(SAMPLE);
      const first = await append(entries.slice(0, 2), { checkpoint: true });
      const second = await append(entries.slice(2), { checkpoint: true });
      expect([first.indexes, second.indexes]).toEqual([[0, 1], [2, 3]]);
      expect(await store.size()).toBe(4);
      expect(await store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
      expect(await store.leafHashes(1, 3)).toEqual(entries.slice(1, 3).map((e) => e.leafHash));
      expect(await store.checkpoints()).toEqual([first.checkpoint, second.checkpoint]);
      expect(await store.head()).toEqual(second.head);
      const batches = [];
      for await (const batch of store.scanLeaves(3)) batches.push(batch);
      expect(batches.every((b) => b.indexes.length <= 3)).toBe(true);
      expect(batches.flatMap((b) => b.indexes)).toEqual([0, 1, 2, 3]);
      expect(Buffer.concat(batches.map((b) => b.leaves))).toEqual(Buffer.concat(entries.map((e) => e.leafHash)));
      expect(batches.flatMap((b) => [...b.committed])).toEqual([LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES, LEAF_MATCHES]);
    });

    it('signs a head over the whole log with every batch, committed with it', async () => {
      const entries = entriesFor(SAMPLE);
      expect(await store.head()).toBeUndefined();
      for (let i = 0; i < entries.length; i++) {
        const { head } = await append(entries.slice(i, i + 1));
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

    it('refuses to extend a head whose frontier does not give its signed root', async () => {
      await append(entriesFor(SAMPLE.slice(0, 1)));
      const stranger = testWriter();
      await expect(stranger.append(store, entriesFor(SAMPLE.slice(1, 2)))).rejects.toThrow(/stored head does not verify/);
      expect(await store.size()).toBe(1);
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
      { timestamp: '2026-01-01T10:00:00.250Z', model: 'gpt-4o', provider: 'openai', user: 'alice', status: 'success', inputTokens: 10, outputTokens: 5, reasoningTokens: 2, cachedTokens: 1, costUsd: 0.5, latencyMs: 100 },
      { timestamp: '2026-01-01T11:00:00.000Z', model: 'claude-sonnet-4', provider: 'anthropic', user: 'bob', status: 'error', inputTokens: 20 },
      { timestamp: '2026-01-02T09:00:00.000Z', kind: 'event', eventType: 'policy_evaluated' },
      { timestamp: '2026-01-03T00:00:00.000Z', model: 'gpt-4o', provider: 'openai', status: 'blocked', inputTokens: 0, outputTokens: 0, latencyMs: 0, costUsd: 0 },
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
      for (const [from, to] of [[0, 5], [5, 6], [6, 31], [31, 40]] as const) await append(entries.slice(from, to));
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
      it('keeps everything across a reopen', async () => {
        const entries = entriesFor(SAMPLE);
        const { checkpoint, head } = await append(entries, { checkpoint: true });
        await store.close();
        store = await harness.reopen!();
        expect(await store.size()).toBe(4);
        expect(await store.leafHashes(0, 4)).toEqual(entries.map((e) => e.leafHash));
        expect(await store.checkpoints()).toEqual([checkpoint]);
        expect(await store.head()).toEqual(head);
        expect((await store.search({ user: 'alice' }, { limit: 5 })).map((r) => r.index)).toEqual([3, 0]);
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
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one.append(store, entries.slice(i * 4, i * 4 + 4)) : two.append(other, entries.slice(i * 4, i * 4 + 4)))),
          );
          expect(results.flatMap((r) => r.indexes).sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
          const leaves = await store.leafHashes(0, entries.length);
          const byIndex = new Map(results.flatMap((r, b) => r.indexes.map((index, k) => [index, entries[b * 4 + k]!.leafHash] as const)));
          expect(leaves).toEqual(entries.map((_, i) => byIndex.get(i)));
          const head = (await store.head())!;
          expect(head.size).toBe(entries.length);
          expect(openCheckpoint(head.note, one.sequencer.verifierKey, ORIGIN).root).toEqual(rootOf(leaves));
        } finally {
          await other.close();
        }
      });
    }
  });
}
