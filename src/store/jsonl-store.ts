import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Envelope } from '../record/types.js';
import { MemoryStore } from './memory-store.js';
import { StoreError, type AppendEntry, type StoredCheckpoint } from './store.js';
import { leafHash } from '../log/merkle.js';
import { LeafBatchBuilder, type LeafBatch } from './leaf-scan.js';

/** Day files sort by name in log order: `audit_YYYYMMDD.jsonl`, then `audit_YYYYMMDD_001.jsonl`, ... */
const RECORD_FILE = /^audit_(\d{8})(?:_(\d{3}))?\.jsonl$/;
const LEAVES_FILE = 'leaves.bin';
const CHECKPOINTS_FILE = 'checkpoints.jsonl';
/** The signed head, replaced whole after each batch's lines: lines beyond it were not sequenced by the writer. */
const HEAD_FILE = 'head.json';

interface Line {
  index: number;
  envelope: Envelope;
}

/**
 * Plain files a person can read with any tool: one JSON record per line, one file per UTC day
 * (by commit time), rotated by size. Leaf hashes live in their own binary file so a moved line
 * is caught. Queries run on an in-memory index loaded at open; verification reads the files.
 */
export class JsonlStore extends MemoryStore {
  /** JSON Lines files are append-only text: content, which erasure must delete, needs SQLite or PostgreSQL. */
  override readonly content = undefined;
  /** Day files cannot lose a prefix of their lines in place; retention of envelopes needs SQLite. */
  override readonly pruning = undefined;
  override readonly location: string;
  private current: { name: string; bytes: number } | undefined;

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

  override async append(entries: readonly AppendEntry[], checkpoint?: StoredCheckpoint, head?: StoredCheckpoint): Promise<void> {
    this.assertInSequence(entries);
    if (entries.some((e) => e.content)) throw new StoreError(`${this.location} cannot keep content (encrypted or plaintext capture); use a SQLite store`);
    try {
      if (entries.length > 0) {
        this.appendLines(entries);
        appendDurably(join(this.dir, LEAVES_FILE), Buffer.concat(entries.map((e) => e.leafHash)));
      }
      if (checkpoint) appendDurably(join(this.dir, CHECKPOINTS_FILE), `${JSON.stringify({ size: checkpoint.size, note: checkpoint.note })}\n`);
      const newHead = head ?? checkpoint;
      if (newHead) replaceDurably(this.dir, HEAD_FILE, JSON.stringify({ size: newHead.size, note: newHead.note }));
    } catch (err) {
      throw new StoreError(`cannot append to ${this.location}: ${(err as Error).message}`, { cause: err });
    }
    this.remember(entries, checkpoint, head);
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

  private load(): void {
    const entries: AppendEntry[] = [];
    const leaves = this.readFile(LEAVES_FILE);
    for (const name of this.recordFiles()) {
      for (const [n, text] of lines(this.readFile(name).toString('utf8'))) {
        let parsed: ReturnType<typeof parseLine>;
        try {
          parsed = parseLine(text, `${name}:${n}`);
        } catch {
          continue; // Not a record any more: left out of queries, and reported by verify.
        }
        const { line, raw } = parsed;
        const leafHash = leaves.subarray(line.index * 32, line.index * 32 + 32);
        entries.push({ index: line.index, id: line.envelope.id, canonical: Buffer.from(raw.canonical).toString('utf8'), leafHash });
      }
    }
    this.remember(entries);
    this.published.push(...this.readCheckpoints());
    this.sealedHead = this.readHead();
  }

  private readHead(): StoredCheckpoint | undefined {
    const text = this.readFile(HEAD_FILE).toString('utf8');
    if (text === '') return undefined;
    try {
      const { size, note } = JSON.parse(text) as StoredCheckpoint;
      return { size, note };
    } catch {
      throw new StoreError(`${join(this.dir, HEAD_FILE)} is not JSON: the log's signed head was damaged; run 'llm-ledger verify'`);
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

  private readFile(name: string): Buffer {
    const path = join(this.dir, name);
    return existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
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

/** Written beside, synced, then renamed over the old one (and the directory synced): a crash leaves the old head or the new, whole. */
function replaceDurably(dir: string, name: string, text: string): void {
  const partial = join(dir, `.${name}.partial`);
  const fd = openSync(partial, 'w', 0o600);
  try {
    writeSync(fd, Buffer.from(text, 'utf8'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, join(dir, name));
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function appendDurably(path: string, data: string | Buffer): void {
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
