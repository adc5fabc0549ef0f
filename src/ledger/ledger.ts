import type { CapturePolicy } from '../capture/policy.js';
import type { ContentCipher } from '../crypto/content-cipher.js';
import type { Anchor } from '../log/anchor.js';
import { canonicalVerifierKey, NoteSigner, openCheckpoint, type Checkpoint } from '../log/checkpoint.js';
import { sealedPrefix } from '../log/batch-seal.js';
import { leafChunks, storedInclusionProof } from '../log/leaf-ranges.js';
import { leafHashOfText, MerkleError, MerkleFrontier, verifyInclusion } from '../log/merkle.js';
import { sha256 } from '../crypto/sha256.js';
import { PROOF_FORMAT, type ProofBundle } from '../log/proof.js';
import { canonicalJson } from '../record/canonical.js';
import { sealEnvelope, type EnvelopeLimits } from '../record/envelope.js';
import { parseRecordInput } from '../record/schema.js';
import { RecordValidationError } from '../record/errors.js';
import { indexedEventTypes, timelineOf } from '../record/call-events.js';
import type { Envelope, LoggedRecord, RecordInput, TimelineEntry } from '../record/types.js';
import type { AppendEntry, SearchFilter, StatsCopiesCheck, Store, StoredCheckpoint } from '../store/store.js';
import { AnomalyOptionsError, detectAnomalies, type AnomalyOptions, type AnomalyReport } from './anomalies.js';
import { computeStats, STATS_GROUPS, type StatsGroup, type StatsReport } from './stats.js';
import { TimeBoundError, withNormalizedTimes } from './time-bounds.js';
import { verifyLog, type VerifyReport } from './verify.js';
import { LogWriter } from './writer.js';
import { Sequencer } from '../log/sequencer.js';
import { LedgerContent, subjectOf, type RevealedContent } from './content.js';
import { LedgerError, LedgerIntegrityError } from './errors.js';
import { runRetention, type RetentionReport } from './retention.js';
import type { IndexRange } from './unsealed.js';
import { recordTornTails, recoveringStore, settleAnnouncedBatch, TORN_TAIL_EVENT } from '../store/torn-tail.js';
import type { RetentionConfig } from '../config/retention.js';
import type { Spool } from './spool.js';

/** Everything a ledger is made of, already opened; `openLedger` builds this from configuration. */
export interface LedgerParts {
  store: Store;
  /** Signs checkpoints; a read-only ledger may be given only the public `verifierKey` instead. */
  signerKey?: string;
  /** Checks checkpoints; derived from `signerKey` when that is given. */
  verifierKey?: string;
  origin: string;
  /** What of each call's text is digested and what is stored beside the envelope. */
  capture: CapturePolicy;
  /** Seals stored content; absent when no key-encryption key is configured. */
  cipher?: ContentCipher;
  anchor?: Anchor;
  limits: EnvelopeLimits;
  writer: { maxBatch: number; maxWaitMs: number; checkpointIntervalMs: number };
  onWarning?: (message: string) => void;
  /** Retention periods; `cleanup()` applies them, and with `scheduleCleanup` so does a timer. */
  retention?: RetentionConfig;
  /** Runs a cleanup at open and then every `retention.cleanupIntervalMs` (for long-running processes such as the gateway). */
  scheduleCleanup?: boolean;
  /**
   * Opens for reading only: no tree is rebuilt (a pass over every leaf hash, seconds on a large
   * log) and `record` is refused. For queries, verification and proofs.
   */
  readOnly?: boolean;
  /**
   * Where records go while the store fails, to be replayed in order when it returns (see
   * `Spool`). Without one, a record the store cannot take is rejected with a StoreError.
   */
  spool?: Spool;
  /** How often a failing store is tried again: spool replay, or a probe when there is no spool (default 1000 ms). */
  retryIntervalMs?: number;
  /**
   * An operator's decision about records that no signed head covers (see `llm-ledger repair`):
   * they are taken into the log as they stand, and an `unsealed_accepted` event naming the person,
   * the reason and the digest of their leaf hashes is its first new record. Nothing else that
   * keeps a writer from appending can be accepted this way.
   */
  acceptUnsealed?: { actor: string; reason: string };
}

/** Records an operator took into the log with `acceptUnsealed`, and the event that says so. */
export interface AcceptedUnsealed {
  ranges: IndexRange[];
  recordId: string;
}

/** Whether the store takes records, and what waits for it. */
export interface StoreHealth {
  /** False from a failed append until an append succeeds again. */
  available: boolean;
  /** Records durable in the spool, waiting to enter the log. */
  spooled: number;
  /** When the current outage began (ISO 8601 UTC). */
  since?: string;
  /** Why the store last refused an append. */
  error?: string;
}

/** One store outage, counted while it lasts and recorded as a `store_outage` event once it ends. */
interface Outage {
  since: string;
  error: string;
  /** Records rejected with a StoreError: not in the log, and their callers were told so. */
  failedRecords: number;
  /** Records kept in the spool instead, to be replayed. */
  spooledRecords: number;
}

/** Bounded, so a store's long error message cannot bloat the event that reports it. */
const MAX_OUTAGE_ERROR_CHARS = 300;

export interface RevealResult {
  record: LoggedRecord;
  content: RevealedContent;
  /** The `content_accessed` record that logged this reveal. */
  accessRecordId: string;
}

export interface ErasureResult {
  subject: string;
  keysDestroyed: number;
  contentDeleted: number;
  /** The `erasure` record that logged it. */
  erasureRecordId: string;
}

/** Content is deleted in transactions of this many items, so one erasure never holds the writer long. */
const DELETE_BATCH = 500;

export interface RecordReceipt {
  id: string;
  /** Position in the log; -1 while the record waits in the spool (it gets its place on replay). */
  index: number;
  traceId: string;
  requestId: string;
  /** The store was failing: the record is durable in the spool and enters the log, in order, when the store returns. */
  spooled?: true;
}

/** Built by a constructor, not as an object literal: V8 allocated that literal's receipts in the old generation (see Pending in writer.ts). */
class CommittedReceipt implements RecordReceipt {
  constructor(
    readonly id: string,
    readonly index: number,
    readonly traceId: string,
    readonly requestId: string,
  ) {}
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

export { LedgerError, LedgerIntegrityError } from './errors.js';

/**
 * What any ledger handle can do, a read-only one included (`openLedger(..., { readOnly: true })`):
 * query, verify, prove and close. Nothing here appends to the log. `Ledger` adds recording and
 * the operations that write records of their own (reveal, erase, cleanup, rewrapKeys).
 */
export interface LedgerReader {
  /** The key that verifies this ledger's checkpoints; publish it where auditors can find it. */
  readonly verifierKey: string;
  /** Where the store is, as the store names it (its file, or its database). */
  readonly location: string;
  /** One record by id; a row whose stored id was edited is a LedgerIntegrityError. */
  get(id: string): Promise<LoggedRecord | undefined>;
  /** Matching records, newest first, a page at a time. */
  search(options?: SearchOptions): Promise<SearchResult>;
  /**
   * One trace as it happened: every record in log order, with the events a call's record carries
   * in their places (see timelineOf); an event's index is its record's, whose proof covers it.
   */
  trace(traceId: string): Promise<TimelineEntry[]>;
  /** Call statistics (kind `llm.call` unless the filter names another kind). */
  stats(filter?: SearchFilter & { by?: StatsGroup }): Promise<StatsReport>;
  /** Whether the copies of the records that stats read agree with the envelopes (undefined where the store keeps none). */
  checkStats(): Promise<StatsCopiesCheck | undefined>;
  /** Token usage far above its baseline and error-rate spikes, in a window against the period before it. */
  anomalies(options?: AnomalyOptions): Promise<AnomalyReport>;
  /** Every matching record, oldest first, in batches: for exports of any size. */
  records(filter?: SearchFilter, batchSize?: number): AsyncIterable<LoggedRecord[]>;
  /** Number of records in the log. */
  size(): Promise<number>;
  /** Checks the whole log against its signed checkpoints (and anchor). */
  verify(options?: { onProgress?: (done: number, total: number) => void }): Promise<VerifyReport>;
  /** A self-contained inclusion proof for one record, checkable offline with `verifyProof`. */
  prove(id: string): Promise<ProofBundle>;
  close(): Promise<void>;
}

export class Ledger implements LedgerReader {
  private closed = false;
  private readonly content: LedgerContent;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private cleaning: Promise<RetentionReport> | undefined;
  private outage: Outage | undefined;
  private outageTimer: NodeJS.Timeout | undefined;
  private reportingOutage = false;

  private constructor(
    private readonly parts: LedgerParts,
    private readonly checkpointKey: string,
    /** Absent when opened read-only, or when the stored log contradicts its own newest checkpoint. */
    private readonly writer: LogWriter | undefined,
    /** Why appends are refused, when they are. */
    private readonly refusal: Error | undefined,
  ) {
    this.content = new LedgerContent(parts.store.content, parts.cipher);
  }

  /**
   * Opens a ledger over already-opened parts. The stored tree is checked against its newest
   * checkpoint first: a damaged log stays readable and verifiable, but is never appended to or
   * re-signed, which would bury the damage under a fresh signature. Other processes may append
   * to the same store meanwhile (see restoreTree); each batch is then sequenced where the log ends
   * by the store (see Sequencer).
   */
  static async create(parts: LedgerParts): Promise<Ledger> {
    const signer = parts.signerKey === undefined ? undefined : new NoteSigner(parts.signerKey);
    const verifierKey = signer?.verifierKey ?? (parts.verifierKey === undefined ? undefined : canonicalVerifierKey(parts.verifierKey));
    if (verifierKey === undefined) throw new LedgerError('a ledger needs its signing key, or when read-only its verifier key, to check its checkpoints');
    // A batch beyond the signed head is a crash's only if this ledger's writer announced it (JSONL): a signature only the ledger can check.
    // (What a crash left is said by verify's warnings when read-only, and below when writable.)
    const forged = settleAnnouncedBatch(parts.store, (note) => opensAsCheckpoint(note, verifierKey, parts.origin));
    if (forged) (parts.onWarning ?? ((message: string) => process.emitWarning(message, 'LlmLedgerWarning')))(forged);
    if (parts.readOnly)
      return new Ledger(parts, verifierKey, undefined, new LedgerError('this ledger was opened read-only; open it without readOnly to record'));
    if (!signer) throw new LedgerError('a ledger opened for writing needs its signing key: only a read-only ledger can do with the verifier key');
    const state = await restoreTree(parts, verifierKey);
    if (typeof state === 'string') return new Ledger(parts, verifierKey, undefined, new LedgerIntegrityError(state));
    const onWarning = parts.onWarning ?? ((message: string) => process.emitWarning(message, 'LlmLedgerWarning'));
    const sequencer = new Sequencer(parts.signerKey!, parts.origin);
    // The tree just checked may reach beyond the stored head: records an operator accepted (see `acceptUnsealed`), or a
    // newer checkpoint's (a head put back from an older copy, say). The first batch extends it and signs a head over it.
    // Without a head (a log from before heads) it also spares the store rebuilding the tree in its transaction.
    if (state.frontier.size > state.headSize) sequencer.adopt(state.frontier);
    const writer = new LogWriter(
      parts.store,
      sequencer,
      parts.anchor,
      {
        ...parts.writer,
        onWarning,
        ...(parts.spool ? { spool: parts.spool } : {}),
        ...(parts.retryIntervalMs === undefined ? {} : { retryIntervalMs: parts.retryIntervalMs }),
        // Called only once records flow, long after `ledger` below exists.
        onStoreStatus: (available, error) => ledger.storeStatusChanged(available, error),
      },
      state.frontier.size,
      state.covered,
      state.prunedBelow,
      state.unanchored,
    );
    const ledger = new Ledger(parts, verifierKey, writer, undefined);
    if (state.unsealed && state.unsealed.length > 0 && parts.acceptUnsealed) await ledger.acceptUnsealed(state.unsealed, parts.acceptUnsealed);
    // A batch a crash left uncommitted (JSONL), never acknowledged: the store completes it at its first write, or cuts it
    // there, which the event states (the event is then that first write).
    const recovering = recoveringStore(parts.store)?.pendingRecovery;
    if (recovering) onWarning(recovering);
    await recordTornTails(parts.store, (input) => ledger.ownRecord(input));
    if (parts.scheduleCleanup && parts.retention) ledger.scheduleCleanup(parts.retention.cleanupIntervalMs, onWarning);
    return ledger;
  }

  /** The key that verifies this ledger's checkpoints; publish it where auditors can find it. */
  get verifierKey(): string {
    return this.checkpointKey;
  }

  get location(): string {
    return this.parts.store.location;
  }

  /**
   * Validates, seals and appends one record. Resolves once the record is durably committed;
   * rejects with a RecordValidationError naming every bad field, or a StoreError. The input is
   * validated at run time whatever its static type (JavaScript callers, parsed JSON).
   */
  record(input: RecordInput): Promise<RecordReceipt> {
    return this.append(input, true);
  }

  /**
   * Records several records as `record` does, in the order given. Separate `record` calls may
   * overtake each other when some carry content to encrypt (sealing it is asynchronous); these
   * take their places in the log in this order. Every record is validated before any is
   * submitted, so one invalid record fails the call with nothing recorded.
   */
  async recordAll(inputs: readonly RecordInput[]): Promise<RecordReceipt[]> {
    const writer = this.writableWriter();
    const sealed = inputs.map((input) => sealEnvelope(callerRecord(input), this.parts));
    const stored = await Promise.all(sealed.map(({ envelope, content }) => content && this.content.seal(envelope, content)));
    return Promise.all(sealed.map(({ envelope, canonical }, i) => this.submit(writer, envelope, canonical, stored[i], true)));
  }

  /**
   * The keyed digest (HMAC-SHA256 under the digest key, or SHA-256 where so configured) that an
   * envelope's `digests` would hold for `text`: to recognise a text again without keeping it.
   */
  contentDigest(text: string): string {
    this.writableWriter();
    return this.parts.capture.digester.digest(text);
  }

  /**
   * `counted`: a caller's record, counted in an outage's figures when the store fails it. `own`: a
   * record the ledger writes on its own behalf, of a kind a caller may not write (see RESERVED).
   */
  private async append(input: unknown, counted: boolean, own = false): Promise<RecordReceipt> {
    const writer = this.writableWriter();
    const { envelope, canonical, content } = sealEnvelope(own ? parseRecordInput(input) : callerRecord(input), this.parts);
    const stored = content && (await this.content.seal(envelope, content));
    return this.submit(writer, envelope, canonical, stored, counted);
  }

  private submit(writer: LogWriter, envelope: Envelope, canonical: string, stored: AppendEntry['content'], counted: boolean): Promise<RecordReceipt> {
    // Only these outlive the wait for the commit. Not an async function: one keeps its arguments
    // alive until it returns, and an envelope kept through the commit survives scavenges, so V8
    // soon allocates every envelope in the old generation, where each dead one then keeps what it
    // points to alive until the next full collection (see Pending in writer.ts): 10-30 ms
    // scavenges, the latency benchmark's p99.
    const { id, traceId, requestId } = envelope;
    const eventTypes = envelope.events && indexedEventTypes(envelope);
    return writer.submit(id, canonical, leafHashOfText(canonical), stored, eventTypes).then(
      (receipt): RecordReceipt => {
        if (!receipt.spooled) return new CommittedReceipt(id, receipt.index, traceId, requestId);
        if (this.outage && counted) this.outage.spooledRecords++;
        return { id, index: -1, traceId, requestId, spooled: true };
      },
      (err: unknown) => {
        // Only the store (or the spool) fails a submitted record.
        if (this.outage && counted) this.outage.failedRecords++;
        throw err;
      },
    );
  }

  /** Set when this open took unsealed records into the log (`LedgerParts.acceptUnsealed`). */
  accepted: AcceptedUnsealed | undefined;

  private async acceptUnsealed(ranges: IndexRange[], decision: { actor: string; reason: string }): Promise<void> {
    if (!decision.actor.trim() || !decision.reason.trim())
      throw new LedgerError('accepting unsealed records needs the name of whoever decides (actor) and a reason, which are recorded');
    const leaves = (await Promise.all(ranges.map((r) => this.parts.store.leafHashes(r.from, r.to)))).flat();
    const logged = await this.ownRecord({
      kind: 'event',
      eventType: 'unsealed_accepted',
      component: 'repair',
      user: decision.actor,
      metadata: {
        ranges: ranges.map((r) => [r.from, r.to]),
        count: leaves.length,
        leavesSha256: sha256(Buffer.concat(leaves)).toString('hex'),
        reason: decision.reason,
      },
    });
    await this.flush();
    this.accepted = { ranges, recordId: logged.id };
  }

  /** A record the ledger writes on its own behalf, of a kind a caller's `record` refuses (see RESERVED). */
  private ownRecord(input: RecordInput): Promise<RecordReceipt> {
    return this.append(input, true, true);
  }

  /** Whether the store takes records; a gateway that fails closed refuses traffic while it does not. */
  storeHealth(): StoreHealth {
    const health: StoreHealth = { available: this.writer?.storeAvailable ?? true, spooled: this.writer?.spooledCount ?? 0 };
    if (this.outage) Object.assign(health, { since: this.outage.since, error: this.outage.error });
    return health;
  }

  /**
   * An outage begins with the first failed append. It is counted while it lasts and recorded, as
   * a `store_outage` event, once the store takes records again. Without a spool nothing else
   * would try the store, so the event itself is tried every `retryIntervalMs`: when it commits,
   * the store is back and the outage is on record in one step.
   */
  private storeStatusChanged(available: boolean, error?: Error): void {
    if (!available && !this.outage) {
      this.outage = {
        since: new Date().toISOString(),
        error: (error?.message ?? 'unknown').slice(0, MAX_OUTAGE_ERROR_CHARS),
        failedRecords: 0,
        spooledRecords: 0,
      };
    }
    if (available && this.outage) setImmediate(() => void this.reportOutage());
    else if (this.outage && !this.outageTimer && !this.closed) {
      this.outageTimer = setInterval(() => {
        if (!this.parts.spool || this.writer?.storeAvailable) void this.reportOutage();
      }, this.parts.retryIntervalMs ?? 1000).unref();
    }
  }

  private async reportOutage(): Promise<void> {
    const outage = this.outage;
    if (!outage || this.reportingOutage || this.closed) return;
    this.reportingOutage = true;
    try {
      await this.append(
        {
          kind: 'event',
          eventType: 'store_outage',
          component: 'ledger',
          metadata: { since: outage.since, failedRecords: outage.failedRecords, spooledRecords: outage.spooledRecords, error: outage.error },
        },
        false,
        true,
      );
      this.outage = undefined;
      if (this.outageTimer) clearInterval(this.outageTimer);
      this.outageTimer = undefined;
    } catch {
      // Still failing: the timer tries again.
    } finally {
      this.reportingOutage = false;
    }
  }

  /**
   * Decrypts one record's stored content for an authorised caller. The access is recorded first
   * (a `content_accessed` record naming who and why, durable before anything is decrypted), so
   * even a failed attempt leaves its trace.
   */
  async reveal(id: string, access: { actor: string; reason: string }): Promise<RevealResult> {
    if (!access.actor?.trim()) throw new LedgerError('reveal needs the name of whoever is looking (actor), which is recorded');
    if (!access.reason?.trim()) throw new LedgerError('reveal needs a reason, which is recorded');
    const record = await this.get(id);
    if (!record) throw new LedgerError(`no record with id ${id}`);
    const logged = await this.ownRecord({
      kind: 'content_accessed',
      component: 'reveal',
      user: access.actor,
      metadata: { recordId: id, requestId: record.envelope.requestId, reason: access.reason },
    });
    const { content } = await this.content.open(record);
    return { record, content, accessRecordId: logged.id };
  }

  /**
   * Erases one data subject (a user, or a tenant): destroys its data keys, so no copy of its
   * content can be decrypted again, deletes its content, and records an `erasure` record with
   * the counts. Envelopes stay, so every proof still verifies.
   */
  async erase(who: { user: string } | { tenant: string }): Promise<ErasureResult> {
    const user = 'user' in who ? who.user : undefined;
    const tenant = 'tenant' in who ? who.tenant : undefined;
    if ((user === undefined) === (tenant === undefined) || (user ?? tenant)!.trim() === '') throw new LedgerError('erase needs exactly one of user or tenant');
    this.writableWriter();
    const subject = subjectOf({ user, tenant });
    const counts = await this.content.erase(subject, DELETE_BATCH);
    const logged = await this.ownRecord({
      kind: 'erasure',
      component: 'erasure',
      ...(user === undefined ? { tenant } : { user }),
      metadata: { subject, keysDestroyed: counts.keysDestroyed, contentDeleted: counts.contentDeleted },
    });
    return { subject, ...counts, erasureRecordId: logged.id };
  }

  /**
   * Wraps every stored data key with the current key-encryption key, after a rotation, so the
   * previous ones can be retired; content is not touched. Stated in the log as a
   * `keys_rewrapped` event.
   */
  async rewrapKeys(): Promise<{ subjects: number; rewrapped: number; kekId: string; recordId: string }> {
    this.writableWriter();
    const result = await this.content.rewrapKeys();
    const logged = await this.ownRecord({ kind: 'event', eventType: 'keys_rewrapped', component: 'keys', metadata: { ...result } });
    return { ...result, recordId: logged.id };
  }

  /** Commits everything accepted so far and publishes a checkpoint covering it. */
  async flush(): Promise<void> {
    await this.writer?.flush();
  }

  /**
   * One retention pass (see `runRetention`): content older than its period, then the oldest
   * envelopes as a prefix of the log, stated first in a `retention` record. Strict boundary: a
   * record is removed when its time is before now minus the period.
   */
  async cleanup(now: number = Date.now()): Promise<RetentionReport> {
    const retention = this.parts.retention;
    if (!retention) throw new LedgerError('no retention is configured for this ledger');
    this.writableWriter();
    // One pass at a time: a scheduled pass and a manual one must not prune the same range twice.
    while (this.cleaning) await this.cleaning.catch(() => undefined);
    this.cleaning = runRetention(
      {
        store: this.parts.store,
        content: this.content,
        config: retention,
        record: (input) => this.ownRecord(input),
        raiseHorizon: (below) => this.writableWriter().raiseHorizon(below),
      },
      now,
    );
    try {
      return await this.cleaning;
    } finally {
      this.cleaning = undefined;
    }
  }

  private scheduleCleanup(intervalMs: number, onWarning: (message: string) => void): void {
    const run = () => {
      this.cleanup().catch((err: Error) => onWarning(`retention cleanup failed (it will be tried again): ${err.message}`));
    };
    setImmediate(run).unref();
    this.cleanupTimer = setInterval(run, intervalMs).unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    if (this.outageTimer) clearInterval(this.outageTimer);
    await this.cleaning?.catch(() => undefined);
    await this.writer?.close();
    await this.parts.store.close();
  }

  /**
   * One record by id. Stores find it through an id column, a copy kept for lookups; what comes
   * back must be the committed envelope of that id, or the column was edited to point elsewhere.
   */
  async get(id: string): Promise<LoggedRecord | undefined> {
    const record = await this.parts.store.getById(id);
    if (record && record.envelope.id !== id) {
      throw new LedgerIntegrityError(
        `the row stored under id ${id} holds record ${record.envelope.id} (index ${record.index}): the stored id was edited; run 'llm-ledger verify'`,
      );
    }
    return record;
  }

  async search(options: SearchOptions = {}): Promise<SearchResult> {
    const { limit = 50, cursor, ...filter } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new LedgerError(`limit must be a whole number from 1 to 1000, got ${limit}`);
    const records = await this.parts.store.search(checkedTimes(filter), { limit, ...(cursor === undefined ? {} : { beforeIndex: decodeCursor(cursor) }) });
    const last = records.at(-1);
    return records.length === limit && last && last.index > 0 ? { records, nextCursor: encodeCursor(last.index) } : { records };
  }

  async trace(traceId: string): Promise<TimelineEntry[]> {
    const records: LoggedRecord[] = [];
    for await (const batch of this.parts.store.scan({ traceId }, 1000)) records.push(...batch);
    return timelineOf(records);
  }

  /** Call statistics (kind `llm.call` unless the filter names another kind). */
  async stats(filter: SearchFilter & { by?: StatsGroup } = {}): Promise<StatsReport> {
    this.refuseEditedCopies();
    const { by, ...rest } = filter;
    if (by !== undefined && !STATS_GROUPS.includes(by)) throw new LedgerError(`stats can be grouped by ${STATS_GROUPS.join(', ')}; got ${by}`);
    const columns = this.parts.store.statsColumns(checkedTimes({ kind: 'llm.call', ...rest }), { batchSize: 4096, ...(by ? { groupBy: by } : {}) });
    return computeStats(columns, by !== undefined);
  }

  /**
   * Whether the copies of the records that stats read (SQLite's call_stats and its blocks) agree
   * with the envelopes; undefined where the store keeps none and stats read the envelopes, which
   * `verify` checks.
   */
  async checkStats(): Promise<StatsCopiesCheck | undefined> {
    await this.writer?.flush();
    const check = await this.parts.store.checkStatsCopies?.();
    this.editedCopies = check?.problems[0];
    return check;
  }

  /** What the last check of the stats copies (verify, checkStats) found wrong with them, if anything. */
  private editedCopies: string | undefined;

  /**
   * Stats and anomalies read copies of the records (SQLite's call_stats) that are checked only by
   * `verify` and `checkStats`, not on every query: once a check found them edited, this ledger
   * says so instead of reporting their figures, until a check passes again.
   */
  private refuseEditedCopies(): void {
    if (this.editedCopies === undefined) return;
    throw new LedgerIntegrityError(
      `the copies of the records that stats read were edited (${this.editedCopies}); their figures are not reported. Run 'llm-ledger verify' and see "Recovery" in docs/threat-model.md`,
    );
  }

  /**
   * Token usage far above its own baseline (per user, model or provider) and error-rate spikes
   * per model, in a window compared with the period before it; see `detectAnomalies`.
   */
  async anomalies(options: AnomalyOptions = {}): Promise<AnomalyReport> {
    this.refuseEditedCopies();
    try {
      return await detectAnomalies((filter, request) => this.parts.store.statsColumns(filter, request), checkedTimes(options));
    } catch (err) {
      if (err instanceof AnomalyOptionsError) throw new LedgerError(err.message);
      throw err;
    }
  }

  /** Every matching record, oldest first, in batches: for exports of any size. */
  async *records(filter: SearchFilter = {}, batchSize = 1000): AsyncIterable<LoggedRecord[]> {
    yield* this.parts.store.scan(checkedTimes(filter), batchSize);
  }

  /** Number of records in the log. */
  size(): Promise<number> {
    return this.parts.store.size();
  }

  async verify(options: { onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
    await this.writer?.flush();
    const report = await verifyLog(this.parts.store, {
      origin: this.parts.origin,
      verifierKey: this.checkpointKey,
      ...(this.parts.anchor ? { anchor: this.parts.anchor } : {}),
      ...options,
    });
    this.editedCopies = report.problems.find((p) => p.kind === 'derived')?.message;
    // A crash's batch that a read-only open neither completes nor cuts: not tampering, but said.
    const pending = recoveringStore(this.parts.store)?.pendingRecovery;
    if (pending) report.warnings.push(pending);
    return report;
  }

  /** A self-contained inclusion proof for one record, checkable offline with `verifyProof`. */
  async prove(id: string): Promise<ProofBundle> {
    const record = await this.get(id);
    if (!record) throw new LedgerError(`no record with id ${id}`);
    if (this.writer && record.index >= this.writer.coveredSize) await this.writer.flush();
    const latest = (await this.parts.store.checkpoints()).at(-1);
    if (!latest || latest.size <= record.index) throw new LedgerError(`record ${id} is not yet covered by a checkpoint`);
    const checkpoint = openCheckpoint(latest.note, this.checkpointKey, this.parts.origin);
    const envelope = canonicalJson(record.envelope);
    const mismatch = () => new LedgerIntegrityError(`the stored log does not match checkpoint ${checkpoint.size}; run 'llm-ledger verify'`);
    // The proof is checked against the signed root before it is handed out: one pass over the
    // leaves, and any stored leaf that changed since signing makes some node of the path differ.
    const proof = await storedInclusionProof(
      record.index,
      checkpoint.size,
      (from, to) => this.parts.store.leafHashes(from, to),
      this.parts.store.leafBatch,
    ).catch((err: Error) => {
      throw err instanceof MerkleError ? mismatch() : err;
    });
    if (!verifyInclusion(leafHashOfText(envelope), record.index, checkpoint.size, proof, checkpoint.root)) throw mismatch();
    return {
      format: PROOF_FORMAT,
      index: record.index,
      treeSize: checkpoint.size,
      envelope,
      inclusionProof: proof.map((h) => h.toString('base64')),
      checkpoint: latest.note,
      verifierKey: this.checkpointKey,
    };
  }

  private writableWriter(): LogWriter {
    if (this.closed) throw new LedgerError('the ledger is closed');
    if (!this.writer) throw this.refusal!;
    return this.writer;
  }
}

/** What a writer resumes from: the tree as stored and checked, and what its newest signed note says. */
interface RestoredLog {
  frontier: MerkleFrontier;
  /** Size covered by the newest stored checkpoint. */
  covered: number;
  /** The pruning horizon the newest signed note states. */
  prunedBelow: number;
  /** Stored checkpoints newer than the anchor's newest: anchored before anything else. */
  unanchored: StoredCheckpoint[];
  /** Records no signed note covers, taken in because an operator accepted them (`acceptUnsealed`). */
  unsealed?: IndexRange[];
  /** The size of the stored signed head as read first; -1 without one (a log from before heads, until its next batch). */
  headSize: number;
}

/**
 * Rebuilds the tree from stored leaf hashes and holds it against everything signed that can be
 * seen: the newest stored checkpoint, the signed head (every row must lie within it: one beyond
 * was not sequenced by a writer of this ledger) and the anchor's newest checkpoint (a store
 * behind it was rolled back or restored from a backup; one that differs from it is a fork).
 * Other processes may append meanwhile: what is signed is read before the size, so it lies within
 * it, and rows past it are held against the head as read again afterwards.
 * Returns why the log cannot be appended to, if it cannot, naming the first index concerned and
 * what resolves it.
 */
async function restoreTree(parts: LedgerParts, verifierKey: string): Promise<RestoredLog | string> {
  const where = parts.store.location;
  const [stored, head] = await Promise.all([parts.store.checkpoints(), parts.store.head()]);
  const anchored = parts.anchor?.read() ?? [];
  const size = await parts.store.size();
  const open = (cp: StoredCheckpoint, what: string): Checkpoint | string => {
    try {
      const checkpoint = openCheckpoint(cp.note, verifierKey, parts.origin);
      return checkpoint.size === cp.size ? checkpoint : `${where}: ${what} is stored with size ${cp.size} but its signed note says ${checkpoint.size}`;
    } catch (err) {
      return `${where}: ${what} does not verify: ${(err as Error).message}`;
    }
  };
  const newestAnchored = anchored.reduce<StoredCheckpoint | undefined>((a, b) => (a && a.size >= b.size ? a : b), undefined);
  const notes: [string, StoredCheckpoint | undefined][] = [
    ['its newest checkpoint', stored.at(-1)],
    ['its signed head', head],
    [`its anchor's newest checkpoint (${parts.anchor?.location})`, newestAnchored],
  ];
  const opened: { what: string; checkpoint: Checkpoint }[] = [];
  for (const [what, cp] of notes) {
    if (!cp) continue;
    const checkpoint = open(cp, what);
    if (typeof checkpoint === 'string') return `${checkpoint}; ${RUN_VERIFY}`;
    opened.push({ what, checkpoint });
  }
  const anchorNewest = newestAnchored ? opened.at(-1)!.checkpoint : undefined;
  // Rolled back or restored from an older backup: appending would fork the anchored log.
  if (anchorNewest && anchorNewest.size > size) {
    return `${where} holds ${size} records but its anchor (${parts.anchor!.location}) has a signed checkpoint of ${anchorNewest.size}: the records from index ${size} are gone (the store was rolled back or restored from an older backup). Appending would fork the log; see "Recovery" in docs/threat-model.md`;
  }
  for (const { what, checkpoint } of opened)
    if (checkpoint.size > size) return `${where} holds ${size} records but ${what} covers ${checkpoint.size}; ${RUN_VERIFY}`;
  // Without a head (a file from before heads), the newest checkpoint is what the writer last signed.
  let sealed = Math.max(0, ...opened.map((o) => o.checkpoint.size));
  // A log from before heads (PostgreSQL) vouched for the batches after its newest checkpoint with batch seals.
  if (!head && size > sealed && parts.store.batchSeals) {
    const { end: sealedEnd } = sealedPrefix(await parts.store.batchSeals(sealed), sealed, await parts.store.leafHashes(sealed, size), {
      verifierKey,
      origin: parts.origin,
    });
    sealed = Math.max(sealed, sealedEnd);
  }
  // Rows past what was signed when it was read: another process's batch, if a head read now covers them.
  if (size > sealed) {
    const newer = await parts.store.head();
    if (newer && newer.size >= size) {
      const checkpoint = open(newer, 'its signed head');
      if (typeof checkpoint === 'string') return `${checkpoint}; ${RUN_VERIFY}`;
      opened.push({ what: 'its signed head', checkpoint });
      sealed = checkpoint.size;
    }
  }
  const end = Math.max(size, sealed);
  const roots = new Map<number, Buffer>();
  const frontier = new MerkleFrontier();
  if (opened.some((o) => o.checkpoint.size === 0)) roots.set(0, frontier.root());
  for await (const leaves of leafChunks((from, to) => parts.store.leafHashes(from, to), 0, end, parts.store.leafBatch)) {
    for (const leaf of leaves) {
      frontier.append(leaf);
      if (opened.some((o) => o.checkpoint.size === frontier.size)) roots.set(frontier.size, frontier.root());
    }
  }
  if (frontier.size !== end) return `${where} holds ${end} records but ${frontier.size} leaf hashes; ${RUN_VERIFY}`;
  // A leaf past the records is one without its record, unless a writer has added both since.
  if ((await parts.store.leafHashes(end, end + 1)).length > 0 && (await parts.store.size()) <= end)
    return `${where} holds ${end} records but more leaf hashes; ${RUN_VERIFY}`;
  for (const { what, checkpoint } of opened) {
    if (!roots.get(checkpoint.size)?.equals(checkpoint.root)) {
      return checkpoint === anchorNewest
        ? `${where} differs from its anchor's checkpoint of size ${checkpoint.size} (${parts.anchor!.location}): the stored log is a fork of the anchored one, at an index below ${checkpoint.size}; see "Recovery" in docs/threat-model.md`
        : `${where} does not match ${what} (size ${checkpoint.size}); ${RUN_VERIFY}`;
    }
  }
  if (size > sealed && !parts.acceptUnsealed) {
    return `${where} holds records from index ${sealed} to ${size - 1} that no signed head or checkpoint covers: they were not sequenced by this ledger's writer (inserted into storage), or were written by a version before signed heads and never checkpointed. Appending would sign them; run 'llm-ledger repair' to see them and decide (see "Recovery" in docs/threat-model.md)`;
  }
  const newestStored = stored.at(-1);
  const anchoredSize = anchorNewest?.size ?? -1;
  return {
    frontier,
    covered: newestStored?.size ?? 0,
    prunedBelow: Math.max(0, ...opened.map((o) => o.checkpoint.prunedBelow ?? 0)),
    unanchored: parts.anchor ? stored.filter((cp) => cp.size > anchoredSize) : [],
    ...(size > sealed ? { unsealed: [{ from: sealed, to: size }] } : {}),
    headSize: head?.size ?? -1,
  };
}

const RUN_VERIFY = "appends are refused until this is investigated (run 'llm-ledger verify')";

/** Whether `note` is a checkpoint of this log under its key. */
function opensAsCheckpoint(note: string, verifierKey: string, origin: string): boolean {
  try {
    openCheckpoint(note, verifierKey, origin);
    return true;
  } catch {
    return false;
  }
}

/**
 * What only the ledger itself writes: a retention record states which records may be missing, an
 * erasure or a content access states what was done to content, a store outage or key rewrap what
 * happened to the ledger. A caller who could write them could forge that account, so `record`
 * refuses them; the ledger writes them through `ownRecord`.
 */
export const RESERVED = {
  kinds: new Set<string>(['content_accessed', 'erasure', 'retention']),
  eventTypes: new Set<string>(['store_outage', 'keys_rewrapped', 'unsealed_accepted', TORN_TAIL_EVENT]),
};

/** A caller's record, validated, and refused if it is one only the ledger may write. */
function callerRecord(input: unknown): RecordInput {
  const record = parseRecordInput(input);
  if (record.kind !== undefined && RESERVED.kinds.has(record.kind)) {
    throw new RecordValidationError([
      { path: 'kind', message: `'${record.kind}' records are written by the ledger itself (${OWN_PATHS[record.kind]}), never through record()` },
    ]);
  }
  if (record.kind === 'event' && record.eventType !== undefined && RESERVED.eventTypes.has(record.eventType)) {
    throw new RecordValidationError([
      { path: 'eventType', message: `'${record.eventType}' events are written by the ledger itself, never through record(); choose another event type` },
    ]);
  }
  return record;
}

const OWN_PATHS: Record<string, string> = {
  content_accessed: 'by reveal()',
  erasure: 'by erase()',
  retention: 'by cleanup()',
};

/** `since`/`until` in the envelope's own form, which stores compare as strings; a bad one is a LedgerError. */
function checkedTimes<T extends { since?: string; until?: string }>(filter: T): T {
  try {
    return withNormalizedTimes(filter);
  } catch (err) {
    if (err instanceof TimeBoundError) throw new LedgerError(err.message);
    throw err;
  }
}

function encodeCursor(index: number): string {
  return Buffer.from(`i:${index}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^i:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new LedgerError('cursor is not one this ledger issued; pass the nextCursor of a previous search unchanged');
  return Number(match[1]);
}
