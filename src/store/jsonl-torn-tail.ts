import { sha256 } from '../crypto/sha256.js';
import type { TornTail, TornTailCut } from './torn-tail.js';

/**
 * Finding the torn tail of a JSONL store: what a crash left beyond the last committed batch.
 *
 * A batch is written in four steps, each synced before the next: its record lines (one write, to
 * one day file), its leaf hashes (leaves.bin), a checkpoint line when one is due
 * (checkpoints.jsonl), and the signed head (head.json, replaced whole by a rename). The head is the
 * commit point: `append` resolves, and a record is acknowledged, only once it is in place. A crash
 * (a kill -9, a power cut) before that leaves some prefix of the first three steps beyond the head,
 * and only that:
 *
 * - the batch's lines at the end of the last day file (indexes head.size on, in order), the last one
 *   possibly partial (no newline); the whole file if the batch was the first of a new day file;
 * - leaf hashes beyond head.size × 32 bytes, only once every line is whole, at most one per line;
 * - a checkpoint line (of size head.size + the batch's records, or partial), only once every leaf
 *   is there.
 *
 * Anything else beyond or inside the committed log is not the shape a crash leaves, and is left as
 * it is for `verify` to report. Files written before heads have no head: there the leaf hashes
 * were the last thing a batch wrote before it was acknowledged, so the commit point is the last
 * whole leaf hash, and only lines without their leaf (and partial lines, leaves and checkpoint
 * lines) are a torn tail.
 */

export interface TailInput {
  /** The day files in log order, with their bytes. */
  files: { name: string; bytes: Buffer }[];
  leaves: Buffer;
  checkpoints: Buffer;
  /** The signed head (its signature is the ledger's to check); undefined in files written before heads. */
  head: { size: number; note: string } | undefined;
}

/** A torn tail to cut: the report (without the id and time it gets when found) and the length each file keeps. */
export interface TailPlan {
  tail: Omit<TornTail, 'id' | 'foundAt'>;
  /** File name -> the byte length it keeps (the offset of its cut). */
  keep: Map<string, number>;
}

export type TailFinding = { kind: 'none' } | { kind: 'unrecognized'; why: string } | { kind: 'torn'; plan: TailPlan };

export const LEAVES_FILE = 'leaves.bin';
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
const LEAF_BYTES = 32;
const NEWLINE = 0x0a;

export function findTornTail(input: TailInput): TailFinding {
  const { leaves, head } = input;
  const committed = head?.size ?? Math.floor(leaves.length / LEAF_BYTES);
  const commitPoint = head === undefined ? 'leaves' : 'head';
  const unrecognized = (why: string): TailFinding => ({ kind: 'unrecognized', why });
  // The size beside the note is not signed: only the one the note states may decide what is cut.
  if (head && head.note.split('\n')[1] !== String(head.size)) return unrecognized(`head.json stores size ${head.size}, which is not the size its note states`);
  if (leaves.length < committed * LEAF_BYTES) return unrecognized(`${LEAVES_FILE} holds ${Math.floor(leaves.length / LEAF_BYTES)} leaf hashes, fewer than the ${committed} the signed head covers`);
  const cuts: TornTailCut[] = [];
  const keep = new Map<string, number>();
  const cut = (file: string, bytes: Buffer, offset: number, counts: Partial<TornTailCut>) => {
    cuts.push({ file, offset, bytes: bytes.length - offset, sha256: sha256(bytes.subarray(offset)).toString('hex'), ...counts });
    keep.set(file, offset);
  };

  // The record lines: the end of the last day file that holds anything.
  const nonEmpty = input.files.filter((f) => f.bytes.length > 0);
  const last = nonEmpty.at(-1);
  let records = 0;
  let partialLine = false;
  if (last) {
    const { lines, fragment } = splitLines(last.bytes);
    let first = lines.length;
    while (first > 0 && (indexOf(last.bytes, lines[first - 1]!) ?? -1) >= committed) first--;
    const tail = lines.slice(first);
    for (let i = 0; i < tail.length; i++) {
      if (indexOf(last.bytes, tail[i]!) !== committed + i) return unrecognized(`the record lines beyond index ${committed - 1} in ${last.name} do not continue the log's indexes in order`);
    }
    records = tail.length;
    partialLine = fragment < last.bytes.length;
    const offset = first > 0 ? lines[first - 1]!.end + 1 : 0;
    if (offset === 0 && (records > 0 || partialLine)) {
      // A batch that opened a new day file: the committed log must end whole in the file before.
      const before = nonEmpty.at(-2);
      if (before) {
        const { lines: previous, fragment: end } = splitLines(before.bytes);
        const lastIndex = previous.length > 0 ? indexOf(before.bytes, previous.at(-1)!) : undefined;
        if (end < before.bytes.length || (lastIndex !== undefined && lastIndex >= committed)) return unrecognized(`${before.name} does not end with a whole committed record line`);
      }
    }
    if (records > 0 || partialLine) cut(last.name, last.bytes, offset, { lines: records, partialLine });
  }

  // Leaf hashes are written only once every line of the batch is whole, one per line.
  const extra = leaves.length - committed * LEAF_BYTES;
  if (extra > 0 && (partialLine || extra > records * LEAF_BYTES)) {
    return unrecognized(`${LEAVES_FILE} holds ${extra} bytes beyond the ${committed} committed leaf hashes, more than the ${records} whole record line(s) beyond them had`);
  }
  if (extra > 0) cut(LEAVES_FILE, leaves, committed * LEAF_BYTES, { leaves: Math.floor(extra / LEAF_BYTES), partialLeaf: extra % LEAF_BYTES !== 0 });

  // A checkpoint line is written only once every leaf hash of the batch is there.
  const { lines: notes, fragment: noteEnd } = splitLines(input.checkpoints);
  const lastNote = notes.at(-1);
  const lastSize = lastNote === undefined ? undefined : sizeOf(input.checkpoints, lastNote);
  const beyond = lastSize !== undefined && lastSize > committed;
  const partialNote = noteEnd < input.checkpoints.length;
  if (beyond || partialNote) {
    const batchWhole = !partialLine && extra === records * LEAF_BYTES;
    if (!batchWhole) return unrecognized(`${CHECKPOINTS_FILE} has a checkpoint line beyond the committed log, but the batch's leaf hashes are not all there`);
    if (beyond && (partialNote || lastSize !== committed + records)) return unrecognized(`${CHECKPOINTS_FILE} ends with a checkpoint of size ${lastSize}, which is not the size of the committed log and the batch beyond it`);
    const before = notes.at(-2);
    if (beyond && before && (sizeOf(input.checkpoints, before) ?? Infinity) > committed) return unrecognized(`${CHECKPOINTS_FILE} holds more than one checkpoint beyond the committed log`);
    const offset = beyond ? lastNote!.start : noteEnd;
    cut(CHECKPOINTS_FILE, input.checkpoints, offset, { lines: beyond ? 1 : 0, partialLine: partialNote });
  }

  if (cuts.length === 0) return { kind: 'none' };
  return { kind: 'torn', plan: { tail: { commitPoint, committedSize: committed, records, cuts }, keep } };
}

interface LineSpan {
  start: number;
  /** Offset of the line's newline. */
  end: number;
}

/** Newline-terminated lines, and where the bytes after the last newline (a partial line) begin. */
function splitLines(bytes: Buffer): { lines: LineSpan[]; fragment: number } {
  const lines: LineSpan[] = [];
  let start = 0;
  for (let end = bytes.indexOf(NEWLINE); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
    lines.push({ start, end });
    start = end + 1;
  }
  return { lines, fragment: start };
}

/** The index a record line claims; undefined when the line is not a record line. */
function indexOf(bytes: Buffer, span: LineSpan): number | undefined {
  try {
    const line = JSON.parse(bytes.toString('utf8', span.start, span.end)) as { index?: unknown; envelope?: unknown };
    return Number.isSafeInteger(line.index) && typeof line.envelope === 'object' && line.envelope !== null ? (line.index as number) : undefined;
  } catch {
    return undefined;
  }
}

/** The size a checkpoint line states; undefined when the line is not one. */
function sizeOf(bytes: Buffer, span: LineSpan): number | undefined {
  try {
    const { size } = JSON.parse(bytes.toString('utf8', span.start, span.end)) as { size?: unknown };
    return Number.isSafeInteger(size) ? (size as number) : undefined;
  } catch {
    return undefined;
  }
}
