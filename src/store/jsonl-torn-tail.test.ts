import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerConfig } from '../config/schema.js';
import { openLedger } from '../ledger/open-ledger.js';
import type { Ledger } from '../ledger/ledger.js';
import { recordSequentially, sampleCall, tempDir, testConfig } from '../ledger/test-support/fixtures.js';
import { sha256 } from '../crypto/sha256.js';
import { findTornTail } from './jsonl-torn-tail.js';
import { JsonlStore } from './jsonl-store.js';
import { TORN_TAIL_EVENT, type TornTail } from './torn-tail.js';

const quiet = { onWarning: () => undefined };
const today = () => `audit_${new Date().toISOString().slice(0, 10).replaceAll('-', '')}.jsonl`;

/** What one batch appended to each file of a JSONL store, and the whole ledger directory as it was before it. */
interface TornBatch {
  /** The ledger directory (keys, anchor, jsonl/) as it was before the batch. */
  before: string;
  config: (dir: string) => LedgerConfig;
  /** The bytes the batch appended to each file of jsonl/ (a file it created: all of it). */
  appended: Map<string, Buffer>;
  /** Records the log held before the batch, and in the batch. */
  size: number;
  batch: number;
}

/**
 * A ledger of `size` records, then one batch of `batch` records (one checkpoint each), the way the
 * writer appends it: what a crash can leave half written is a prefix of each file's part of it.
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
    if (name === 'head.json' || statSync(join(dir, 'jsonl', name)).isDirectory()) continue;
    const was = existsSync(join(before, 'jsonl', name)) ? readFileSync(join(before, 'jsonl', name)).length : 0;
    const now = readFileSync(join(dir, 'jsonl', name));
    if (now.length > was) appended.set(name, now.subarray(was));
  }
  return { before, config, appended, size, batch };
}

/** A copy of the ledger before the batch, with the first `take[file]` bytes of what the batch appended to each file (all of it: Infinity). */
function crashed(torn: TornBatch, take: Record<string, number>): string {
  const dir = tempDir();
  cpSync(torn.before, dir, { recursive: true });
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
const snapshot = (dir: string) => Object.fromEntries(readdirSync(join(dir, 'jsonl')).map((n) => [n, statSync(join(dir, 'jsonl', n)).isFile() ? sha256(readFileSync(join(dir, 'jsonl', n))).toString('hex') : 'dir']));
const events = async (ledger: Ledger) => (await ledger.search({ kind: 'event', eventType: TORN_TAIL_EVENT })).records;

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

describe('a JSONL store cut back to its last committed batch after a crash', () => {
  const shapes: [string, (t: TornBatch) => Record<string, number>, { records: number; files: string[] }][] = [
    ['a partial first line', (_t) => ({ lines: 40 }), { records: 0, files: ['lines'] }],
    ['two whole lines and a partial one', (t) => ({ lines: lineBytes(t, 2) + 17 }), { records: 2, files: ['lines'] }],
    ['every line, no leaf', (_t) => ({ lines: Infinity }), { records: 4, files: ['lines'] }],
    ['every line and two and a half leaves', (_t) => ({ lines: Infinity, 'leaves.bin': 80 }), { records: 4, files: ['lines', 'leaves.bin'] }],
    ['every line and leaf, a partial checkpoint line', (_t) => ({ lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': 30 }), { records: 4, files: ['lines', 'leaves.bin', 'checkpoints.jsonl'] }],
    ['everything but the head', (_t) => ({ lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity }), { records: 4, files: ['lines', 'leaves.bin', 'checkpoints.jsonl'] }],
  ];
  it.each(shapes)('%s: read-only it reads as the committed log and verifies; a writable open cuts it, states it in an event, and appends', async (_, take, expected) => {
    const torn = await tornBatch();
    const dir = crashed(torn, take(torn));
    const files = snapshot(dir);

    const read = await readOnlyVerify(torn, dir);
    expect(read.size).toBe(torn.size);
    expect(read.report).toMatchObject({ ok: true, size: torn.size, problems: [] });
    // A read-only open writes nothing, so cuts nothing.
    expect(snapshot(dir)).toEqual(files);

    const { stated, receipt, report, size } = await recoverAndAppend(torn, dir);
    expect(stated).toHaveLength(1);
    const metadata = stated[0]!.envelope.metadata as unknown as TornTail;
    expect(stated[0]!.index).toBe(torn.size);
    expect(metadata).toMatchObject({ commitPoint: 'head', committedSize: torn.size, records: expected.records });
    expect(metadata.cuts.map((c) => (c.file.startsWith('audit_') ? 'lines' : c.file)).sort()).toEqual([...expected.files].sort());
    expect(receipt.index).toBe(torn.size + 1);
    expect(report).toMatchObject({ ok: true, size: torn.size + 2 });
    expect(size).toBe(torn.size + 2);
    // The bytes cut are kept aside, and match the digests the event states; the report is marked recorded.
    const kept = join(dir, 'jsonl', 'torn-tails', metadata.id);
    for (const cut of metadata.cuts) expect(sha256(readFileSync(join(kept, `${cut.file}.cut`))).toString('hex')).toBe(cut.sha256);
    expect(readdirSync(kept).filter((n) => n.endsWith('.json'))).toEqual(['report.json']);

    // Stated once: the next open reports nothing more.
    const reopened = await openLedger(torn.config(dir), quiet);
    expect(await events(reopened)).toHaveLength(1);
    expect((await reopened.verify()).ok).toBe(true);
    await reopened.close();
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
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity });
    expect(existsSync(join(dir, 'anchor'))).toBe(true);
    const { report } = await recoverAndAppend(torn, dir);
    expect(report).toMatchObject({ ok: true, anchor: expect.any(String) });
    expect(report.coveredByAnchor).toBeGreaterThan(0);
  });

  it('a crash during the cut leaves a shorter tail of the same shape, stated once as the first cut', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': Infinity, 'checkpoints.jsonl': Infinity });
    // The cut as far as its first file: the report and the bytes kept, the checkpoint line gone, lines and leaves not cut yet.
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    const [found] = store.recovered;
    await store.close();
    const kept = join(dir, 'jsonl', 'torn-tails', found!.id);
    cpSync(dir, `${dir}.whole`, { recursive: true });
    const whole = `${dir}.whole/jsonl`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(kept, { recursive: true });
    for (const cut of found!.cuts) writeFileSync(join(kept, `${cut.file}.cut`), readFileSync(join(whole, cut.file)).subarray(cut.offset));
    writeFileSync(join(kept, 'pending.json'), JSON.stringify(found));
    const checkpoints = found!.cuts.find((c) => c.file === 'checkpoints.jsonl')!;
    writeFileSync(join(dir, 'jsonl', 'checkpoints.jsonl'), readFileSync(join(whole, 'checkpoints.jsonl')).subarray(0, checkpoints.offset));

    const again = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    expect(again.recovered).toEqual([found]);
    await again.close();
    const { stated, report } = await recoverAndAppend(torn, dir);
    expect(stated.map((r) => (r.envelope.metadata as unknown as TornTail).id)).toEqual([found!.id]);
    expect(report.ok).toBe(true);
  });

  it('a cut whose event was never recorded is reported again at the next open, and then recorded', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: lineBytes(torn, 3) });
    // A writer that is not a ledger (or a ledger that died before its event): the first append cuts.
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
    expect(store.recovered).toHaveLength(1);
    await store.append([], { size: torn.size, note: (await store.head())!.note });
    await store.close();
    expect(readdirSync(join(dir, 'jsonl', 'torn-tails', store.recovered[0]!.id))).toContain('pending.json');
    const { stated, report } = await recoverAndAppend(torn, dir);
    expect(stated).toHaveLength(1);
    expect(stated[0]!.envelope.metadata).toMatchObject({ id: store.recovered[0]!.id, records: 3 });
    expect(report.ok).toBe(true);
  });

  it('a file written before signed heads: lines without their leaf hash are the torn tail; lines with one stay, unsealed as before', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, { lines: Infinity, 'leaves.bin': 64 });
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

describe('what is not the shape of a crash stays as it is, for verify to report', () => {
  it('a line beyond the head that skips an index', async () => {
    const torn = await tornBatch();
    const dir = crashed(torn, {});
    const line = torn.appended.get(linesFile(torn))!.subarray(0, lineBytes(torn, 1)).toString().replace(`"index":${torn.size}`, `"index":${torn.size + 1}`);
    appendFileSync(join(dir, 'jsonl', linesFile(torn)), line);
    const store = JsonlStore.open(join(dir, 'jsonl'), 1 << 20);
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
    expect(new Set(report.problems.map((p) => `${p.kind}@${p.index}`))).toEqual(new Set(['changed@2', 'fork@2']));
    // The writer holds leaf hashes against the head, and they are intact: it opens, and its first write cuts the tail.
    const { stated, report: after } = await recoverAndAppend(torn, dir);
    expect(stated).toHaveLength(1);
    expect(new Set(after.problems.map((p) => `${p.kind}@${p.index}`))).toEqual(new Set(['changed@2', 'fork@2']));
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
  const note = (size: number) => `{"size":${size},"note":"n"}\n`;
  const head = (size: number) => ({ size, note: `example.com/log\n${size}\nroot=\n\n— sig` });

  it('finds nothing beyond a whole committed log', () => {
    expect(findTornTail({ files: files(0, 1, 2), leaves: Buffer.alloc(96), checkpoints: Buffer.from(note(3)), head: head(3) })).toEqual({ kind: 'none' });
  });

  it('takes a checkpoint line of the committed size written before its head as committed', () => {
    expect(findTornTail({ files: files(0, 1, 2), leaves: Buffer.alloc(96), checkpoints: Buffer.from(note(2) + note(3)), head: head(3) })).toEqual({ kind: 'none' });
  });

  it.each([
    ['leaves short of the head', { files: files(0, 1, 2), leaves: Buffer.alloc(64), checkpoints: Buffer.alloc(0), head: head(3) }, /fewer than the 3/],
    ['more leaves beyond than lines', { files: files(0, 1, 2, 3), leaves: Buffer.alloc(32 * 5), checkpoints: Buffer.alloc(0), head: head(3) }, /more than the 1 whole record line/],
    ['a leaf beyond a partial line', { files: [{ name: 'audit_20260101.jsonl', bytes: Buffer.from(line(0) + '{"ind') }], leaves: Buffer.alloc(33), checkpoints: Buffer.alloc(0), head: head(1) }, /more than the 0 whole/],
    ['a checkpoint before the leaves are all there', { files: files(0, 1), leaves: Buffer.alloc(40), checkpoints: Buffer.from(note(2)), head: head(1) }, /leaf hashes are not all there/],
    ['a checkpoint of another size', { files: files(0, 1), leaves: Buffer.alloc(64), checkpoints: Buffer.from(note(5)), head: head(1) }, /checkpoint of size 5/],
    ['two checkpoints beyond the head', { files: files(0, 1, 2), leaves: Buffer.alloc(96), checkpoints: Buffer.from(note(2) + note(3)), head: head(1) }, /not the size|more than one/],
    ['a head whose stored size is not its note\'s', { files: files(0, 1, 2), leaves: Buffer.alloc(96), checkpoints: Buffer.alloc(0), head: { ...head(3), size: 2 } }, /not the size its note states/],
    ['lines out of order', { files: files(0, 2, 1), leaves: Buffer.alloc(32), checkpoints: Buffer.alloc(0), head: head(1) }, /in order/],
  ])('refuses %s', (_, input, why) => {
    const finding = findTornTail(input);
    expect(finding.kind).toBe('unrecognized');
    expect(finding.kind === 'unrecognized' && finding.why).toMatch(why);
  });

  it('a tail in a new day file needs the file before to end with a whole committed line', () => {
    const tail = { name: 'audit_20260102.jsonl', bytes: Buffer.from(line(2)) };
    const input = (before: string) => ({ files: [{ name: 'audit_20260101.jsonl', bytes: Buffer.from(before) }, tail], leaves: Buffer.alloc(64), checkpoints: Buffer.alloc(0), head: head(2) });
    expect(findTornTail(input(line(0) + line(1))).kind).toBe('torn');
    expect(findTornTail(input(line(0) + line(1) + '{"in')).kind).toBe('unrecognized');
  });
});
