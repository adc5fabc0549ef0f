import type { Digester } from '../crypto/digest.js';
import type { Anchor } from '../log/anchor.js';
import { NoteSigner, openCheckpoint } from '../log/checkpoint.js';
import { inclusionProof, leafHashOfText, MerkleFrontier, verifyInclusion } from '../log/merkle.js';
import { PROOF_FORMAT, type ProofBundle } from '../log/proof.js';
import { canonicalJson } from '../record/canonical.js';
import { sealEnvelope, type EnvelopeLimits } from '../record/envelope.js';
import { parseRecordInput } from '../record/schema.js';
import type { LoggedRecord } from '../record/types.js';
import type { SearchFilter, Store } from '../store/store.js';
import { computeStats, type StatsGroup, type StatsReport } from './stats.js';
import { verifyLog, type VerifyReport } from './verify.js';
import { LogWriter } from './writer.js';

/** Everything a ledger is made of, already opened; `openLedger` builds this from configuration. */
export interface LedgerParts {
  store: Store;
  signerKey: string;
  origin: string;
  digester: Digester;
  anchor?: Anchor;
  limits: EnvelopeLimits;
  writer: { maxBatch: number; maxWaitMs: number; checkpointIntervalMs: number };
  onWarning?: (message: string) => void;
}

export interface RecordReceipt {
  id: string;
  index: number;
  traceId: string;
  requestId: string;
}

export interface SearchOptions extends SearchFilter {
  /** At most this many records (1..1000, default 50). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface SearchResult {
  records: LoggedRecord[];
  /** Present when more records may match: pass it as `cursor` for the next page. */
  nextCursor?: string;
}

/** Thrown when the stored log no longer matches its own newest checkpoint: appending would bury the damage. */
export class LedgerIntegrityError extends Error {
  override readonly name = 'LedgerIntegrityError';
}

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

export class Ledger {
  private closed = false;

  private constructor(
    private readonly parts: LedgerParts,
    private readonly signer: NoteSigner,
    /** Absent when the stored log contradicts its own newest checkpoint: reads work, appends are refused. */
    private readonly writer: LogWriter | undefined,
    private readonly damage: string | undefined,
  ) {}

  /**
   * Opens a ledger over already-opened parts. The stored tree is checked against its newest
   * checkpoint first: a damaged log stays readable and verifiable, but is never appended to or
   * re-signed, which would bury the damage under a fresh signature.
   */
  static async create(parts: LedgerParts): Promise<Ledger> {
    const signer = new NoteSigner(parts.signerKey);
    const state = await restoreTree(parts, signer.verifierKey);
    if (typeof state === 'string') return new Ledger(parts, signer, undefined, state);
    const onWarning = parts.onWarning ?? ((message: string) => process.emitWarning(message, 'LlmLedgerWarning'));
    const writer = new LogWriter(parts.store, signer, parts.anchor, { origin: parts.origin, ...parts.writer, onWarning }, state.frontier, state.covered);
    return new Ledger(parts, signer, writer, undefined);
  }

  /** The key that verifies this ledger's checkpoints; publish it where auditors can find it. */
  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  get location(): string {
    return this.parts.store.location;
  }

  /**
   * Validates, seals and appends one record. Resolves once the record is durably committed;
   * rejects with a RecordValidationError naming every bad field, or a StoreError.
   */
  async record(input: unknown): Promise<RecordReceipt> {
    const writer = this.writableWriter();
    const { envelope, canonical } = sealEnvelope(parseRecordInput(input), this.parts);
    const { index } = await writer.submit(envelope.id, canonical, leafHashOfText(canonical));
    return { id: envelope.id, index, traceId: envelope.traceId, requestId: envelope.requestId };
  }

  /** Commits everything accepted so far and publishes a checkpoint covering it. */
  async flush(): Promise<void> {
    await this.writer?.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer?.close();
    await this.parts.store.close();
  }

  get(id: string): Promise<LoggedRecord | undefined> {
    return this.parts.store.getById(id);
  }

  async search(options: SearchOptions = {}): Promise<SearchResult> {
    const { limit = 50, cursor, ...filter } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new LedgerError(`limit must be a whole number from 1 to 1000, got ${limit}`);
    const records = await this.parts.store.search(filter, { limit, ...(cursor === undefined ? {} : { beforeIndex: decodeCursor(cursor) }) });
    const last = records.at(-1);
    return records.length === limit && last && last.index > 0 ? { records, nextCursor: encodeCursor(last.index) } : { records };
  }

  /** Every record of one trace, in log order. */
  async trace(traceId: string): Promise<LoggedRecord[]> {
    const records: LoggedRecord[] = [];
    for await (const batch of this.parts.store.scan({ traceId }, 1000)) records.push(...batch);
    return records;
  }

  /** Call statistics (kind `llm.call` unless the filter names another kind). */
  stats(filter: SearchFilter & { by?: StatsGroup } = {}): Promise<StatsReport> {
    const { by, ...rest } = filter;
    return computeStats(this.parts.store.scan({ kind: 'llm.call', ...rest }, 5000), by);
  }

  async verify(options: { onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
    await this.writer?.flush();
    return verifyLog(this.parts.store, {
      origin: this.parts.origin,
      verifierKey: this.signer.verifierKey,
      ...(this.parts.anchor ? { anchor: this.parts.anchor } : {}),
      ...options,
    });
  }

  /** A self-contained inclusion proof for one record, checkable offline with `verifyProof`. */
  async prove(id: string): Promise<ProofBundle> {
    const record = await this.get(id);
    if (!record) throw new LedgerError(`no record with id ${id}`);
    if (this.writer && record.index >= this.writer.coveredSize) await this.writer.flush();
    const latest = (await this.parts.store.checkpoints()).at(-1);
    if (!latest || latest.size <= record.index) throw new LedgerError(`record ${id} is not yet covered by a checkpoint`);
    const checkpoint = openCheckpoint(latest.note, this.signer.verifierKey, this.parts.origin);
    const leaves = await this.parts.store.leafHashes(0, checkpoint.size);
    const envelope = canonicalJson(record.envelope);
    // The proof is checked against the signed root before it is handed out: one pass over the
    // leaves, and any stored leaf that changed since signing makes some node of the path differ.
    const proof = leaves.length === checkpoint.size ? inclusionProof(record.index, leaves) : [];
    if (leaves.length !== checkpoint.size || !verifyInclusion(leafHashOfText(envelope), record.index, checkpoint.size, proof, checkpoint.root)) {
      throw new LedgerIntegrityError(`the stored log does not match checkpoint ${checkpoint.size}; run 'llm-ledger verify'`);
    }
    return {
      format: PROOF_FORMAT,
      index: record.index,
      treeSize: checkpoint.size,
      envelope,
      inclusionProof: proof.map((h) => h.toString('base64')),
      checkpoint: latest.note,
      verifierKey: this.signer.verifierKey,
    };
  }

  private writableWriter(): LogWriter {
    if (this.closed) throw new LedgerError('the ledger is closed');
    if (!this.writer) throw new LedgerIntegrityError(`${this.damage}; appends are refused until this is investigated (run 'llm-ledger verify')`);
    return this.writer;
  }
}

/** Rebuilds the tree from stored leaf hashes; returns why it cannot be trusted, if it cannot. */
async function restoreTree(parts: LedgerParts, verifierKey: string): Promise<{ frontier: MerkleFrontier; covered: number } | string> {
  const where = parts.store.location;
  const size = await parts.store.size();
  const leaves = await parts.store.leafHashes(0, size + 1);
  if (leaves.length !== size) return `${where} holds ${size} records but ${leaves.length} leaf hashes`;
  const latest = (await parts.store.checkpoints()).at(-1);
  if (latest && latest.size > size) return `${where} holds ${size} records but its newest checkpoint covers ${latest.size}`;
  const frontier = new MerkleFrontier();
  for (const leaf of leaves) {
    frontier.append(leaf);
    if (latest && frontier.size === latest.size) {
      let root: Buffer;
      try {
        root = openCheckpoint(latest.note, verifierKey, parts.origin).root;
      } catch (err) {
        return `the newest checkpoint of ${where} does not verify: ${(err as Error).message}`;
      }
      if (!root.equals(frontier.root())) return `${where} does not match its newest checkpoint (size ${latest.size})`;
    }
  }
  return { frontier, covered: latest?.size ?? 0 };
}

function encodeCursor(index: number): string {
  return Buffer.from(`i:${index}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^i:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new LedgerError('cursor is not one this ledger issued; pass the nextCursor of a previous search unchanged');
  return Number(match[1]);
}
