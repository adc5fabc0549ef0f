import type { JsonValue, RecordInput } from '../record/types.js';
import type { Store, StoredCheckpoint } from './store.js';

/** The event type of the record that states a torn tail was cut; only the ledger writes it (see RESERVED). */
export const TORN_TAIL_EVENT = 'torn_tail_recovered';

/** What was cut from one file: where, how much and its SHA-256, never the bytes themselves. */
export interface TornTailCut {
  file: string;
  /** Byte offset the file was cut back to: the end of the last committed batch. */
  offset: number;
  bytes: number;
  /** SHA-256 (hex) of the bytes cut. */
  sha256: string;
  /** Record and checkpoint files: whole lines cut, and whether a partial last line was among them. */
  lines?: number;
  partialLine?: boolean;
  /** leaves.bin: whole 32-byte leaf hashes cut, and whether a partial one was among them. */
  leaves?: number;
  partialLeaf?: boolean;
}

/**
 * A batch that a crash left half written: everything stored beyond the log's last commit point
 * (the signed head; in files written before heads, the last whole leaf hash), in the shape a crash
 * leaves, and announced by the signed head the writer stored before the batch. Its records were
 * never acknowledged: `append` resolves only once the head is in place.
 */
export interface TornTail {
  /** Names the torn tail; the store keeps the bytes it cut under this name (JSONL: `torn-tails/<id>/`). */
  id: string;
  /** When the store found it (opening), ISO 8601 UTC. */
  foundAt: string;
  /** What marked the end of the committed log: the signed head, or (files written before heads) the leaf hashes. */
  commitPoint: 'head' | 'leaves';
  /** Records in the committed log; the torn tail lay beyond index `committedSize - 1`. */
  committedSize: number;
  /**
   * The size of the log the torn batch was to commit, as the signed head written before it
   * announced (JSONL: head.next.json); absent in files written before heads.
   */
  announcedSize?: number;
  /** Whole record lines in the torn tail (indexes `committedSize` on). */
  records: number;
  cuts: TornTailCut[];
}

/**
 * A batch found at open beyond the signed head, in the shape a crash leaves, which the signed head
 * the writer stored before writing it announces (JSONL: head.next.json). Only a writer holding the
 * key can have written that head, so once its signature verifies the batch is a crash's; the store
 * holds no key, so the ledger checks it (`settleAnnouncedBatch`).
 */
export interface AnnouncedBatch {
  /** The signed head the batch was to commit: the log after it. */
  head: StoredCheckpoint;
  /** Records committed before it: the batch lies from this index on. */
  committedSize: number;
  /** Every record of the batch is there, with the root `head` states: the first write completes it; otherwise it cuts what is there. */
  complete: boolean;
}

/**
 * A store that recovers from a crash by completing the batch a crash left beyond its signed head,
 * or cutting it back to the last committed batch (JSONL, whose files have no transactions). It does
 * so before its first write, never on a read-only open; until then it reads as if the batch were
 * committed (complete) or not there (cut). The ledger states each cut as a `torn_tail_recovered`
 * event, then calls `recoveryRecorded`: until it has, the store reports the cut again at every
 * open, so a crash between the cut and the event loses neither.
 */
export interface RecoveringStore {
  /** Torn tails found at open, or cut since, that no event states yet. */
  readonly recovered: readonly TornTail[];
  /** The ledger has committed an event for each of `recovered`: the store stops reporting them. */
  recoveryRecorded(): Promise<void>;
  /** A batch beyond the signed head announced as a crash's, until `settleAnnounced` is called; it refuses writes until then. */
  readonly announced: AnnouncedBatch | undefined;
  /**
   * The ledger checked the signature of `announced.head`. Valid: the batch is a crash's, read as
   * committed (complete) or absent (cut), and completed or cut at the first write. Not valid: no
   * writer of this ledger announced it, so the files stay as they are, read as rows beyond the
   * signed head, for verify to report and the writer to refuse.
   */
  settleAnnounced(valid: boolean): void;
  /** What the first write will do about a crash's batch (complete it, cut it), while it has not: for verify's warnings. */
  readonly pendingRecovery: string | undefined;
}

export function recoveringStore(store: Store): (Store & RecoveringStore) | undefined {
  const candidate = store as Store & Partial<RecoveringStore>;
  return Array.isArray(candidate.recovered) && typeof candidate.recoveryRecorded === 'function' && typeof candidate.settleAnnounced === 'function'
    ? (candidate as Store & RecoveringStore)
    : undefined;
}

/**
 * Run by the ledger at open, before it reads the log: checks the signature of the head that
 * announces a batch found beyond the signed head (`verifies`: whether a note is a checkpoint of
 * this log under its key) and tells the store. Returns a warning when the head does not verify.
 */
export function settleAnnouncedBatch(store: Store, verifies: (note: string) => boolean): string | undefined {
  const recovering = recoveringStore(store);
  const batch = recovering?.announced;
  if (!recovering || !batch) return undefined;
  const valid = verifies(batch.head.note);
  recovering.settleAnnounced(valid);
  if (valid) return undefined;
  return `${store.location}: records from index ${batch.committedSize} lie beyond the signed head in the shape a crash leaves, but the head that announces them (size ${batch.head.size}) does not verify: no writer of this ledger wrote them, and they are read as records that no signed head covers`;
}

/** The metadata of the `torn_tail_recovered` event: counts, offsets and digests, never the records. */
export function tornTailMetadata(tail: TornTail): Record<string, JsonValue> {
  return {
    id: tail.id,
    foundAt: tail.foundAt,
    commitPoint: tail.commitPoint,
    committedSize: tail.committedSize,
    ...(tail.announcedSize === undefined ? {} : { announcedSize: tail.announcedSize }),
    records: tail.records,
    cuts: tail.cuts.map((c) => ({ ...c }) as Record<string, JsonValue>),
  };
}

/**
 * Run by the ledger once it has opened for writing: states each torn tail the store reports in a
 * `torn_tail_recovered` event (`record` is the ledger's own path, which may write reserved event
 * types), then tells the store they are on record. The first event's append is the store's first
 * write, which cuts the tail.
 */
export async function recordTornTails(store: Store, record: (input: RecordInput) => Promise<unknown>): Promise<void> {
  const recovering = recoveringStore(store);
  if (!recovering || recovering.recovered.length === 0) return;
  for (const tail of recovering.recovered) await record({ kind: 'event', eventType: TORN_TAIL_EVENT, component: 'ledger', metadata: tornTailMetadata(tail) });
  await recovering.recoveryRecorded();
}
