import { sha256 } from '../../crypto/sha256.js';
import { decodeStrictBase64 } from '../../log/base64.js';
import { HASH_SIZE, leafHash, MerkleFrontier } from '../../log/merkle.js';
import type { TornTail, TornTailCut } from '../torn-tail.js';

/**
 * Finding the torn tail of a JSONL store: what a crash left beyond the last committed batch.
 *
 * A batch is written in five steps, each synced before the next: the signed head it will commit
 * (head.next.json: the checkpoint over the whole log after the batch), its record lines (one
 * write, to one day file), its leaf hashes (leaves.bin), a checkpoint line when one is due
 * (checkpoints.jsonl: the same note), and the rename of head.next.json over head.json (the
 * directory synced). The rename is the commit point: `append` resolves, and a record is
 * acknowledged, only once it is done. A crash (a kill -9, a power cut) before it leaves beyond the
 * head some prefix of the other steps, and only that:
 *
 * - head.next.json, whole (or torn, and then nothing after it): a note of size head.size + the
 *   batch's records;
 * - the batch's lines at the end of the last day file (indexes head.size on, in order, at most as
 *   many as head.next.json announces), the last one possibly partial (no newline); the whole file
 *   if the batch was the first of a new day file;
 * - leaf hashes beyond head.size × 32 bytes, only once every line is whole, each the hash of its line;
 * - a checkpoint line (that of head.next.json, whole or partial), only once every leaf is there.
 *
 * Such a tail is a crash's only if head.next.json's note is this ledger's, which the store cannot
 * tell (it holds no key): it reports the tail as `announced`, and the ledger checks the signature.
 * A whole batch (every line and leaf, the root the note states) is completed: head.next.json is
 * put in place, as the crash kept it from being. A part of one is cut. Anything else beyond or
 * inside the committed log (no head.next.json, lines beyond its size, a leaf that is not its line's,
 * a checkpoint that is not its note) was not left by a crash of this ledger's writer: it is left as
 * it is, read as rows beyond the head, for `verify` to report and the writer to refuse.
 *
 * Files written before heads have no head: there the leaf hashes were the last thing a batch wrote
 * before it was acknowledged, so the commit point is the last whole leaf hash, and only lines
 * without their leaf (and partial lines, leaves and checkpoint lines) are a torn tail. (A ledger's
 * first batch also finds no head.json: when a head.next.json announces the tail, it is judged as
 * above, from the newest checkpoint below it.)
 */

/** A signed note as stored beside its size (head.json, head.next.json, a checkpoint line). */
export interface StoredNote {
  size: number;
  note: string;
}

export interface TailInput {
  /** The day files in log order, with their bytes. */
  files: { name: string; bytes: Buffer }[];
  leaves: Buffer;
  checkpoints: Buffer;
  /** The signed head (its signature is the ledger's to check); undefined in files written before heads. */
  head: StoredNote | undefined;
  /** head.next.json, when it is whole JSON: the signed head of the batch in flight at a crash. */
  next: StoredNote | undefined;
}

/** A torn tail to cut: the report (without the id and time it gets when found) and the length each file keeps. */
export interface TailPlan {
  tail: Omit<TornTail, 'id' | 'foundAt'>;
  /** File name -> the byte length it keeps (the offset of its cut). */
  keep: Map<string, number>;
}

/** A tail that head.next.json announces, in the shape a crash leaves: a crash's once the note verifies. */
export interface AnnouncedTail {
  next: StoredNote;
  /** Records committed before the batch (head.json's size). */
  committedSize: number;
  /**
   * The whole batch is there, and its leaves give the root the note states: it is completed (only
   * a partial checkpoint line is dropped, `plan.keep`). Otherwise `plan` cuts what is there.
   */
  complete: boolean;
  plan: TailPlan;
}

export type TailFinding =
  | { kind: 'none' }
  | { kind: 'unrecognized'; why: string }
  /** Files written before heads: a torn tail beyond the last whole leaf hash, to cut. */
  | { kind: 'torn'; plan: TailPlan }
  | { kind: 'announced'; tail: AnnouncedTail };

export const LEAVES_FILE = 'leaves.bin';
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
const LEAF_BYTES = 32;
const NEWLINE = 0x0a;

const unrecognized = (why: string): TailFinding => ({ kind: 'unrecognized', why });

export function findTornTail(input: TailInput): TailFinding {
  const { head, next } = input;
  // The size beside the note is not signed: only the one the note states may decide what is cut.
  if (head && statedSize(head.note) !== head.size) return unrecognized(`head.json stores size ${head.size}, which is not the size its note states`);
  const announcement = next && statedSize(next.note) === next.size ? next : undefined;
  if (head) {
    const shape = tailShape(input, head.size);
    if (typeof shape === 'string') return unrecognized(shape);
    if (shape.empty) return { kind: 'none' };
    if (!announcement) return unrecognized(`the log holds data beyond index ${head.size - 1}, its signed head, and no head.next.json announces a batch there`);
    return announced(input, shape, announcement);
  }
  if (announcement) {
    // A first batch, or the first batch a version with heads wrote into older files.
    const base = newestCheckpointBelow(input.checkpoints, announcement.size);
    const shape = tailShape(input, base);
    if (typeof shape !== 'string' && !shape.empty) {
      const found = announced(input, shape, announcement);
      if (found.kind === 'announced') return found;
    }
  }
  return legacyTail(input);
}

/** What lies beyond record `committed` in each file, as a crash could have left it; a string: why it could not have. */
interface TailShape {
  committed: number;
  empty: boolean;
  /** The last day file that holds anything, and the offset of its first line beyond the committed log. */
  last: { name: string; bytes: Buffer } | undefined;
  lineOffset: number;
  /** Whole record lines beyond the committed log (their indexes continue it), and the leaf hash of each. */
  lineLeaves: Buffer[];
  partialLine: boolean;
  /** Bytes of leaves.bin beyond the committed log's leaf hashes. */
  extraLeafBytes: number;
  /** Where checkpoints.jsonl's lines beyond the committed log begin; how many whole ones there are, and the size of the last. */
  checkpointOffset: number;
  checkpointLines: number;
  lastCheckpointSize: number | undefined;
  partialCheckpoint: boolean;
}

function tailShape(input: TailInput, committed: number): TailShape | string {
  const { leaves } = input;
  if (leaves.length < committed * LEAF_BYTES)
    return `${LEAVES_FILE} holds ${Math.floor(leaves.length / LEAF_BYTES)} leaf hashes, fewer than the ${committed} the signed head covers`;

  // The record lines: the end of the last day file that holds anything.
  const nonEmpty = input.files.filter((f) => f.bytes.length > 0);
  const last = nonEmpty.at(-1);
  const lineLeaves: Buffer[] = [];
  let partialLine = false;
  let lineOffset = 0;
  if (last) {
    const { lines, fragment } = splitLines(last.bytes);
    let first = lines.length;
    while (first > 0 && (recordLine(last.bytes, lines[first - 1]!)?.index ?? -1) >= committed) first--;
    const tail = lines.slice(first);
    for (let i = 0; i < tail.length; i++) {
      const line = recordLine(last.bytes, tail[i]!)!;
      if (line.index !== committed + i) return `the record lines beyond index ${committed - 1} in ${last.name} do not continue the log's indexes in order`;
      lineLeaves.push(line.leaf);
    }
    partialLine = fragment < last.bytes.length;
    lineOffset = first > 0 ? lines[first - 1]!.end + 1 : 0;
    if (lineOffset === 0 && (tail.length > 0 || partialLine)) {
      // A batch that opened a new day file: the committed log must end whole in the file before.
      const before = nonEmpty.at(-2);
      if (before) {
        const { lines: previous, fragment: end } = splitLines(before.bytes);
        const lastIndex = previous.length > 0 ? recordLine(before.bytes, previous.at(-1)!)?.index : undefined;
        if (end < before.bytes.length || (lastIndex !== undefined && lastIndex >= committed))
          return `${before.name} does not end with a whole committed record line`;
      }
    }
  }

  // A checkpoint line of the committed size written before its head is committed; one beyond it is not.
  const { lines: notes, fragment: noteEnd } = splitLines(input.checkpoints);
  const lastNote = notes.at(-1);
  const lastSize = lastNote === undefined ? undefined : checkpointSize(input.checkpoints, lastNote);
  const beyond = lastSize !== undefined && lastSize > committed;
  const partialCheckpoint = noteEnd < input.checkpoints.length;
  if (beyond) {
    const before = notes.at(-2);
    if (before && (checkpointSize(input.checkpoints, before) ?? Infinity) > committed)
      return `${CHECKPOINTS_FILE} holds more than one checkpoint beyond the committed log`;
  }
  const extraLeafBytes = leaves.length - committed * LEAF_BYTES;
  return {
    committed,
    empty: lineLeaves.length === 0 && !partialLine && extraLeafBytes === 0 && !beyond && !partialCheckpoint,
    last,
    lineOffset,
    lineLeaves,
    partialLine,
    extraLeafBytes,
    checkpointOffset: beyond ? lastNote!.start : noteEnd,
    checkpointLines: beyond ? 1 : 0,
    lastCheckpointSize: lastSize,
    partialCheckpoint,
  };
}

/** A tail beyond the head that head.next.json announces: a crash's shape, or unrecognized. */
function announced(input: TailInput, shape: TailShape, next: StoredNote): TailFinding {
  const { committed, lineLeaves, partialLine, extraLeafBytes } = shape;
  const batch = next.size - committed;
  if (batch < 0) return unrecognized(`head.next.json announces a log of size ${next.size}, smaller than the ${committed} committed`);
  const records = lineLeaves.length;
  if (records + (partialLine ? 1 : 0) > batch)
    return unrecognized(`the record lines beyond index ${committed - 1} are more than the ${batch} that head.next.json announces`);
  // Leaf hashes are written only once every line of the batch is whole, each its line's.
  if (extraLeafBytes > 0 && (partialLine || records < batch))
    return unrecognized(`${LEAVES_FILE} holds leaf hashes beyond index ${committed - 1}, but the batch's lines are not all there`);
  if (extraLeafBytes > batch * LEAF_BYTES)
    return unrecognized(`${LEAVES_FILE} holds more leaf hashes beyond index ${committed - 1} than the ${batch} records head.next.json announces`);
  const leaves = Math.floor(extraLeafBytes / LEAF_BYTES);
  for (let i = 0; i < leaves; i++) {
    const at = (committed + i) * LEAF_BYTES;
    if (!input.leaves.subarray(at, at + LEAF_BYTES).equals(lineLeaves[i]!))
      return unrecognized(`the leaf hash of index ${committed + i} is not the hash of its line`);
  }
  const leavesWhole = records === batch && !partialLine && extraLeafBytes === batch * LEAF_BYTES;
  // A checkpoint line is written only once every leaf hash of the batch is there: head.next.json's own note.
  const checkpointTail = input.checkpoints.subarray(shape.checkpointOffset);
  if (checkpointTail.length > 0) {
    if (!leavesWhole) return unrecognized(`${CHECKPOINTS_FILE} has a checkpoint line beyond the committed log, but the batch's leaf hashes are not all there`);
    const expected = Buffer.from(`${JSON.stringify({ size: next.size, note: next.note })}\n`, 'utf8');
    if (checkpointTail.length > expected.length || !expected.subarray(0, checkpointTail.length).equals(checkpointTail)) {
      return unrecognized(`${CHECKPOINTS_FILE} ends with a checkpoint line beyond the committed log that is not head.next.json's note`);
    }
  }
  const cuts: TornTailCut[] = [];
  const keep = new Map<string, number>();
  const cut = (file: string, bytes: Buffer, offset: number, counts: Partial<TornTailCut>) => {
    cuts.push({ file, offset, bytes: bytes.length - offset, sha256: sha256(bytes.subarray(offset)).toString('hex'), ...counts });
    keep.set(file, offset);
  };
  const plan = (): TailPlan => ({ tail: { commitPoint: 'head', committedSize: committed, announcedSize: next.size, records, cuts }, keep });
  if (leavesWhole) {
    // The whole batch: it is the one the note signs only if its leaves give the note's root.
    if (!rootOf(input.leaves, next.size).equals(statedRoot(next.note) ?? Buffer.alloc(0))) {
      return unrecognized(`the ${batch} record(s) beyond index ${committed - 1} do not give the root that head.next.json states`);
    }
    // Only a partial checkpoint line is dropped (the head holds its note); a whole one stays.
    if (shape.partialCheckpoint && shape.checkpointLines === 0)
      cut(CHECKPOINTS_FILE, input.checkpoints, shape.checkpointOffset, { lines: 0, partialLine: true });
    return { kind: 'announced', tail: { next, committedSize: committed, complete: true, plan: plan() } };
  }
  if (shape.last && (records > 0 || partialLine)) cut(shape.last.name, shape.last.bytes, shape.lineOffset, { lines: records, partialLine });
  if (extraLeafBytes > 0) cut(LEAVES_FILE, input.leaves, committed * LEAF_BYTES, { leaves, partialLeaf: extraLeafBytes % LEAF_BYTES !== 0 });
  return { kind: 'announced', tail: { next, committedSize: committed, complete: false, plan: plan() } };
}

/** Files written before heads: the commit point is the last whole leaf hash. */
function legacyTail(input: TailInput): TailFinding {
  const committed = Math.floor(input.leaves.length / LEAF_BYTES);
  const shape = tailShape(input, committed);
  if (typeof shape === 'string') return unrecognized(shape);
  const { lineLeaves, partialLine, extraLeafBytes } = shape;
  const records = lineLeaves.length;
  const cuts: TornTailCut[] = [];
  const keep = new Map<string, number>();
  const cut = (file: string, bytes: Buffer, offset: number, counts: Partial<TornTailCut>) => {
    cuts.push({ file, offset, bytes: bytes.length - offset, sha256: sha256(bytes.subarray(offset)).toString('hex'), ...counts });
    keep.set(file, offset);
  };
  if (shape.last && (records > 0 || partialLine)) cut(shape.last.name, shape.last.bytes, shape.lineOffset, { lines: records, partialLine });
  // Only a partial leaf hash can lie beyond the last whole one, and only once a line is whole.
  if (extraLeafBytes > 0 && (partialLine || extraLeafBytes > records * LEAF_BYTES)) {
    return unrecognized(
      `${LEAVES_FILE} holds ${extraLeafBytes} bytes beyond the ${committed} committed leaf hashes, more than the ${records} whole record line(s) beyond them had`,
    );
  }
  if (extraLeafBytes > 0) cut(LEAVES_FILE, input.leaves, committed * LEAF_BYTES, { leaves: 0, partialLeaf: true });
  // A checkpoint line is written only once every leaf hash of the batch is there.
  const lastSize = shape.lastCheckpointSize;
  const beyond = shape.checkpointLines > 0;
  if (beyond || shape.partialCheckpoint) {
    const batchWhole = !partialLine && extraLeafBytes === 0 && records === 0;
    if (!batchWhole) return unrecognized(`${CHECKPOINTS_FILE} has a checkpoint line beyond the committed log, but the batch's leaf hashes are not all there`);
    if (beyond && (shape.partialCheckpoint || lastSize !== committed + records))
      return unrecognized(`${CHECKPOINTS_FILE} ends with a checkpoint of size ${lastSize}, which is not the size of the committed log and the batch beyond it`);
    cut(CHECKPOINTS_FILE, input.checkpoints, shape.checkpointOffset, { lines: shape.checkpointLines, partialLine: shape.partialCheckpoint });
  }
  if (cuts.length === 0) return { kind: 'none' };
  return { kind: 'torn', plan: { tail: { commitPoint: 'leaves', committedSize: committed, records, cuts }, keep } };
}

/** The size a signed note states (its second line); undefined when it states none. */
export function statedSize(note: string): number | undefined {
  const text = note.split('\n')[1];
  return text !== undefined && /^(?:0|[1-9][0-9]*)$/.test(text) ? Number(text) : undefined;
}

/** The root a checkpoint note states (its third line), unverified. */
function statedRoot(note: string): Buffer | undefined {
  try {
    return decodeStrictBase64(note.split('\n')[2] ?? '', HASH_SIZE);
  } catch {
    return undefined;
  }
}

function rootOf(leaves: Buffer, size: number): Buffer {
  const frontier = new MerkleFrontier();
  for (let i = 0; i < size; i++) frontier.append(leaves.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES));
  return frontier.root();
}

/** The size of the newest whole checkpoint line below `size`; 0 when there is none. */
function newestCheckpointBelow(checkpoints: Buffer, size: number): number {
  const { lines } = splitLines(checkpoints);
  return Math.max(0, ...lines.map((span) => checkpointSize(checkpoints, span) ?? 0).filter((s) => s < size));
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

/** The index a record line claims and the leaf hash of its envelope's text; undefined when the line is not a record line. */
function recordLine(bytes: Buffer, span: LineSpan): { index: number; leaf: Buffer } | undefined {
  const text = bytes.toString('utf8', span.start, span.end);
  try {
    const line = JSON.parse(text) as { index?: unknown; envelope?: unknown };
    if (!Number.isSafeInteger(line.index) || typeof line.envelope !== 'object' || line.envelope === null) return undefined;
    // The envelope's own bytes, as the store hashes them (see parseLine in jsonl-store.ts).
    const start = text.indexOf('"envelope":') + '"envelope":'.length;
    return { index: line.index as number, leaf: leafHash(Buffer.from(text.slice(start, text.lastIndexOf('}')), 'utf8')) };
  } catch {
    return undefined;
  }
}

/** The size a checkpoint line states; undefined when the line is not one. */
function checkpointSize(bytes: Buffer, span: LineSpan): number | undefined {
  try {
    const { size } = JSON.parse(bytes.toString('utf8', span.start, span.end)) as { size?: unknown };
    return Number.isSafeInteger(size) ? (size as number) : undefined;
  } catch {
    return undefined;
  }
}
