import { open, type FileHandle } from 'node:fs/promises';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ContentItem } from '../store/content.js';

/** A sealed record waiting for the store: exactly what the writer would have appended, minus its index. */
export interface SpooledEntry {
  id: string;
  /** The canonical envelope bytes, which become the leaf when the record is appended. */
  canonical: string;
  /** Content sealed beside it (ciphertext, or text in plaintext mode), as the store would keep it. */
  content?: { ts: string; items: ContentItem[] };
}

/** A batch read back from the spool and where the next one starts. */
export interface SpoolRead {
  entries: SpooledEntry[];
  /** Byte offset just past the last entry returned. */
  next: number;
}

export class SpoolError extends Error {
  override readonly name = 'SpoolError';
}

/** Bytes read at a time when replaying; an entry larger than this is read in several pieces. */
const READ_CHUNK = 256 * 1024;

/**
 * An append-only file of sealed records, one JSON line each, written while the store is failing
 * and replayed, in order, once it returns. Each `append` resolves only after its bytes are on
 * disk (fsync), so a spooled record is as durable as a committed one; concurrent appends share
 * one write and one fsync. Operations run one after another in call order, so a `clear` is never
 * overtaken by a later `append`.
 *
 * The file holds what the store would hold: envelopes (never prompt text) and content exactly as
 * the capture policy sealed it. It is created with mode 0600. One process per spool file.
 */
interface WriteGroup {
  parts: { lines: string; count: number; resolve: () => void; reject: (err: Error) => void }[];
}

export class Spool {
  private chain: Promise<void> = Promise.resolve();
  /** A write scheduled but not yet started, which later appends join: one write and one fsync for all. */
  private openGroup: WriteGroup | undefined;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    /** Bytes of whole entries in the file. */
    private bytes: number,
    /** Entries in the file. */
    private count: number,
  ) {}

  /**
   * Opens (or creates) the spool at `path`. A last line without its newline is the trace of a
   * write cut off by a crash: its append never resolved, so nobody was told it was kept, and it
   * is cut away.
   */
  static async open(path: string): Promise<Spool> {
    const file = await open(path, 'a+', 0o600);
    try {
      const { bytes, count, torn } = await scan(file);
      if (torn) await file.truncate(bytes);
      if (bytes === 0) syncDirectory(path);
      return new Spool(path, file, bytes, count);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** Entries in the file (replayed or not: the writer tracks its own position). */
  get entries(): number {
    return this.count;
  }

  /** Byte size of the file's whole entries: replay is done when it has read this far. */
  get size(): number {
    return this.bytes;
  }

  /** Appends entries in order; resolves once they are on disk. */
  append(entries: readonly SpooledEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const lines = entries.map(serialize).join('');
    return new Promise<void>((resolve, reject) => {
      if (!this.openGroup) {
        const group: WriteGroup = { parts: [] };
        void this.run(() => {
          if (this.openGroup === group) this.openGroup = undefined;
          return this.write(group);
        });
        this.openGroup = group;
      }
      this.openGroup.parts.push({ lines, count: entries.length, resolve, reject });
    });
  }

  /** Reads whole entries from byte offset `from`, at most `limit` of them. */
  read(from: number, limit: number): Promise<SpoolRead> {
    return this.run(() => this.readAt(from, limit));
  }

  /** Empties the file of everything appended before this call, once all of it is in the store. */
  clear(): Promise<void> {
    return this.run(async () => {
      await this.file.truncate(0);
      await this.file.datasync();
      this.bytes = 0;
      this.count = 0;
    });
  }

  /** Resolves when every operation asked for so far has finished. */
  async idle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.chain;
      await current;
    } while (current !== this.chain);
  }

  async close(): Promise<void> {
    await this.idle();
    await this.file.close();
  }

  /** Operations run one after another in call order; appends after it never join an earlier write. */
  private run<T>(operation: () => Promise<T>): Promise<T> {
    this.openGroup = undefined;
    const result = this.chain.then(operation);
    this.chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async write(group: WriteGroup): Promise<void> {
    try {
      const data = Buffer.from(group.parts.map((g) => g.lines).join(''), 'utf8');
      await this.file.write(data, 0, data.length, null);
      await this.file.datasync();
      this.bytes += data.length;
      this.count += group.parts.reduce((sum, g) => sum + g.count, 0);
      for (const g of group.parts) g.resolve();
    } catch (err) {
      // A partial write leaves a torn line; cut it so the next append starts on a line of its own.
      await this.file.truncate(this.bytes).catch(() => undefined);
      const failure = new SpoolError(`cannot write the spool ${this.path}: ${(err as Error).message}`, { cause: err });
      for (const g of group.parts) g.reject(failure);
    }
  }

  private async readAt(from: number, limit: number): Promise<SpoolRead> {
    const entries: SpooledEntry[] = [];
    let next = from;
    let pending = Buffer.alloc(0);
    let position = from;
    while (entries.length < limit && position < this.bytes) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK, this.bytes - position));
      const { bytesRead } = await this.file.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      pending = pending.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      let start = 0;
      for (let newline = pending.indexOf(10); newline !== -1 && entries.length < limit; newline = pending.indexOf(10, start)) {
        entries.push(parse(pending.subarray(start, newline), this.path, next));
        next += newline + 1 - start;
        start = newline + 1;
      }
      pending = pending.subarray(start);
    }
    return { entries, next };
  }
}

function serialize(entry: SpooledEntry): string {
  const content = entry.content && {
    ts: entry.content.ts,
    items: entry.content.items.map((i) => ({ mode: i.mode, subject: i.subject, data: Buffer.from(i.data).toString('base64') })),
  };
  // JSON escapes every newline inside the strings, so one entry is exactly one line.
  return `${JSON.stringify(content ? { id: entry.id, canonical: entry.canonical, content } : { id: entry.id, canonical: entry.canonical })}\n`;
}

function parse(line: Buffer, path: string, offset: number): SpooledEntry {
  try {
    const raw = JSON.parse(line.toString('utf8')) as {
      id: unknown;
      canonical: unknown;
      content?: { ts: string; items: { mode: ContentItem['mode']; subject: string; data: string }[] };
    };
    if (typeof raw.id !== 'string' || typeof raw.canonical !== 'string') throw new Error('an entry needs a string id and canonical envelope');
    const entry: SpooledEntry = { id: raw.id, canonical: raw.canonical };
    if (raw.content)
      entry.content = { ts: raw.content.ts, items: raw.content.items.map((i) => ({ mode: i.mode, subject: i.subject, data: Buffer.from(i.data, 'base64') })) };
    return entry;
  } catch (err) {
    throw new SpoolError(
      `the spool ${path} has an unreadable entry at byte ${offset} (${(err as Error).message}); it is kept as is: move the file aside to start without it, and keep it for investigation`,
    );
  }
}

/** Whole lines in the file, and whether a torn last line follows them. */
async function scan(file: FileHandle): Promise<{ bytes: number; count: number; torn: boolean }> {
  const { size } = await file.stat();
  const chunk = Buffer.alloc(READ_CHUNK);
  let count = 0;
  let lastNewline = -1;
  for (let position = 0; position < size;) {
    const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, size - position), position);
    if (bytesRead === 0) break;
    for (let at = chunk.indexOf(10); at !== -1 && at < bytesRead; at = chunk.indexOf(10, at + 1)) {
      count++;
      lastNewline = position + at;
    }
    position += bytesRead;
  }
  return { bytes: lastNewline + 1, count, torn: lastNewline + 1 < size };
}

/** A new file's directory entry must reach the disk too, or a crash could lose the whole file. */
function syncDirectory(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsync is then all there is.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
