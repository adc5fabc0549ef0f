/**
 * What the parts of the shared store suite (conformance.ts and the conformance-*.ts beside it)
 * share: the harness a driver gives, the test log's writers, sealed sample records, and readers of
 * what a store hands back.
 */
import { expect } from 'vitest';
import { defaultCapturePolicy } from '../../capture/default-policy.js';
import { Digester } from '../../crypto/digest.js';
import { leafHash } from '../../log/merkle.js';
import { generateSignerKey } from '../../log/note.js';
import { Sequencer } from '../../log/sequencer.js';
import { sealEnvelope } from '../../record/envelope.js';
import type { Envelope, RecordInput } from '../../record/types.js';
import type { ContentItem, StoredContent } from '../content.js';
import type { AppendEntry, Appended, NewEntry, Store } from '../store.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** The same storage opened again, for stores that persist; omitted for memory-only stores. */
  reopen?(): Promise<Store>;
  /** `reopen` may be called while the first store is open, for a second writer (another process's, in effect). */
  sharedWriters?: boolean;
  /**
   * Whether the store keeps content (`Store.content`). Declared, never guessed: a store declared
   * without it must lack `content` and refuse a batch that carries some, storing none of it.
   */
  content: boolean;
  /**
   * Whether retention can prune (`Store.pruning`); a store declared without it must lack
   * `pruning`. 'whole days': `prune` may remove whole expired days below the horizon at once,
   * beyond its limit (PostgreSQL drops such day partitions), still never at or above the horizon.
   */
  pruning: boolean | 'whole days';
  /** Changes rows in storage directly, beneath the store, so the suite can check what `scanLeaves` reports. */
  tamper?: StoreTamper;
}

/** Edits made in storage behind the store's back, as someone with write access to it could (its guards switched off). */
export interface StoreTamper {
  /** Replaces the stored bytes of the row at `index` with `canonical`; its committed leaf stays as it is. */
  rewrite(store: Store, index: number, canonical: string): Promise<void>;
  /**
   * Stores that keep an index of the events records carry (`checkEventIndex`): removes the index's
   * row of `type` for the record at `index` (`listed` false), or adds one (`listed` true).
   */
  editEventIndex?(store: Store, index: number, type: string, listed: boolean): Promise<void>;
  /** Makes the row at `index` claim index `to` instead (no row holds `to`); its bytes and every committed leaf stay. */
  move(store: Store, index: number, to: number): Promise<void>;
}

export const ORIGIN = 'conformance.example/log';

export interface AppendOptions {
  checkpoint?: boolean;
  raiseHorizon?: number;
  replayed?: boolean;
}

/** A writer of the test log: its sequencer, and an append that asks for a checkpoint when told to. */
export function testWriter(signerKey = generateSignerKey(ORIGIN)) {
  const sequencer = new Sequencer(signerKey, ORIGIN);
  return {
    sequencer,
    append: (store: Store, entries: readonly NewEntry[], options: AppendOptions = {}): Promise<Appended> => store.append(entries, { sequencer, ...options }),
  };
}
export type TestWriter = ReturnType<typeof testWriter>;

const ctx = { capture: defaultCapturePolicy(new Digester('sha256')), limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 } };

/** Seals inputs into entries the way the core does, starting at `first`. */
export function entriesFor(inputs: RecordInput[], first = 0): AppendEntry[] {
  return inputs.map((input, i) => {
    const { envelope, canonical } = sealEnvelope(input, ctx);
    return { index: first + i, id: envelope.id, canonical, leafHash: leafHash(Buffer.from(canonical)) };
  });
}

export const SAMPLE: RecordInput[] = [
  {
    timestamp: '2026-01-01T00:00:00.000Z',
    model: 'gpt-4o',
    provider: 'openai',
    user: 'alice',
    session: 's1',
    conversation: 'c1',
    apiKey: 'sk-alpha-0123456789abcdefghij',
    status: 'success',
    traceId: 't1',
    requestId: 'r1',
  },
  {
    timestamp: '2026-01-02T00:00:00.000Z',
    model: 'claude-sonnet-4',
    provider: 'anthropic',
    user: 'bob',
    session: 's2',
    status: 'error',
    traceId: 't2',
    requestId: 'r2',
  },
  { timestamp: '2026-01-03T00:00:00.000Z', kind: 'event', eventType: 'policy_evaluated', component: 'policy', traceId: 't1', requestId: 'r1' },
  {
    timestamp: '2026-01-04T00:00:00.000Z',
    model: 'gpt-4o',
    provider: 'openai',
    user: 'alice',
    session: 's3',
    apiKey: 'sk-beta-0123456789abcdefghijk',
    status: 'blocked',
    traceId: 't3',
    requestId: 'r3',
  },
];

/** The time of an entry's envelope, which its content carries. */
export function tsOf(entry: NewEntry): string {
  return (JSON.parse(entry.canonical) as Envelope).ts;
}

/** A content item whose bytes say what they are, so a mix-up between records or modes shows. */
export function item(mode: ContentItem['mode'], subject: string, text: string): ContentItem {
  return { mode, subject, data: Buffer.from(JSON.stringify({ text }), 'utf8') };
}

/** The entry with content beside it, as the ledger sends it (`ts` the envelope's). */
export function withContent(entry: AppendEntry, ...items: ContentItem[]): AppendEntry {
  return { ...entry, content: { ts: tsOf(entry), items } };
}

/** Stored content as comparable tuples, sorted by mode (a store returns a record's items in no promised order). */
export function contentRows(stored: StoredContent[]): [number, string, string, string, string, string][] {
  return stored
    .map((c): [number, string, string, string, string, string] => [c.index, c.recordId, c.ts, c.mode, c.subject, Buffer.from(c.data).toString('utf8')])
    .sort((a, b) => (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0));
}

/** What `contentRows` gives for items stored beside `entry` at `index`. */
export function expectedContent(entry: NewEntry, index: number, ...items: ContentItem[]): [number, string, string, string, string, string][] {
  return contentRows(items.map((c) => ({ ...c, index, recordId: entry.id, ts: tsOf(entry) })));
}

/** One row as `scanLeaves` reported it. */
export interface ScannedRow {
  index: number;
  leaf: string;
  committed: number;
}

/** Every row `scanLeaves` reports, sorted by the index it claims (storage order is the store's own), with the batch sizes. */
export async function scanned(store: Store, batchSize: number): Promise<{ rows: ScannedRow[]; batchSizes: number[] }> {
  const rows: ScannedRow[] = [];
  const batchSizes: number[] = [];
  for await (const batch of store.scanLeaves(batchSize)) {
    batchSizes.push(batch.indexes.length);
    expect(batch.leaves.length).toBe(batch.indexes.length * 32);
    expect(batch.committed.length).toBe(batch.indexes.length);
    batch.indexes.forEach((index, i) =>
      rows.push({ index, leaf: Buffer.from(batch.leaves.subarray(i * 32, i * 32 + 32)).toString('hex'), committed: batch.committed[i]! }),
    );
  }
  return { rows: rows.sort((a, b) => a.index - b.index), batchSizes };
}

/** A record's bytes edited as a tamperer would: a field changed, still JSON. */
export function edited(canonical: string): string {
  const text = canonical.replace(/"model":"[^"]*"/, '"model":"tampered-model"');
  expect(text).not.toBe(canonical);
  return text;
}

/** What a part of the suite sees of the running test: its store (opened before each test) and the log's writer. */
export interface SuiteState {
  readonly harness: StoreHarness;
  readonly store: Store;
  readonly writer: TestWriter;
  append(entries: readonly NewEntry[], options?: AppendOptions): Promise<Appended>;
  /** Closes the store and opens its storage again (`harness.reopen`): the test's store from then on. */
  reopen(): Promise<Store>;
}
