import type { DatabaseSync } from 'node:sqlite';
import { CALL_STATS_COLUMNS } from './sqlite-schema.js';
import { packBlock, prepareCallRows, type CallRows } from './sqlite-stats-blocks.js';
import type { StatsCopiesCheck } from '../store.js';

/** Disagreements named one by one; past this many, only counted. */
const NAMED = 5;

/**
 * Compares what stats of calls read with the records `verify` checks: every call_stats row with
 * the columns of its llm.call record (and no call without a row, no row without a call), then
 * every block with the packing of the call_stats rows it covers.
 */
export function checkSqliteStatsCopies(db: DatabaseSync, withBlocks: boolean, rowsScanned = false): StatsCopiesCheck {
  const problems: string[] = [];

  const differs = CALL_STATS_COLUMNS.map((column) => `r.${column} IS NOT c.${column}`).join(' OR ');
  const rows = db
    .prepare(
      rowsScanned
        ? // verify's scan held every record's copy against it (copiesExpression): only copies of no record are left.
          'SELECT c.idx FROM call_stats c LEFT JOIN records r ON r.idx = c.idx WHERE r.idx IS NULL ORDER BY 1'
        : // A row edited into something that is not JSON has no columns to compare (reading one would
          // throw); it is no call any more, so its copy in call_stats is reported as one without a call.
          `SELECT coalesce(r.idx, c.idx) AS idx FROM (SELECT idx, ${CALL_STATS_COLUMNS.join(', ')} FROM records WHERE iif(json_valid(envelope), kind, NULL) = 'llm.call') r FULL JOIN call_stats c ON c.idx = r.idx WHERE r.idx IS NULL OR c.idx IS NULL OR ${differs} ORDER BY 1`,
    )
    .iterate() as Iterable<{ idx: number }>;
  const badRows = new Found();
  for (const { idx } of rows) badRows.add(idx);
  badRows.report('call_stats disagrees with the llm.call records at index', problems);

  const calls = (db.prepare('SELECT count(*) AS n FROM call_stats').get() as { n: number }).n;
  const callRows = prepareCallRows(db);
  const badBlocks = new Found();
  let blocks = 0;
  let next = 0;
  const stored = withBlocks
    ? db.prepare('SELECT first_idx, last_idx, calls, format, min_ts, max_ts, labels, columns FROM call_stats_blocks ORDER BY first_idx').iterate()
    : [];
  for (const block of stored as Iterable<StoredBlock>) {
    blocks++;
    const rows = callRows.all(block.first_idx - 1, block.calls) as unknown as CallRows;
    // Blocks are written one after another, never laid over each other.
    if (block.first_idx < next || rows.length === 0 || !sameBlock(Object.values(block), packBlock(rows))) badBlocks.add(block.first_idx);
    next = Math.max(next, block.last_idx + 1);
  }
  badBlocks.report('stats blocks disagree with call_stats, the blocks from index', problems);
  return { calls, blocks, problems };
}

interface StoredBlock {
  first_idx: number;
  last_idx: number;
  calls: number;
}

/** Indexes found wrong: the first few by name, the rest counted. */
class Found {
  private readonly named: number[] = [];
  private count = 0;

  add(index: number): void {
    if (this.named.length < NAMED) this.named.push(index);
    this.count++;
  }

  report(what: string, problems: string[]): void {
    if (this.count === 0) return;
    const more = this.count - this.named.length;
    problems.push(`${what} ${this.named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
  }
}

function sameBlock(stored: unknown[], packed: unknown[]): boolean {
  return (
    stored.length === packed.length &&
    stored.every((value, k) => (value instanceof Uint8Array ? Buffer.from(value).equals(packed[k] as Uint8Array) : value === packed[k]))
  );
}
