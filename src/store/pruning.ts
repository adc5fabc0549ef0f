/**
 * Removing the oldest envelopes under retention: a prefix of the log only, so the tree stays
 * whole. Leaf hashes are kept (32 bytes a record): they are what newer proofs and `verify` need
 * in place of the pruned envelopes.
 */
export interface PrunableStore {
  /** Records below this index were pruned; 0 when none were. */
  prunedBelow(): Promise<number>;
  /** The first index at or after `from` whose record has `ts >= before`; the log's size when there is none. */
  firstKeptIndex(from: number, before: string): Promise<number>;
  /** Raises the horizon to `below` and deletes up to `limit` of the records under it, oldest first; returns how many. */
  prune(below: number, limit: number): Promise<number>;
}
