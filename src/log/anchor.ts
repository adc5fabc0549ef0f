import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { appendFile, link, open, readFile, unlink } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { StoredCheckpoint } from './checkpoint.js';

/**
 * A place outside the database that keeps every published checkpoint. Without one, a writer who
 * can rewrite the database can also cut off its newest records unnoticed.
 */
export interface Anchor {
  readonly location: string;
  /** Asynchronous, so the file system's latency (an fsync) never stalls the thread that records. */
  publish(checkpoint: StoredCheckpoint): Promise<void>;
  read(): StoredCheckpoint[];
}

export class AnchorError extends Error {
  override readonly name = 'AnchorError';
}

/**
 * A directory gets one file per checkpoint, created exclusively so an existing one is never
 * rewritten; any other path is an append-only JSON Lines file. A path that does not exist yet
 * is a file when it has an extension, else a directory. What the anchor creates is its owner's
 * only: directories 0700, the append file 0600, checkpoint files 0400 (read-only); an existing
 * file or directory keeps its mode.
 */
export function openFileAnchor(path: string): Anchor {
  const isDirectory = existsSync(path) ? statSync(path).isDirectory() : extname(path) === '';
  return isDirectory ? new DirectoryAnchor(path) : new AppendFileAnchor(path);
}

const CHECKPOINT_FILE = /^checkpoint-(\d{15})\.txt$/;

class DirectoryAnchor implements Anchor {
  readonly location: string;
  constructor(private readonly dir: string) {
    this.location = `dir:${dir}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async publish(checkpoint: StoredCheckpoint): Promise<void> {
    const file = join(this.dir, `checkpoint-${String(checkpoint.size).padStart(15, '0')}.txt`);
    // Written whole under a name `read` ignores, then linked into place: a verify running at the
    // same time sees either no file or the complete note, never half of one. link(2), unlike
    // rename, fails on an existing name, so a checkpoint already anchored is never replaced.
    const partial = join(this.dir, `.partial-${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(partial, 'wx', 0o400);
      try {
        await handle.writeFile(checkpoint.note);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await link(partial, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AnchorError(`cannot write anchor ${file}: ${(err as Error).message}`);
      // The same size anchored twice: harmless if identical, evidence of a rewritten log if not.
      if ((await readFile(file, 'utf8')) === checkpoint.note) return;
      throw new AnchorError(`anchor ${file} already holds a different checkpoint of size ${checkpoint.size}: the log was rewritten`);
    } finally {
      await unlink(partial).catch(() => undefined);
    }
  }

  read(): StoredCheckpoint[] {
    return readdirSync(this.dir)
      .filter((name) => CHECKPOINT_FILE.test(name))
      .sort()
      .map((name) => ({ size: Number(CHECKPOINT_FILE.exec(name)?.[1]), note: readFileSync(join(this.dir, name), 'utf8') }));
  }
}

class AppendFileAnchor implements Anchor {
  readonly location: string;
  constructor(private readonly file: string) {
    this.location = `file:${file}`;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  }

  async publish(checkpoint: StoredCheckpoint): Promise<void> {
    try {
      await appendFile(this.file, `${JSON.stringify({ size: checkpoint.size, note: checkpoint.note })}\n`, { mode: 0o600 });
    } catch (err) {
      throw new AnchorError(`cannot append to anchor ${this.file}: ${(err as Error).message}`);
    }
  }

  read(): StoredCheckpoint[] {
    if (!existsSync(this.file)) return [];
    const lines = readFileSync(this.file, 'utf8').split('\n');
    // Whatever follows the last newline is an append still in progress (or cut off by a crash
    // before it completed): that checkpoint was not published yet.
    lines.pop();
    return lines
      .filter((line) => line.trim() !== '')
      .map((line, i) => {
        try {
          const { size, note } = JSON.parse(line) as StoredCheckpoint;
          if (!Number.isSafeInteger(size) || typeof note !== 'string') throw new Error('missing size or note');
          return { size, note };
        } catch (err) {
          throw new AnchorError(`anchor ${this.file} line ${i + 1} is not a checkpoint: ${(err as Error).message}`);
        }
      });
  }
}
