import type { JsonValue, RecordInput } from '../record/types.js';
import type { Store } from './store.js';

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
 * (the signed head; in files written before heads, the last whole leaf hash). Its records were
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
  /** Whole record lines in the torn tail (indexes `committedSize` on). */
  records: number;
  cuts: TornTailCut[];
}

/**
 * A store that recovers from a crash by cutting a torn tail back to the last committed batch
 * (JSONL, whose files have no transactions). It does so before its first write, never on a
 * read-only open; until then it reads as if the tail were not there. The ledger states each cut as
 * a `torn_tail_recovered` event, then calls `recoveryRecorded`: until it has, the store reports the
 * cut again at every open, so a crash between the cut and the event loses neither.
 */
export interface RecoveringStore {
  /** Torn tails found at open, or cut since, that no event states yet. */
  readonly recovered: readonly TornTail[];
  /** The ledger has committed an event for each of `recovered`: the store stops reporting them. */
  recoveryRecorded(): Promise<void>;
}

export function recoveringStore(store: Store): (Store & RecoveringStore) | undefined {
  const candidate = store as Store & Partial<RecoveringStore>;
  return Array.isArray(candidate.recovered) && typeof candidate.recoveryRecorded === 'function' ? (candidate as Store & RecoveringStore) : undefined;
}

/** The metadata of the `torn_tail_recovered` event: counts, offsets and digests, never the records. */
export function tornTailMetadata(tail: TornTail): Record<string, JsonValue> {
  return { id: tail.id, foundAt: tail.foundAt, commitPoint: tail.commitPoint, committedSize: tail.committedSize, records: tail.records, cuts: tail.cuts.map((c) => ({ ...c }) as Record<string, JsonValue>) };
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
