import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerConfig } from '../../config/schema.js';
import { openLedger } from '../../ledger/open-ledger.js';
import type { Ledger } from '../../ledger/ledger.js';
import { recordSequentially, sampleCall, tempDir, testConfig } from '../../ledger/test-support/fixtures.js';
import { sha256 } from '../../crypto/sha256.js';
import { leafHashOfText, rootOf } from '../../log/merkle.js';
import { Sequencer } from '../../log/sequencer.js';
import { corruptSignature, signedByAnotherKey } from '../../ledger/test-support/tamper-mutations.js';
import { findTornTail, type TailInput } from './jsonl-torn-tail.js';
import { JsonlStore } from './jsonl-store.js';
import { TORN_TAIL_EVENT, type TornTail } from '../torn-tail.js';

const quiet = { onWarning: () => undefined };
const today = () => `audit_${new Date().toISOString().slice(0, 10).replaceAll('-', '')}.jsonl`;

/** What one batch appended to each file of a JSONL store, and the whole ledger directory as it was before it. */
interface TornBatch {
  /** The ledger directory (keys, anchor, jsonl/) as it was before the batch. */
  before: string;
  config: (dir: string) => LedgerConfig;
  /** The bytes the batch appended to each file of jsonl/ (a file it created: all of it). */
  appended: Map<string, Buffer>;
  /** head.json after the batch: what the batch wrote to head.next.json before anything else. */
  next: Buffer;
  /** Records the log held before the batch, and in the batch. */
  size: number;
  batch: number;
}

/**
 * A ledger of `size` records, then one batch of `batch` records (one checkpoint each), the way the
 * writer appends it: what a crash can leave half written is head.next.json and a prefix of each
 * file's part of the batch.
 */
async function tornBatch(options: { size?: number; batch?: number; maxFileBytes?: number } = {}): Promise<TornBatch> {
  const { size = 6, batch = 4, maxFileBytes } = options;
  const config = (dir: string) => {
    const base = testConfig(dir, { store: 'jsonl' });
    return maxFileBytes === undefined ? base : { ...base, store: { ...base.store, maxFileBytes } };
  };
  const dir = tempDir();
  const ledger = await openLedger(config(dir), quiet);
  await recordSequentially(ledger, size);
  await ledger.close();
  const before = tempDir();
  cpSync(dir, before, { recursive: true });
  const again = await openLedger(config(dir), quiet);
  await again.recordAll(Array.from({ length: batch }, (_, i) => sampleCall(100 + i)));
  await again.close();
  const appended = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, 'jsonl'))) {
    if (name.startsWith('head.') || statSync(join(dir, 'jsonl', name)).isDirectory()) continue;
    const was = existsSync(join(before, 'jsonl', name)) ? readFileSync(join(before, 'jsonl', name)).length : 0;
    const now = readFileSync(join(dir, 'jsonl', name));
    if (now.length > was) appended.set(name, now.subarray(was));
  }
  return { before, config, appended, next: readFileSync(join(dir, 'jsonl', 'head.json')), size, batch };
}

/**
 * A copy of the ledger before the batch, with the first `take[file]` bytes of what the batch
 * appended to each file (all of it: Infinity) and `next` bytes of its head.next.json (all of it by
 * default: it is written before anything else).
 */
function crashed(torn: TornBatch, take: Record<string, number>, next = Infinity): string {
  const dir = tempDir();
  cpSync(torn.before, dir, { recursive: true });
  if (next > 0) writeFileSync(join(dir, 'jsonl', 'head.next.json'), torn.next.subarray(0, next));
  for (const [name, bytes] of torn.appended) {
    const n = take[name.startsWith('audit_') ? 'lines' : name] ?? 0;
    if (n > 0) appendFileSync(join(dir, 'jsonl', name), bytes.subarray(0, n));
  }
  return dir;
}

const linesFile = (torn: TornBatch) => [...torn.appended.keys()].find((n) => n.startsWith('audit_'))!;
const lineBytes = (torn: TornBatch, lines: number) => {
  const text = torn.appended.get(linesFile(torn))!;
  let at = 0;
  for (let i = 0; i < lines; i++) at = text.indexOf(0x0a, at) + 1;
  return at;
};
const snapshot = (dir: string) =>
  Object.fromEntries(
    readdirSync(join(dir, 'jsonl')).map((n) => [
      n,
      statSync(join(dir, 'jsonl', n)).isFile() ? sha256(readFileSync(join(dir, 'jsonl', n))).toString('hex') : 'dir',
    ]),
  );
const events = async (ledger: Ledger) => (await ledger.search({ kind: 'event', eventType: TORN_TAIL_EVENT })).records;
const headSize = (dir: string) => (JSON.parse(readFileSync(join(dir, 'jsonl', 'head.json'), 'utf8')) as { size: number }).size;
const problemsOf = (report: { problems: { kind: string; index?: number }[] }) => report.problems.map((p) => `${p.kind}@${p.index ?? '-'}`);

async function readOnlyVerify(torn: TornBatch, dir: string) {
  const ledger = await openLedger(torn.config(dir), { readOnly: true, ...quiet });
  try {
    return { size: await ledger.size(), report: await ledger.verify() };
  } finally {
    await ledger.close();
  }
}

/** Opens for writing (which recovers), checks the event and the files, appends, verifies. */
async function recoverAndAppend(torn: TornBatch, dir: string) {
  const ledger = await openLedger(torn.config(dir), quiet);
  try {
    const stated = await events(ledger);
    const receipt = await ledger.record(sampleCall(999));
    return { stated, receipt, report: await ledger.verify(), size: await ledger.size() };
  } finally {
    await ledger.close();
  }
}

/** What each point of an append leaves, and what the next opens make of it. */
type Outcome = { cut: { records: number; files: string[] } } | 'completed' | 'nothing';

describe('a crash at any point of a JSONL append is never reported as tampering: the batch is cut or completed', () => {
  const shapes: [string, (t: TornBatch) => { take: Record<string, number>; next?: number }, Outcome][] = [
    ['before head.next.json', () => ({ take: {}, next: 0 }), 'nothing'],
    ['half of head.next.json', (t) => ({ take: {}, next: Math.floor(t.next.length / 2) }), 'nothing'],
    ['head.next.json, no line', () => ({ take: {} }), 'nothing'],
    ['a partial first line', () => ({ take: { lines: 40 } }), { cut: { records: 0, files: ['lines'] } }],
    ['two whole lines and a partial one', (t) => ({ take: { lines: lineBytes(t, 2) + 17 } }), { cut: { records: 2, files: ['lines'] } }],
    ['every line, no leaf', () => ({ take: { lines: Infinity } }), { cut: { records: 4, files: ['lines'] } }],
    ['every line and two and a half leaves', () => ({ take: { lines: Infinity, 'leaves.bin': 80 } }), { cut: { records: 4, files: ['lines', 'leaves.bin'] } }],
    ['every line and leaf, no checkpoint line', () => ({ take: { lines: Infinity, 'leaves.bin': Infinity } }), 'completed'],
    ['every line and leaf, a partial checkpoint line', () => ({ take: { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': 30 } }), 'completed'],
    ['everything but the rename', () => ({ take: { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity } }), 'completed'],
  ];
  it.each(shapes)('%s: read-only, verify passes and the files stay as they are; a writable open recovers and appends', async (_, shape, outcome) => {
    const torn = await tornBatch();
    const { take, next } = shape(torn);
    const dir = crashed(torn, take, next);
    const files = snapshot(dir);
    const kept = outcome === 'completed' ? torn.size + torn.batch : torn.size;

    const read = await readOnlyVerify(torn, dir);
    expect(read.size).toBe(kept);
    expect(read.report).toMatchObject({ ok: true, size: kept, problems: [] });
    const warned = read.report.warnings.filter((w) => /crash/.test(w)).join('\n');
    if (outcome === 'nothing') expect(warned).toBe('');
    else expect(warned).toMatch(outcome === 'completed' ? /completes it/ : /cuts it/);
    // A read-only open writes nothing.
    expect(snapshot(dir)).toEqual(files);

    const { stated, receipt, report, size } = await recoverAndAppend(torn, dir);
    expect(existsSync(join(dir, 'jsonl', 'head.next.json'))).toBe(false);
    if (outcome === 'nothing' || outcome === 'completed') {
      // Nothing was cut: no event, and the record goes right after the log (the completed batch included).
      expect(stated).toEqual([]);
      expect(receipt.index).toBe(kept);
      expect(report).toMatchObject({ ok: true, size: kept + 1 });
      expect(readdirSync(join(dir, 'jsonl'))).not.toContain('torn-tails');
      return;
    }
    expect(stated).toHaveLength(1);
    const metadata = stated[0]!.envelope.metadata as unknown as TornTail;
    expect(stated[0]!.index).toBe(torn.size);
    expect(metadata).toMatchObject({ commitPoint: 'head', committedSize: torn.size, announcedSize: torn.size + torn.batch, records: outcome.cut.records });
    expect(metadata.cuts.map((c) => (c.file.startsWith('audit_') ? 'lines' : c.file)).sort()).toEqual([...outcome.cut.files].sort());
    expect(receipt.index).toBe(torn.size + 1);
    expect(report).toMatchObject({ ok: true, size: torn.size + 2 });
    expect(size).toBe(torn.size + 2);
    // The bytes cut are kept aside, and match the digests the event states; the report is marked recorded.
    const keptDir = join(dir, 'jsonl', 'torn-tails', metadata.id);
    for (const cut of metadata.cuts) expect(sha256(readFileSync(join(keptDir, `${cut.file}.cut`))).toString('hex')).toBe(cut.sha256);
    expect(readdirSync(keptDir).filter((n) => n.endsWith('.json'))).toEqual(['report.json']);

    // Stated once: the next open reports nothing more.
    const reopened = await openLedger(torn.config(dir), quiet);
    expect(await events(reopened)).toHaveLength(1);
    expect((await reopened.verify()).ok).toBe(true);
    await reopened.close();
  });

  it('after the rename the batch is committed: nothing is left to recover', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity }, 0);
    writeFileSync(join(dir, 'jsonl', 'head.json'), torn.next);
    const read = await readOnlyVerify(torn, dir);
    expect(read.report).toMatchObject({ ok: true, size: torn.size + torn.batch, warnings: [] });
    const { stated, receipt } = await recoverAndAppend(torn, dir);
    expect(stated).toEqual([]);
    expect(receipt.index).toBe(torn.size + torn.batch);
  });

  it('a completed batch keeps its checkpoint line, and the anchor gets it', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity });
    const ledger = await openLedger(torn.config(dir), quiet);
    expect(await ledger.size()).toBe(torn.size + torn.batch);
    await ledger.record(sampleCall(1));
    const report = await ledger.verify();
    await ledger.close();
    expect(report).toMatchObject({ ok: true });
    expect(report.coveredByAnchor).toBeGreaterThanOrEqual(torn.size + torn.batch);
    expect(headSize(dir)).toBeGreaterThan(torn.size + torn.batch);
  });

  it("a ledger's first batch (no head.json yet) is cut or completed too", async () => {
    const torn = await tornBatch({ size: 0 });
    expect(existsSync(join(torn.before, 'jsonl', 'head.json'))).toBe(false);
    const partial = crashed(torn, { lines: lineBytes(torn, 1) + 9 });
    expect((await readOnlyVerify(torn, partial)).report).toMatchObject({ ok: true, size: 0 });
    const cut = await recoverAndAppend(torn, partial);
    expect(cut.stated.map((r) => r.envelope.metadata)).toMatchObject([{ committedSize: 0, announcedSize: torn.batch, records: 1 }]);
    expect(cut.report).toMatchObject({ ok: true, size: 2 });

    const whole = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity });
    expect((await readOnlyVerify(torn, whole)).report).toMatchObject({ ok: true, size: torn.batch });
    const completed = await recoverAndAppend(torn, whole);
    expect(completed.stated).toEqual([]);
    expect(completed.report).toMatchObject({ ok: true, size: torn.batch + 1 });
  });

  it('a batch that opened a new day file: the file is removed with the cut', async () => {
    const torn = await tornBatch({ maxFileBytes: 1 });
    const name = linesFile(torn);
    expect(name).toMatch(/_\d{3}\.jsonl$/);
    const dir = crashed(torn, { lines: lineBytes(torn, 1) + 5 });
    expect((await readOnlyVerify(torn, dir)).report.ok).toBe(true);
    const ledger = await openLedger(torn.config(dir), quiet);
    const [event] = await events(ledger);
    expect(event!.envelope.metadata).toMatchObject({ records: 1, cuts: [{ file: name, offset: 0, lines: 1, partialLine: true }] });
    await ledger.close();
    // The event itself went to a file of its own again (each file here holds one batch), not to the removed one's remains.
    expect(existsSync(join(dir, 'jsonl', 'torn-tails', (event!.envelope.metadata as unknown as TornTail).id, `${name}.cut`))).toBe(true);
    expect(await readOnlyVerify(torn, dir)).toMatchObject({ size: torn.size + 1, report: { ok: true } });
  });

  it('the anchor never holds the torn batch, so a store with an anchor recovers too', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': 64 });
    expect(existsSync(join(dir, 'anchor'))).toBe(true);
    const { report } = await recoverAndAppend(torn, dir);
    expect(report).toMatchObject({ ok: true, anchor: expect.any(String) });
    expect(report.coveredByAnchor).toBeGreaterThan(0);
  });

  it('a crash during the cut leaves a shorter tail of the same shape, stated once as the first cut', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': 80 });
    // The cut as far as its first file: the report and the bytes kept, leaves.bin cut, the lines not yet.
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    store.settleAnnounced(true);
    const [found] = store.recovered;
    await store.close();
    const kept = join(dir, 'jsonl', 'torn-tails', found!.id);
    cpSync(dir, `${dir}.whole`, { recursive: true });
    const whole = `${dir}.whole/jsonl`;
    mkdirSync(kept, { recursive: true });
    for (const cut of found!.cuts) writeFileSync(join(kept, `${cut.file}.cut`), readFileSync(join(whole, cut.file)).subarray(cut.offset));
    writeFileSync(join(kept, 'pending.json'), JSON.stringify(found));
    const leaves = found!.cuts.find((c) => c.file === 'leaves.bin')!;
    writeFileSync(join(dir, 'jsonl', 'leaves.bin'), readFileSync(join(whole, 'leaves.bin')).subarray(0, leaves.offset));

    const again = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    again.settleAnnounced(true);
    expect(again.recovered).toEqual([found]);
    expect(again.pendingRecovery).toMatch(/was interrupted/);
    await again.close();
    const { stated, report } = await recoverAndAppend(torn, dir);
    expect(stated.map((r) => (r.envelope.metadata as unknown as TornTail).id)).toEqual([found!.id]);
    expect(report.ok).toBe(true);
  });

  it('a crash while a batch is completed (its partial checkpoint line dropped, not yet renamed) leaves the same batch, completed at the next open', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': 30 });
    const checkpoints = join(dir, 'jsonl', 'checkpoints.jsonl');
    writeFileSync(checkpoints, readFileSync(checkpoints).subarray(0, readFileSync(checkpoints).length - 30));
    const { stated, receipt, report } = await recoverAndAppend(torn, dir);
    expect(stated).toEqual([]);
    expect(receipt.index).toBe(torn.size + torn.batch);
    expect(report.ok).toBe(true);
  });

  it('a cut whose event was never recorded is reported again at the next open, and then recorded', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: lineBytes(torn, 3) });
    // A writer that is not a ledger (or a ledger that died before its event): the first append cuts.
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    expect(store.announced).toMatchObject({ committedSize: torn.size, complete: false, head: { size: torn.size + torn.batch } });
    // The ledger's own key signs the checkpoint the append keeps.
    const sequencer = new Sequencer(readFileSync(join(dir, 'signing.key'), 'utf8').trim(), torn.config(dir).log.origin);
    // Until a ledger has checked the signature of head.next.json, the store does not write.
    await expect(store.append([], { sequencer, checkpoint: true })).rejects.toThrow(/no ledger has checked its signature/);
    store.settleAnnounced(true);
    expect(store.recovered).toHaveLength(1);
    const { checkpoint } = await store.append([], { sequencer, checkpoint: true });
    expect(checkpoint?.size).toBe(torn.size);
    await store.close();
    expect(readdirSync(join(dir, 'jsonl', 'torn-tails', store.recovered[0]!.id))).toContain('pending.json');
    const { stated, report } = await recoverAndAppend(torn, dir);
    expect(stated).toHaveLength(1);
    expect(stated[0]!.envelope.metadata).toMatchObject({ id: store.recovered[0]!.id, records: 3 });
    expect(report.ok).toBe(true);
  });

  it('an append that fails after it began to write refuses the appends after it; the next open cuts what it left', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, {}, 0);
    const ledger = await openLedger(torn.config(dir), quiet);
    // leaves.bin becomes a directory: the lines go in, their leaves cannot.
    const leaves = join(dir, 'jsonl', 'leaves.bin');
    const saved = readFileSync(leaves);
    rmSync(leaves);
    mkdirSync(leaves);
    await expect(ledger.record(sampleCall(1))).rejects.toThrow(/cannot append/);
    rmSync(leaves, { recursive: true });
    writeFileSync(leaves, saved);
    // The lines of the failed batch are in the file: appending after them would bury them.
    await expect(ledger.record(sampleCall(2))).rejects.toThrow(/an earlier append failed after it began to write/);
    await ledger.close().catch(() => undefined);
    expect((await readOnlyVerify(torn, dir)).report).toMatchObject({ ok: true, size: torn.size });
    const { stated, receipt, report } = await recoverAndAppend(torn, dir);
    expect(stated.map((r) => r.envelope.metadata)).toMatchObject([{ committedSize: torn.size, records: 1 }]);
    expect(receipt.index).toBe(torn.size + 1);
    expect(report.ok).toBe(true);
  });

  it('a file written before signed heads: lines without their leaf hash are the torn tail; lines with one stay, unsealed as before', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': 64 }, 0);
    rmSync(join(dir, 'jsonl', 'head.json'));
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    expect(store.recovered).toMatchObject([{ commitPoint: 'leaves', committedSize: torn.size + 2, records: 2 }]);
    expect(await store.size()).toBe(torn.size + 2);
    await store.close();
    // Records 6 and 7 have their leaves: an older version may have acknowledged them, so they are kept, and the writer refuses them until an operator decides.
    const ledger = await openLedger(torn.config(dir), quiet);
    await expect(ledger.record(sampleCall(1))).rejects.toThrow(/records from index 6 to 7 that no signed head or checkpoint covers/);
    await ledger.close();
    const accepted = await openLedger(torn.config(dir), { ...quiet, acceptUnsealed: { actor: 'ops', reason: 'crash of an old version' } });
    const [first, second] = (await accepted.search({ kind: 'event', limit: 10 })).records.reverse();
    expect([first!.envelope.eventType, second!.envelope.eventType]).toEqual(['unsealed_accepted', TORN_TAIL_EVENT]);
    expect((await accepted.verify()).ok).toBe(true);
    await accepted.close();
  });

  it('a caller cannot write the event', async () => {
    const dir = tempDir();
    const ledger = await openLedger(testConfig(dir, { store: 'jsonl' }), quiet);
    await expect(ledger.record({ kind: 'event', eventType: TORN_TAIL_EVENT, component: 'x' })).rejects.toThrow(/written by the ledger itself/);
    await ledger.close();
  });
});

/** Opens for writing: the writer must refuse, naming the first index beyond the head, and nothing is cut or completed. */
async function expectRefused(torn: TornBatch, dir: string, from: number) {
  const files = snapshot(dir);
  const ledger = await openLedger(torn.config(dir), quiet);
  try {
    // Rows without their leaf hash are refused before they are found unsealed.
    await expect(ledger.record(sampleCall(1))).rejects.toThrow(
      new RegExp(`records from index ${from} to \\d+ that no signed head or checkpoint covers|holds \\d+ records but \\d+ leaf hashes`),
    );
    expect(await events(ledger)).toEqual([]);
  } finally {
    await ledger.close();
  }
  expect(snapshot(dir)).toEqual(files);
}

describe('what no writer of this ledger announced is not a crash: it stays as it is, verify reports it and the writer refuses', () => {
  it('(a whole batch with its checkpoint line but no head.next.json is covered by that signed checkpoint: nothing to report)', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity }, 0);
    expect((await readOnlyVerify(torn, dir)).report).toMatchObject({ ok: true, size: torn.size + torn.batch });
    const { stated, receipt } = await recoverAndAppend(torn, dir);
    expect(stated).toEqual([]);
    expect(receipt.index).toBe(torn.size + torn.batch);
  });

  it.each([
    ['whole lines and leaves, no head.next.json', { lines: Infinity, 'leaves.bin': Infinity }, 0],
    ['whole lines without leaves, no head.next.json', { lines: Infinity }, 0],
  ] as const)('%s: unsealed at the first index beyond the head', async (_, take, next) => {
    const torn = await tornBatch();
    const dir = crashed(torn, take, next);
    const { report } = await readOnlyVerify(torn, dir);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(torn.size);
    expect(problemsOf(report)).toContain(`unsealed@${torn.size}`);
    await expectRefused(torn, dir, torn.size);
  });

  it.each([
    ['signed by another key', (next: { size: number; note: string }) => ({ ...next, note: signedByAnotherKey(next.note) })],
    ['with a corrupted signature', (next: { size: number; note: string }) => ({ ...next, note: corruptSignature(next.note) })],
    ['that is head.json itself (no size beyond the head)', (_: { size: number; note: string }, head: { size: number; note: string }) => head],
  ])('a head.next.json %s before a crash-shaped tail', async (_, forge) => {
    const torn = await tornBatch();
    const takes: Record<string, number>[] = [{ lines: lineBytes(torn, 2) }, { lines: Infinity, 'leaves.bin': Infinity }];
    for (const take of takes) {
      const dir = crashed(torn, take);
      const path = (name: string) => join(dir, 'jsonl', name);
      const read = (name: string) => JSON.parse(readFileSync(path(name), 'utf8')) as { size: number; note: string };
      writeFileSync(path('head.next.json'), JSON.stringify(forge(read('head.next.json'), read('head.json'))));
      const warnings: string[] = [];
      await (await openLedger(torn.config(dir), { readOnly: true, onWarning: (w) => warnings.push(w) })).close();
      if (_ !== 'that is head.json itself (no size beyond the head)')
        expect(warnings.join('\n')).toMatch(/does not verify: no writer of this ledger wrote them/);
      const { report } = await readOnlyVerify(torn, dir);
      expect(report.firstBadIndex).toBe(torn.size);
      expect(problemsOf(report)).toContain(`unsealed@${torn.size}`);
      await expectRefused(torn, dir, torn.size);
    }
  });

  it('lines beyond the size head.next.json announces', async () => {
    const torn = await tornBatch({ batch: 3 });
    const dir = crashed(torn, { lines: Infinity });
    const last = torn.appended
      .get(linesFile(torn))!
      .subarray(lineBytes(torn, 2))
      .toString()
      .replace(`"index":${torn.size + 2}`, `"index":${torn.size + 3}`);
    appendFileSync(join(dir, 'jsonl', linesFile(torn)), last);
    const { report } = await readOnlyVerify(torn, dir);
    expect(problemsOf(report)).toContain(`unsealed@${torn.size}`);
    await expectRefused(torn, dir, torn.size);
  });

  it('a leaf hash beyond the head that is not its line’s', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': 64 });
    const leaves = readFileSync(join(dir, 'jsonl', 'leaves.bin'));
    leaves[(torn.size + 1) * 32]! ^= 1;
    writeFileSync(join(dir, 'jsonl', 'leaves.bin'), leaves);
    const { report } = await readOnlyVerify(torn, dir);
    expect(problemsOf(report)).toEqual(expect.arrayContaining([`changed@${torn.size + 1}`, `unsealed@${torn.size}`]));
    await expectRefused(torn, dir, torn.size);
  });

  it('a whole batch whose lines and leaves were rewritten consistently: not the root head.next.json states', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity });
    const file = join(dir, 'jsonl', linesFile(torn));
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter(Boolean);
    const at = lines.length - 1;
    const edited = lines[at]!.replace('"model":"', '"model":"x');
    writeFileSync(file, `${[...lines.slice(0, at), edited].join('\n')}\n`);
    const leaves = readFileSync(join(dir, 'jsonl', 'leaves.bin'));
    leafHashOfText(edited.slice(edited.indexOf('"envelope":') + '"envelope":'.length, edited.lastIndexOf('}'))).copy(leaves, (torn.size + torn.batch - 1) * 32);
    writeFileSync(join(dir, 'jsonl', 'leaves.bin'), leaves);
    const { report } = await readOnlyVerify(torn, dir);
    expect(problemsOf(report)).toEqual([`unsealed@${torn.size}`]);
    await expectRefused(torn, dir, torn.size);
  });

  it('a line beyond the head that skips an index', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, {});
    const line = torn.appended
      .get(linesFile(torn))!
      .subarray(0, lineBytes(torn, 1))
      .toString()
      .replace(`"index":${torn.size}`, `"index":${torn.size + 1}`);
    appendFileSync(join(dir, 'jsonl', linesFile(torn)), line);
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    expect(store.announced).toBeUndefined();
    expect(store.recovered).toEqual([]);
    await store.close();
    const { report } = await readOnlyVerify(torn, dir);
    expect(report.ok).toBe(false);
    expect(report.firstBadIndex).toBe(torn.size);
  });

  it('a leaf hash beyond the head with no line for it', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { 'leaves.bin': 32 });
    const { report } = await readOnlyVerify(torn, dir);
    expect(report.problems).toMatchObject([{ kind: 'truncated', index: torn.size }]);
  });

  it('an edit inside the committed log is still reported, before and after the torn tail is cut', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: lineBytes(torn, 2) });
    const file = join(dir, 'jsonl', today());
    writeFileSync(file, readFileSync(file, 'utf8').replace('"user":"user-2"', '"user":"mallory"'));
    const { report, size } = await readOnlyVerify(torn, dir);
    expect(size).toBe(torn.size);
    expect(report.firstBadIndex).toBe(2);
    expect(new Set(problemsOf(report))).toEqual(new Set(['changed@2', 'fork@2']));
    // The writer holds leaf hashes against the head, and they are intact: it opens, and its first write cuts the tail.
    const { stated, report: after } = await recoverAndAppend(torn, dir);
    expect(stated).toHaveLength(1);
    expect(new Set(problemsOf(after))).toEqual(new Set(['changed@2', 'fork@2']));
  });

  it('a leaf hash changed inside the committed log: the writer refuses, and nothing is cut', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: lineBytes(torn, 2) });
    const leaves = readFileSync(join(dir, 'jsonl', 'leaves.bin'));
    leaves[3 * 32]! ^= 1;
    writeFileSync(join(dir, 'jsonl', 'leaves.bin'), leaves);
    const ledger = await openLedger(torn.config(dir), quiet);
    await expect(ledger.record(sampleCall(1))).rejects.toThrow(/does not match/);
    expect((await ledger.verify()).firstBadIndex).toBe(3);
    await ledger.close();
    expect(readdirSync(join(dir, 'jsonl'))).not.toContain('torn-tails');
    expect(readFileSync(join(dir, 'jsonl', today())).length).toBeGreaterThan(0);
  });
});

describe('findTornTail', () => {
  const line = (index: number) => `{"index":${index},"envelope":{"id":"r${index}"}}\n`;
  const files = (...indexes: number[]) => [{ name: 'audit_20260101.jsonl', bytes: Buffer.from(indexes.map(line).join('')) }];
  const leafOf = (index: number) => leafHashOfText(`{"id":"r${index}"}`);
  const leaves = (count: number) => Buffer.concat(Array.from({ length: count }, (_, i) => leafOf(i)));
  /** A note of `size` over the records r0.. (its signature is not the store's to check). */
  const signed = (size: number, root = rootOf(Array.from({ length: size }, (_, i) => leafOf(i)))) => ({
    size,
    note: `example.com/log\n${size}\n${root.toString('base64')}\n\n— sig`,
  });
  const checkpoint = (cp: { size: number; note: string }) => `${JSON.stringify(cp)}\n`;
  /** Three committed records, head.json of 3, and what a test changes. */
  const input = (over: Partial<TailInput> = {}): TailInput => ({
    files: files(0, 1, 2),
    leaves: leaves(3),
    checkpoints: Buffer.from(checkpoint(signed(3))),
    head: signed(3),
    next: undefined,
    ...over,
  });

  it('finds nothing beyond a whole committed log, with or without a head.next.json', () => {
    expect(findTornTail(input())).toEqual({ kind: 'none' });
    expect(findTornTail(input({ next: signed(5) }))).toEqual({ kind: 'none' });
  });

  it('takes a checkpoint line of the committed size written before its head as committed', () => {
    expect(findTornTail(input({ checkpoints: Buffer.from(checkpoint(signed(2)) + checkpoint(signed(3))) }))).toEqual({ kind: 'none' });
  });

  it('a part of the batch head.next.json announces is cut', () => {
    const finding = findTornTail(input({ files: files(0, 1, 2, 3, 4), leaves: Buffer.concat([leaves(4), Buffer.alloc(7)]), next: signed(5) }));
    expect(finding).toMatchObject({
      kind: 'announced',
      tail: { complete: false, committedSize: 3, plan: { tail: { commitPoint: 'head', committedSize: 3, announcedSize: 5, records: 2 } } },
    });
    expect(finding.kind === 'announced' && [...finding.tail.plan.keep]).toEqual([
      ['audit_20260101.jsonl', line(0).length + line(1).length + line(2).length],
      ['leaves.bin', 96],
    ]);
  });

  it('the whole batch is completed: only a partial checkpoint line is dropped', () => {
    const whole = findTornTail(input({ files: files(0, 1, 2, 3, 4), leaves: leaves(5), next: signed(5) }));
    expect(whole).toMatchObject({ kind: 'announced', tail: { complete: true, plan: { tail: { cuts: [] } } } });
    const withLine = findTornTail(
      input({ files: files(0, 1, 2, 3, 4), leaves: leaves(5), checkpoints: Buffer.from(checkpoint(signed(3)) + checkpoint(signed(5))), next: signed(5) }),
    );
    expect(withLine).toMatchObject({ kind: 'announced', tail: { complete: true, plan: { tail: { cuts: [] } } } });
    const partial = checkpoint(signed(5)).slice(0, 20);
    const withPart = findTornTail(
      input({ files: files(0, 1, 2, 3, 4), leaves: leaves(5), checkpoints: Buffer.from(checkpoint(signed(3)) + partial), next: signed(5) }),
    );
    expect(withPart).toMatchObject({
      kind: 'announced',
      tail: { complete: true, plan: { tail: { cuts: [{ file: 'checkpoints.jsonl', bytes: 20, partialLine: true }] } } },
    });
  });

  it("a ledger's first batch is judged from the empty log", () => {
    const finding = findTornTail({ files: files(0, 1), leaves: Buffer.alloc(0), checkpoints: Buffer.alloc(0), head: undefined, next: signed(3) });
    expect(finding).toMatchObject({ kind: 'announced', tail: { complete: false, committedSize: 0, plan: { tail: { records: 2 } } } });
  });

  it.each([
    ['a tail no head.next.json announces', input({ files: files(0, 1, 2, 3), leaves: leaves(4) }), /no head\.next\.json announces/],
    ['a head.next.json of the head’s own size', input({ files: files(0, 1, 2, 3), next: signed(3) }), /more than the 0/],
    [
      'a head.next.json whose stored size is not its note’s',
      input({ files: files(0, 1, 2, 3), next: { ...signed(5), size: 6 } }),
      /no head\.next\.json announces/,
    ],
    ['lines beyond the size announced', input({ files: files(0, 1, 2, 3, 4, 5), next: signed(5) }), /more than the 2/],
    [
      'a partial line beyond the size announced',
      input({ files: [{ name: 'audit_20260101.jsonl', bytes: Buffer.from(files(0, 1, 2, 3, 4)[0]!.bytes.toString() + '{"ind') }], next: signed(5) }),
      /more than the 2/,
    ],
    ['leaf hashes before every line is whole', input({ files: files(0, 1, 2, 3), leaves: leaves(4), next: signed(5) }), /lines are not all there/],
    ['more leaf hashes than the batch', input({ files: files(0, 1, 2, 3, 4), leaves: leaves(6), next: signed(5) }), /more leaf hashes/],
    [
      'a leaf hash that is not its line’s',
      input({ files: files(0, 1, 2, 3, 4), leaves: Buffer.concat([leaves(4), leafOf(9)]), next: signed(5) }),
      /not the hash of its line/,
    ],
    ['a whole batch with another root', input({ files: files(0, 1, 2, 3, 4), leaves: leaves(5), next: signed(5, Buffer.alloc(32)) }), /do not give the root/],
    [
      'a checkpoint before the leaves are all there',
      input({ files: files(0, 1, 2, 3, 4), leaves: leaves(4), checkpoints: Buffer.from(checkpoint(signed(3)) + checkpoint(signed(5))), next: signed(5) }),
      /lines are not all there|leaf hashes are not all there/,
    ],
    [
      'a checkpoint that is not head.next.json’s',
      input({
        files: files(0, 1, 2, 3, 4),
        leaves: leaves(5),
        checkpoints: Buffer.from(checkpoint(signed(3)) + checkpoint({ ...signed(5), note: 'other' })),
        next: signed(5),
      }),
      /not head\.next\.json's note/,
    ],
    [
      'two checkpoints beyond the head',
      input({ files: files(0, 1, 2, 3, 4), leaves: leaves(5), checkpoints: Buffer.from(checkpoint(signed(4)) + checkpoint(signed(5))), next: signed(5) }),
      /more than one/,
    ],
    ['leaves short of the head', input({ leaves: leaves(2), next: signed(5) }), /fewer than the 3/],
    ["a head whose stored size is not its note's", input({ head: { ...signed(3), size: 2 } }), /not the size its note states/],
    ['lines out of order', input({ files: files(0, 1, 2, 4, 3), next: signed(5) }), /in order/],
  ])('leaves %s for verify', (_, given, why) => {
    const finding = findTornTail(given);
    expect(finding.kind).toBe('unrecognized');
    expect(finding.kind === 'unrecognized' && finding.why).toMatch(why);
  });

  it('a tail in a new day file needs the file before to end with a whole committed line', () => {
    const tail = { name: 'audit_20260102.jsonl', bytes: Buffer.from(line(3)) };
    const given = (before: string) => input({ files: [{ name: 'audit_20260101.jsonl', bytes: Buffer.from(before) }, tail], next: signed(5) });
    expect(findTornTail(given(line(0) + line(1) + line(2))).kind).toBe('announced');
    expect(findTornTail(given(line(0) + line(1) + line(2) + '{"in')).kind).toBe('unrecognized');
  });

  it('files written before heads: the commit point is the last whole leaf hash', () => {
    const legacy = {
      files: files(0, 1, 2, 3),
      leaves: Buffer.concat([leaves(3), Buffer.alloc(5)]),
      checkpoints: Buffer.alloc(0),
      head: undefined,
      next: undefined,
    };
    expect(findTornTail(legacy)).toMatchObject({ kind: 'torn', plan: { tail: { commitPoint: 'leaves', committedSize: 3, records: 1 } } });
    expect(findTornTail({ ...legacy, leaves: leaves(4) })).toEqual({ kind: 'none' });
  });
});
