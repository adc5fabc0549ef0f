import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { Envelope } from '../../record/types.js';
import { MemoryStore, type SequencedEntries } from '../memory/memory-store.js';
import { StoreError, type AppendEntry, type Appended, type AppendRequest, type NewEntry, type StoredCheckpoint } from '../store.js';
import type { StoredHead } from '../../log/sequencer.js';
import { leafHash } from '../../log/merkle.js';
import { sha256 } from '../../crypto/sha256.js';
import { LeafBatchBuilder, type LeafBatch } from '../leaf-scan.js';
import { CHECKPOINTS_FILE, findTornTail, LEAVES_FILE, type AnnouncedTail, type StoredNote, type TailPlan } from './jsonl-torn-tail.js';
import type { AnnouncedBatch, RecoveringStore, TornTail } from '../torn-tail.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../private-file.js';

/** Day files sort by name in log order: `audit_YYYYMMDD.jsonl`, then `audit_YYYYMMDD_001.jsonl`, ... */
const RECORD_FILE = /^audit_(\d{8})(?:_(\d{3}))?\.jsonl$/;
/**
 * The signed head, replaced by HEAD_NEXT_FILE after each batch's lines, leaves and checkpoint: the
 * commit point of a batch. Lines beyond it were not acknowledged (a crash's batch, which
 * HEAD_NEXT_FILE announces: completed or cut at the next write) or not sequenced by the writer.
 */
const HEAD_FILE = 'head.json';
/** The signed head of the batch being written, stored before anything else of it: a crash's batch is the one it announces. */
const HEAD_NEXT_FILE = 'head.next.json';
/** Where the bytes of each torn tail go when it is cut, with its report: `torn-tails/<id>/`. */
const TORN_DIR = 'torn-tails';
/** A cut's report, until the ledger has recorded its event; then renamed to REPORT. */
const PENDING_REPORT = 'pending.json';
const REPORT = 'report.json';

interface Line {
  index: number;
  envelope: Envelope;
}

/**
 * Plain files a person can read with any tool: one JSON record per line, one file per UTC day
 * (by commit time), rotated by size. Leaf hashes live in their own binary file so a moved line
 * is caught. Queries run on an in-memory index loaded at open; verification reads the files.
 */
export class JsonlStore extends MemoryStore implements RecoveringStore {
  /** JSON Lines files are append-only text: content, which erasure must delete, needs SQLite or PostgreSQL. */
  override readonly content = undefined;
  /** Day files cannot lose a prefix of their lines in place; retention of envelopes needs SQLite. */
  override readonly pruning = undefined;
  override readonly location: string;
  private current: { name: string; bytes: number } | undefined;
  /**
   * A torn tail found at open and not cut yet: reads stop at `keep` (the committed end of each
   * file) until the first write cuts the files there. A read-only open never writes, so never cuts.
   */
  private torn: (TailPlan & { tail: TornTail; remainder: boolean; recorded: boolean }) | undefined;
  /**
   * A whole batch a crash left uncommitted, found at open: read as committed (its head is the
   * head; reads stop at `keep`, before a partial checkpoint line) until the first write puts its
   * head in place.
   */
  private completing: (TailPlan & { next: StoredNote }) | undefined;
  /** The batch head.next.json announces, found at open, until the ledger has checked the note's signature. */
  private announcement: { tail: AnnouncedTail; head: StoredNote | undefined; settled: boolean } | undefined;
  private pendingReports: TornTail[] = [];
  /** Why appends are refused: an append failed after it began to write, leaving a batch only an open can judge. */
  private failedMidway: string | undefined;

  private constructor(
    private readonly dir: string,
    private readonly maxFileBytes: number,
  ) {
    super();
    this.location = `jsonl:${dir}`;
  }

  static open(dir: string, maxFileBytes: number): JsonlStore {
    const store = new JsonlStore(resolve(dir), maxFileBytes);
    mkdirSync(store.dir, { recursive: true });
    store.load();
    return store;
  }

  /**
   * Writes a batch in five steps, each synced before the next: the new signed head to
   * head.next.json, the record lines, their leaf hashes, the checkpoint line when one is due, and
   * the rename of head.next.json over head.json (the directory synced): the commit point. A crash
   * before the rename leaves a prefix of the batch that head.next.json announces (see
   * jsonl-torn-tail.ts); the next writable open completes it or cuts it.
   */
  override async append(entries: readonly NewEntry[], request: AppendRequest): Promise<Appended> {
    if (entries.some((e) => e.content)) throw new StoreError(`${this.location} cannot keep content (encrypted or plaintext capture); use a SQLite store`);
    if (this.failedMidway) throw new StoreError(`cannot append to ${this.location}: ${this.failedMidway}`);
    if (this.announcement && !this.announcement.settled) {
      throw new StoreError(
        `cannot append to ${this.location}: ${HEAD_NEXT_FILE} announces records beyond the signed head, and no ledger has checked its signature yet (open the store through a ledger)`,
      );
    }
    let begun = false;
    let batch: SequencedEntries;
    try {
      this.completeBatch();
      this.cutTornTail();
      batch = this.sequence(entries, request);
      const { placed, head, appended } = batch;
      writeDurably(join(this.dir, HEAD_NEXT_FILE), Buffer.from(JSON.stringify(head), 'utf8'));
      begun = true;
      if (placed.length > 0) {
        this.appendLines(placed);
        appendDurably(join(this.dir, LEAVES_FILE), Buffer.concat(placed.map((e) => e.leafHash)));
      }
      if (appended.checkpoint) appendDurably(join(this.dir, CHECKPOINTS_FILE), `${JSON.stringify(appended.checkpoint)}\n`);
      renameSync(join(this.dir, HEAD_NEXT_FILE), join(this.dir, HEAD_FILE));
      syncDirectory(this.dir);
    } catch (err) {
      // What this append wrote is a batch in flight: appending after it would bury it under the
      // next. An open judges it as it judges a crash's (completes or cuts it); until then, no append.
      if (begun)
        this.failedMidway = `an earlier append failed after it began to write (${(err as Error).message}); open the ledger again, which completes or cuts the batch it left`;
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot append to ${this.location}: ${(err as Error).message}`, { cause: err });
    }
    this.remember(batch);
    return batch.appended;
  }

  override async leafHashes(from: number, to: number): Promise<Buffer[]> {
    const all = this.readFile(LEAVES_FILE);
    const hashes: Buffer[] = [];
    for (let i = from; i < to && (i + 1) * 32 <= all.length; i++) hashes.push(all.subarray(i * 32, (i + 1) * 32));
    return hashes;
  }

  override async *scanLeaves(batchSize: number): AsyncIterable<LeafBatch> {
    const leaves = this.readFile(LEAVES_FILE);
    const builder = new LeafBatchBuilder(batchSize);
    const committedLeaf = (index: number) => ((index + 1) * 32 <= leaves.length ? leaves.subarray(index * 32, index * 32 + 32) : undefined);
    let position = 0;
    for (const name of this.recordFiles()) {
      for (const [n, text] of lines(this.readFile(name).toString('utf8'))) {
        let row: { index: number; canonical: Buffer };
        try {
          row = parseLine(text, `${name}:${n}`).raw;
        } catch {
          // A line edited into nonsense is still a row that differs from what was committed there.
          row = { index: position, canonical: Buffer.from(text, 'utf8') };
        }
        position++;
        const batch = builder.add(row.index, leafHash(row.canonical), committedLeaf(row.index));
        if (batch) yield batch;
      }
    }
    const rest = builder.take();
    if (rest) yield rest;
  }

  override async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.readCheckpoints();
  }

  private readCheckpoints(): StoredCheckpoint[] {
    return [...lines(this.readFile(CHECKPOINTS_FILE).toString('utf8'))].map(([n, text]) => {
      try {
        const { size, note } = JSON.parse(text) as StoredCheckpoint;
        return { size, note };
      } catch {
        throw new StoreError(`${join(this.dir, CHECKPOINTS_FILE)} line ${n} is not JSON`);
      }
    });
  }

  get recovered(): readonly TornTail[] {
    return [...this.pendingReports];
  }

  async recoveryRecorded(): Promise<void> {
    for (const tail of this.pendingReports.splice(0)) {
      if (this.torn?.tail.id === tail.id) {
        this.torn.recorded = true;
        continue;
      }
      const kept = join(this.dir, TORN_DIR, tail.id);
      if (!existsSync(join(kept, PENDING_REPORT))) continue;
      renameSync(join(kept, PENDING_REPORT), join(kept, REPORT));
      syncDirectory(kept);
    }
  }

  get announced(): AnnouncedBatch | undefined {
    const found = this.announcement;
    if (!found || found.settled) return undefined;
    return { head: { ...found.tail.next }, committedSize: found.tail.committedSize, complete: found.tail.complete };
  }

  /**
   * The ledger has checked the note of the batch head.next.json announces. Until then the store
   * reads the batch as a crash's (committed when whole, absent when not), and refuses to write.
   */
  settleAnnounced(valid: boolean): void {
    const found = this.announcement;
    if (!found || found.settled) return;
    found.settled = true;
    if (valid) return;
    // Not a crash of this ledger's writer: the files as they stand, the rows beyond the head included.
    const torn = this.torn;
    this.torn = undefined;
    this.completing = undefined;
    if (torn && !torn.remainder) this.pendingReports = this.pendingReports.filter((report) => report.id !== torn.tail.id);
    this.sealedHead = found.head;
    const lines = torn?.tail.cuts.find((cut) => RECORD_FILE.test(cut.file));
    if (lines) this.remember({ placed: this.entriesOf(lines.file, lines.offset) });
    this.published.splice(0, this.published.length, ...this.readCheckpoints());
  }

  /** What the first write will do about a crash's batch, for a read-only open's warnings. */
  get pendingRecovery(): string | undefined {
    if (this.announcement && !this.announcement.settled) return undefined;
    if (this.completing) {
      const { next } = this.completing;
      const from = this.announcement?.tail.committedSize ?? 0;
      return `${this.location}: a batch a crash left uncommitted lies beyond the signed head (records ${from} to ${next.size - 1}, whole, under the signed head of size ${next.size} that ${HEAD_NEXT_FILE} announces): the first write of a writable open completes it (a read-only open writes nothing)`;
    }
    if (this.torn) {
      const { committedSize, records, id } = this.torn.tail;
      if (this.torn.remainder)
        return `${this.location}: the cut of a batch a crash left uncommitted beyond index ${committedSize - 1} was interrupted: the first write of a writable open finishes it (${TORN_DIR}/${id}/)`;
      return `${this.location}: a batch a crash left uncommitted lies beyond the signed head (from index ${committedSize}, ${records} whole record line(s), never acknowledged): the first write of a writable open cuts it, keeps its bytes in ${TORN_DIR}/${id}/ and records a torn_tail_recovered event`;
    }
    return undefined;
  }

  /**
   * Finds what lies beyond the last committed batch (see jsonl-torn-tail.ts) and the cuts made
   * before whose events the ledger has not recorded yet. Writes nothing.
   */
  private findTornTail(head: StoredCheckpoint | undefined, next: StoredNote | undefined): void {
    this.pendingReports = this.readPendingReports();
    // A torn batch went to one file: the last that holds anything (a new day file may hold only the tail).
    const files = this.recordFiles()
      .filter((name) => statSync(join(this.dir, name)).size > 0)
      .slice(-2)
      .map((name) => ({ name, bytes: this.readFile(name) }));
    const finding = findTornTail({ files, leaves: this.readFile(LEAVES_FILE), checkpoints: this.readFile(CHECKPOINTS_FILE), head, next });
    if (finding.kind === 'announced') {
      this.announcement = { tail: finding.tail, head, settled: false };
      if (finding.tail.complete) {
        this.completing = { ...finding.tail.plan, next: finding.tail.next };
        return;
      }
    }
    const plan = finding.kind === 'torn' ? finding.plan : finding.kind === 'announced' ? finding.tail.plan : undefined;
    if (!plan) return;
    // What is left of a cut a crash interrupted is that cut's, not a new one.
    const interrupted = this.pendingReports.find((report) => this.isRemainderOf(plan, report));
    const foundAt = new Date().toISOString();
    const tail: TornTail = interrupted ?? { id: `${foundAt.replace(/[-:.]/g, '')}-at-${plan.tail.committedSize}`, foundAt, ...plan.tail };
    this.torn = { ...plan, tail, remainder: interrupted !== undefined, recorded: false };
    if (!interrupted) this.pendingReports.push(tail);
  }

  /**
   * Puts in place the head of the whole batch a crash left uncommitted, before the first write
   * after it: a partial checkpoint line (the head holds its note) is cut first, then
   * head.next.json is renamed over head.json and the directory synced. A crash in between leaves
   * the same batch, found whole again at the next open.
   */
  private completeBatch(): void {
    const completing = this.completing;
    if (!completing) return;
    for (const [file, length] of completing.keep) truncateDurably(join(this.dir, file), length);
    renameSync(join(this.dir, HEAD_NEXT_FILE), join(this.dir, HEAD_FILE));
    syncDirectory(this.dir);
    this.completing = undefined;
  }

  private readPendingReports(): TornTail[] {
    const dir = join(this.dir, TORN_DIR);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .sort()
      .filter((id) => existsSync(join(dir, id, PENDING_REPORT)))
      .map((id) => {
        try {
          return JSON.parse(readFileSync(join(dir, id, PENDING_REPORT), 'utf8')) as TornTail;
        } catch {
          throw new StoreError(`${join(dir, id, PENDING_REPORT)} is not JSON: the report of a torn tail cut from ${this.location} was damaged`);
        }
      });
  }

  /** Whether each file's bytes beyond its committed end are a prefix of what `report` kept of it. */
  private isRemainderOf(plan: TailPlan, report: TornTail): boolean {
    if (report.committedSize !== plan.tail.committedSize) return false;
    return plan.tail.cuts.every((cut) => {
      const earlier = report.cuts.find((c) => c.file === cut.file && c.offset === cut.offset);
      const keptPath = join(this.dir, TORN_DIR, report.id, `${cut.file}.cut`);
      if (!earlier || cut.bytes > earlier.bytes || !existsSync(keptPath)) return false;
      return sha256(readFileSync(keptPath).subarray(0, cut.bytes)).toString('hex') === cut.sha256;
    });
  }

  /**
   * Cuts the torn tail found at open, before the first write after it. The bytes go to
   * `torn-tails/<id>/` with the report first, all synced; then the files are cut back in the
   * reverse order of their writing (checkpoints, leaves, lines), each synced, so a crash at any
   * point leaves a shorter torn tail of the same shape, which the next open finds as this one's.
   */
  private cutTornTail(): void {
    const torn = this.torn;
    if (!torn) return;
    const kept = join(this.dir, TORN_DIR, torn.tail.id);
    if (!torn.remainder) {
      mkdirSync(kept, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
      for (const cut of torn.tail.cuts) {
        const bytes = readFileSync(join(this.dir, cut.file)).subarray(cut.offset);
        if (bytes.length !== cut.bytes || sha256(bytes).toString('hex') !== cut.sha256) {
          throw new StoreError(`${join(this.dir, cut.file)} changed beyond its committed end since ${this.location} was opened; open it again`);
        }
        writeDurably(join(kept, `${cut.file}.cut`), bytes);
      }
      replaceDurably(kept, torn.recorded ? REPORT : PENDING_REPORT, JSON.stringify(torn.tail));
      syncDirectory(join(this.dir, TORN_DIR));
      syncDirectory(this.dir);
    }
    const order = (file: string) => (file === CHECKPOINTS_FILE ? 0 : file === LEAVES_FILE ? 1 : 2);
    for (const [file, length] of [...torn.keep].sort(([a], [b]) => order(a) - order(b))) {
      truncateDurably(join(this.dir, file), length);
      if (length === 0 && RECORD_FILE.test(file)) unlinkSync(join(this.dir, file));
    }
    // The head that announced the batch announces nothing now: a tail found beyond the head later is not this one.
    if (torn.tail.announcedSize !== undefined) rmSync(join(this.dir, HEAD_NEXT_FILE), { force: true });
    syncDirectory(this.dir);
    this.torn = undefined;
    this.current = undefined;
  }

  private load(): void {
    const head = this.readHead();
    this.findTornTail(head, this.readNextHead());
    this.remember({ placed: this.recordFiles().flatMap((name) => this.entriesOf(name)) });
    this.published.push(...this.readCheckpoints());
    this.sealedHead = this.completing ? { ...this.completing.next } : head;
  }

  /** The records of one day file as read (from byte `from`); lines that are not records are left out of queries, and reported by verify. */
  private entriesOf(name: string, from = 0): AppendEntry[] {
    const entries: AppendEntry[] = [];
    const leaves = this.readFile(LEAVES_FILE);
    for (const [n, text] of lines(this.readFile(name).subarray(from).toString('utf8'))) {
      let parsed: ReturnType<typeof parseLine>;
      try {
        parsed = parseLine(text, `${name}:${n}`);
      } catch {
        continue;
      }
      const { line, raw } = parsed;
      const leafHash = leaves.subarray(line.index * 32, line.index * 32 + 32);
      entries.push({ index: line.index, id: line.envelope.id, canonical: Buffer.from(raw.canonical).toString('utf8'), leafHash });
    }
    return entries;
  }

  private readHead(): StoredHead | undefined {
    const text = this.readFile(HEAD_FILE).toString('utf8');
    if (text === '') return undefined;
    try {
      const { size, note, frontier } = JSON.parse(text) as StoredHead;
      return { size, note, ...(typeof frontier === 'string' ? { frontier } : {}) };
    } catch {
      throw new StoreError(`${join(this.dir, HEAD_FILE)} is not JSON: the log's signed head was damaged; run 'llm-ledger verify'`);
    }
  }

  /** head.next.json when it is whole: a torn one (a crash while it was written, and nothing of the batch after it) counts as absent. */
  private readNextHead(): StoredNote | undefined {
    const text = this.readFile(HEAD_NEXT_FILE).toString('utf8');
    try {
      const { size, note } = JSON.parse(text) as Partial<StoredNote>;
      return Number.isSafeInteger(size) && typeof note === 'string' ? { size: size!, note } : undefined;
    } catch {
      return undefined;
    }
  }

  private appendLines(entries: readonly AppendEntry[]): void {
    const text = entries.map((e) => `{"index":${e.index},"envelope":${e.canonical}}\n`).join('');
    const name = this.fileFor();
    appendDurably(join(this.dir, name), text);
    this.current = { name, bytes: (this.current?.name === name ? this.current.bytes : 0) + Buffer.byteLength(text) };
  }

  /** Today's file, or its next rotation when the current one is full. */
  private fileFor(): string {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const existing = this.recordFiles().filter((name) => name.startsWith(`audit_${day}`));
    const last = existing.at(-1);
    if (!last) return `audit_${day}.jsonl`;
    const bytes = this.current?.name === last ? this.current.bytes : this.readFile(last).length;
    if (bytes < this.maxFileBytes) {
      this.current = { name: last, bytes };
      return last;
    }
    const seq = Number(RECORD_FILE.exec(last)?.[2] ?? '0') + 1;
    return `audit_${day}_${String(seq).padStart(3, '0')}.jsonl`;
  }

  private recordFiles(): string[] {
    return readdirSync(this.dir)
      .filter((name) => RECORD_FILE.test(name))
      .sort();
  }

  /** A file's committed bytes: all of it, except while a crash's batch waits to be cut (or its partial checkpoint line to be dropped). */
  private readFile(name: string): Buffer {
    const path = join(this.dir, name);
    const bytes = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
    const keep = (this.torn ?? this.completing)?.keep.get(name);
    return keep === undefined ? bytes : bytes.subarray(0, keep);
  }
}

function* lines(text: string): Iterable<[number, string]> {
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (line.trim() !== '') yield [n, line];
  }
}

/** A line's own bytes are what verification hashes, so a hand edit anywhere in it is caught. */
function parseLine(text: string, where: string): { line: Line; raw: { index: number; canonical: Buffer } } {
  let line: Line;
  try {
    line = JSON.parse(text) as Line;
  } catch {
    throw new StoreError(`${where} is not a JSON record line`);
  }
  if (!Number.isSafeInteger(line.index) || typeof line.envelope !== 'object' || line.envelope === null) {
    throw new StoreError(`${where} lacks an integer "index" and an "envelope" object`);
  }
  const start = text.indexOf('"envelope":') + '"envelope":'.length;
  const canonical = Buffer.from(text.slice(start, text.lastIndexOf('}')), 'utf8');
  return { line, raw: { index: line.index, canonical } };
}

/** Written beside, synced, then renamed over the old one (and the directory synced): a crash leaves the old file or the new, whole. */
function replaceDurably(dir: string, name: string, text: string): void {
  const partial = join(dir, `.${name}.partial`);
  writeDurably(partial, Buffer.from(text, 'utf8'));
  renameSync(partial, join(dir, name));
  syncDirectory(dir);
}

function writeDurably(path: string, data: Buffer): void {
  const fd = openSync(path, 'w', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function truncateDurably(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function appendDurably(path: string, data: string | Buffer): void {
  const fd = openSync(path, 'a', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
