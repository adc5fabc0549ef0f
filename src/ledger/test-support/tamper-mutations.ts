/**
 * The shared part of the tamper suites (tamper-suite.{sqlite,postgres,jsonl}.test.ts): the layout
 * of the ledger every mutation starts from, how it is written through the real API, the form of
 * an expectation, and the checks that hold a verify report (from the library and from the CLI)
 * against one.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCapturePolicy } from '../../capture/default-policy.js';
import { run, runAsync } from '../../cli/test-support/cli.js';
import { Digester } from '../../crypto/digest.js';
import { generateSignerKey, NoteSigner } from '../../log/checkpoint.js';
import { sealEnvelope } from '../../record/envelope.js';
import { RecordValidationError } from '../../record/errors.js';
import { parseRecordInput } from '../../record/schema.js';
import type { RecordInput } from '../../record/types.js';
import type { Ledger } from '../ledger.js';
import { openLedger } from '../open-ledger.js';
import type { ProblemKind, VerifyReport } from '../verify.js';
import { sampleCall } from './fixtures.js';

/**
 * The ledger every mutation is applied to (a fresh copy each time), written through the API in
 * batches with a checkpoint interval of an hour, so which notes exist is known exactly:
 *
 *   batch [0, 5)    the first batch: a checkpoint is due at once -> checkpoint 5 (stored, anchored)
 *                   a copy of the store is kept here: the "backup" (5 records)
 *   batch [5, 8)    head 8 only; a copy of the store is kept: the "older copy" (8 records)
 *   batch [8, 10)   head 10; flush() -> checkpoint 10 (stored, anchored)
 *   batch [10, 13)  head 13 only; its note and a copy of the store are kept ("recent copy")
 *   batch [13, 16)  head 16 only: records 10..15 are covered by the signed head alone
 *
 * Every store keeps the head the same way in substance (SQLite's head table, JSONL's head.json,
 * PostgreSQL's log_head row), replaced in the transaction of each batch.
 */
export const LAYOUT = {
  size: 16,
  /** Stored and anchored checkpoints. */
  checkpoints: [5, 10],
  /** The signed head. */
  head: 16,
  /** The head signed after batch [10, 13). */
  olderHead: 13,
  /** The older copy a rollback restores: behind the anchor's newest checkpoint (10). */
  older: 8,
  /** The backup restored before an append. */
  backup: 5,
  /** A copy taken after the anchor's newest checkpoint: a rollback to it is the suite's documented limit. */
  recent: 13,
  /** Index 6 is an event, not a call (no call_stats row); every other record is an llm.call. */
  event: 6,
} as const;

/** Points of the layout at which a store's copy (or a head's note) is kept. */
export type Stage = 'backup' | 'older' | 'recent' | 'final';

export function layoutRecord(i: number): RecordInput {
  return i === LAYOUT.event ? { kind: 'event', eventType: 'deploy', component: 'ci', metadata: { n: i } } : sampleCall(i);
}

/**
 * Writes the layout through `ledger` (opened for writing), calling `at` at each stage while the
 * ledger is still open: closing it signs a checkpoint over the tail.
 */
export async function writeLayout(ledger: Ledger, at: (stage: Stage) => Promise<void> | void): Promise<void> {
  const batch = async (from: number, to: number) => {
    const receipts = await ledger.recordAll(Array.from({ length: to - from }, (_, k) => layoutRecord(from + k)));
    expect(receipts.map((r) => r.index)).toEqual(Array.from({ length: to - from }, (_, k) => from + k));
  };
  await batch(0, 5);
  await ledger.flush();
  await at('backup');
  await batch(5, 8);
  await at('older');
  await batch(8, 10);
  await ledger.flush();
  await batch(10, 13);
  await at('recent');
  await batch(13, 16);
  await at('final');
}

/** A record sealed as the ledger seals one, for rows written straight into storage: the exact text and its correct leaf. */
export function forgedEntry(input: RecordInput): { id: string; ts: string; canonical: string } {
  const { envelope, canonical } = sealEnvelope(parseRecordInput(input), {
    capture: defaultCapturePolicy(new Digester('sha256')),
    limits: { maxMetadataBytes: 8192, maxErrorChars: 1024 },
  });
  return { id: envelope.id, ts: envelope.ts, canonical };
}

/** A `retention` record as the ledger's cleanup writes one, stating that envelopes below `below` were pruned. */
export function forgedRetention(below: number): { id: string; ts: string; canonical: string } {
  return forgedEntry({
    kind: 'retention',
    component: 'retention',
    metadata: { envelopes: { cutoff: '2026-01-01T00:00:00.000Z', from: 0, below, count: below } },
  });
}

/** One bit of the text flipped: the first letter of the value of `"model":"` (g -> f, c -> b), so the JSON stays valid. */
export function flipBit(text: string): string {
  const at = text.indexOf('"model":"') + '"model":"'.length;
  if (at < '"model":"'.length) throw new Error('no model to flip a bit of');
  return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);
}

/** A field edited as someone with write access would: the model of a call. */
export function editModel(text: string): string {
  const edited = text.replace(/"model":"[^"]*"/, '"model":"gpt-3.5-turbo"');
  if (edited === text) throw new Error('no model to edit');
  return edited;
}

/** The note with one character of its signature changed (the note text itself untouched). */
export function corruptSignature(note: string): string {
  const lines = note.split('\n');
  const at = lines.findIndex((l) => l.startsWith('\u2014 '));
  const sig = lines[at]!;
  const pos = sig.length - 10;
  lines[at] = sig.slice(0, pos) + (sig[pos] === 'A' ? 'B' : 'A') + sig.slice(pos + 1);
  return lines.join('\n');
}

/** A well-formed checkpoint over the same tree as `note`, signed by a key that is not the ledger's. */
export function signedByAnotherKey(note: string): string {
  const [origin, size, root] = note.split('\n') as [string, string, string];
  const stranger = new NoteSigner(generateSignerKey(origin.replace(/[\s+]/g, '_')));
  return stranger.sign({ origin, size: Number(size), root: Buffer.from(root, 'base64') });
}

/** The size a signed note states (its second line). */
export function noteSize(note: string): number {
  return Number(note.split('\n')[1]);
}

/**
 * What verify must say about a mutation.
 * - `firstBad`: `report.firstBadIndex` exactly (null: the mutation touched no record, e.g. a checkpoint row);
 * - `within`: a consistent rewrite that only signed notes can tell: [bound, index], where `index` is the
 *   first index touched and `bound` the size of the last signed checkpoint (stored, anchored or head) at
 *   or below it; `firstBadIndex` must lie in that range;
 * - `problems`: problems that must be among those reported, as 'kind@index' or 'kind' (no index);
 * - `message`: a pattern some problem's message must match.
 */
export type Expected =
  { firstBad: number | null; problems: string[]; message?: RegExp } | { within: [bound: number, index: number]; problems: string[]; message?: RegExp };

/** One kind of mutation: a row of a suite's table. */
export interface Mutation<T> {
  name: string;
  /** What the mutation does to the copy. */
  does: string;
  expect: Expected;
  /** Also checked through the built CLI: `llm-ledger verify` exits 1 and its --json report says the same. */
  cli?: boolean;
  /** Why this row is expected to fail for now (it runs as `it.fails`): the suite's open findings. */
  pending?: string;
  apply(target: T): Promise<void> | void;
}

/**
 * A mutation after which a writer must refuse to append: opening for writing works (the ledger
 * stays readable), but `record()` rejects with a message naming the first index concerned, and
 * nothing is appended; `thenVerify` is what verify reports afterwards.
 */
export interface WriterRefusal<T> {
  name: string;
  does: string;
  refusal: RegExp;
  thenVerify: Expected;
  pending?: string;
  apply(target: T): Promise<void> | void;
}

/**
 * A mutation verify cannot see, kept in the table as a documented limit (it asserts that verify
 * says OK, so the day it is caught, the row must move to the detected ones).
 */
export interface Limit<T> {
  name: string;
  does: string;
  why: string;
  apply(target: T): Promise<void> | void;
}

/** A store file so damaged that no ledger can be opened on it, not even to verify. */
export interface OpenFailure<T> {
  name: string;
  does: string;
  /** What opening (for verify, read-only) rejects with. */
  error: RegExp;
  /** The CLI's exit code for it (3: the ledger could not be opened). */
  exitCode: number;
  apply(target: T): Promise<void> | void;
}

export function describeExpected(e: Expected): string {
  const where = 'firstBad' in e ? (e.firstBad === null ? 'no index' : `first bad index ${e.firstBad}`) : `first bad index in [${e.within[0]}, ${e.within[1]}]`;
  return `${where}; ${e.problems.join(', ')}`;
}

function parseProblem(spec: string): { kind: ProblemKind; index: number | undefined } {
  const [kind, index] = spec.split('@') as [ProblemKind, string | undefined];
  return { kind, index: index === undefined ? undefined : Number(index) };
}

/** Holds a report against what the table says. */
export function expectDetected(report: VerifyReport, expected: Expected): void {
  const found = report.problems.map((p) => (p.index === undefined ? p.kind : `${p.kind}@${p.index}`));
  expect(report.ok, `verify said OK; problems: ${found.join(', ')}`).toBe(false);
  if ('firstBad' in expected) {
    expect(report.firstBadIndex, `problems: ${found.join(', ')}`).toBe(expected.firstBad);
  } else {
    const [bound, index] = expected.within;
    expect(report.firstBadIndex, `problems: ${found.join(', ')}`).not.toBeNull();
    expect(report.firstBadIndex!).toBeGreaterThanOrEqual(bound);
    expect(report.firstBadIndex!).toBeLessThanOrEqual(index);
  }
  for (const spec of expected.problems) {
    const { kind, index } = parseProblem(spec);
    const match = report.problems.some((p) => p.kind === kind && (index === undefined || p.index === index));
    expect(match, `expected a '${spec}' problem among: ${found.join(', ')}`).toBe(true);
  }
  if (expected.message) expect(report.problems.map((p) => p.message).join('\n')).toMatch(expected.message);
}

interface CliReport {
  ok: boolean;
  firstBadIndex: number | null;
  problems: { kind: string; index?: number }[];
}

/** `llm-ledger verify --json` in `dir` (its llm-ledger.yaml): the exit code and the report. */
export async function cliVerify(
  dir: string,
  options: { async?: boolean } = {},
): Promise<{ code: number | null; report: CliReport | undefined; stderr: string }> {
  const result = options.async ? await runAsync(dir, ['verify', '--json']) : run(dir, ['verify', '--json']);
  let report: CliReport | undefined;
  try {
    report = JSON.parse(result.stdout) as CliReport;
  } catch {
    report = undefined;
  }
  return { code: result.code, report, stderr: result.stderr };
}

/** The CLI must exit 1 and report what the library reported. */
export function expectCliAgrees(cli: Awaited<ReturnType<typeof cliVerify>>, library: VerifyReport): void {
  expect(cli.code, cli.stderr).toBe(1);
  expect(cli.report?.ok).toBe(false);
  expect(cli.report?.firstBadIndex).toBe(library.firstBadIndex);
  expect(cli.report?.problems.map((p) => p.kind)).toEqual(library.problems.map((p) => p.kind));
}

/**
 * The counts the README quotes, printed once per suite. `apiRefusals`: forged records the API
 * refused (no storage mutation).
 */
export function summary<T>(
  store: string,
  rows: { mutations: Mutation<T>[]; refusals: WriterRefusal<T>[]; limits: Limit<T>[]; openFailures: OpenFailure<T>[]; apiRefusals: number },
): string {
  const live = rows.mutations.filter((m) => !m.pending);
  const exact = live.filter((m) => 'firstBad' in m.expect && m.expect.firstBad !== null).length;
  const noIndex = live.filter((m) => 'firstBad' in m.expect && m.expect.firstBad === null).length;
  const bounded = live.filter((m) => 'within' in m.expect).length;
  const pending = [...rows.mutations, ...rows.refusals].filter((m) => m.pending).map((m) => m.name);
  const refusals = rows.refusals.filter((r) => !r.pending).length;
  const kinds = rows.mutations.length + rows.refusals.length + rows.limits.length + rows.openFailures.length + rows.apiRefusals;
  return [
    `${store}: ${kinds} kinds of mutation`,
    `  ${exact} reported with the exact first bad index`,
    `  ${noIndex} reported without an index (a checkpoint or derived row: no record touched)`,
    `  ${bounded} within the bound of the last signed checkpoint at or below the index`,
    `  ${refusals} refused by the writer, naming the index (verify reports them too)`,
    `  ${rows.apiRefusals} refused by the API (nothing stored)`,
    `  ${rows.openFailures.length} refused at open (no report: the store cannot be read)`,
    `  ${pending.length} not detected as specified yet (it.fails)${pending.length ? `: ${pending.join('; ')}` : ''}`,
    `  ${rows.limits.length} not detected (documented limits)`,
  ].join('\n');
}

/** How one store's suite makes a copy of the layout and verifies it; the copy's folder holds its llm-ledger.yaml. */
export interface SuiteStore<T extends { dir: string }> {
  copy(): T | Promise<T>;
  verify(copy: T): Promise<VerifyReport>;
  /** The CLI run without blocking the test's thread (PostgreSQL: the suite's tests run concurrently). */
  cliAsync?: boolean;
  concurrent?: boolean;
}

/**
 * The rows every store's suite runs the same way: each mutation verify must report (and, where
 * marked, the CLI too), each mutation a writer must refuse, the API's refusal of a forged
 * retention record, and the documented limits.
 */
export function describeSharedRows<T extends { dir: string }>(
  store: SuiteStore<T>,
  rows: { mutations: Mutation<T>[]; refusals: WriterRefusal<T>[]; limits: Limit<T>[] },
): void {
  const group = store.concurrent ? describe.concurrent : describe;
  const quiet = { onWarning: () => undefined };
  const config = (c: T) => join(c.dir, 'llm-ledger.yaml');

  group.each(rows.mutations.map((m) => [`${m.name}: ${m.does} -> ${describeExpected(m.expect)}`, m] as const))('%s', (_, m) => {
    (m.pending ? it.fails : it)(`verify reports it${m.cli ? ', the CLI too (exit 1)' : ''}`, async () => {
      const c = await store.copy();
      await m.apply(c);
      const report = await store.verify(c);
      expectDetected(report, m.expect);
      if (m.cli) expectCliAgrees(await cliVerify(c.dir, { async: store.cliAsync === true }), report);
    });
  });

  group.each(rows.refusals.map((r) => [`${r.name}: ${r.does}`, r] as const))('%s', (_, r) => {
    (r.pending ? it.fails : it)('the writer refuses to append, naming the index, and nothing is appended', async () => {
      const c = await store.copy();
      await r.apply(c);
      const ledger = await openLedger(config(c), quiet);
      try {
        const before = await ledger.size();
        await expect(ledger.record(sampleCall(900))).rejects.toThrow(r.refusal);
        expect(await ledger.size()).toBe(before);
      } finally {
        await ledger.close().catch(() => undefined);
      }
      expectDetected(await store.verify(c), r.thenVerify);
    });
  });

  it("a forged 'retention' record through the API is refused with a RecordValidationError, and nothing is stored", async () => {
    const c = await store.copy();
    const ledger = await openLedger(config(c), quiet);
    try {
      const refused = await ledger.record({ kind: 'retention', component: 'retention', metadata: { envelopes: { below: 100 } } }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(RecordValidationError);
      expect(await ledger.size()).toBe(LAYOUT.size);
    } finally {
      await ledger.close();
    }
    expect(await store.verify(c)).toMatchObject({ ok: true, size: LAYOUT.size });
  });

  group.each(rows.limits.map((l) => [`${l.name}: ${l.does}`, l] as const))('not detected (a documented limit): %s', (_, l) => {
    it(`verify says OK: ${l.why}`, async () => {
      const c = await store.copy();
      await l.apply(c);
      expect((await store.verify(c)).ok).toBe(true);
    });
  });
}
