// Runs in a worker thread: SQLite's writes are synchronous, so they live off the thread that
// serves traffic and prepares records. Every write of the store in this process comes here, so one
// connection does all its writing; other processes may write the same file, each batch waiting
// for SQLite's write lock. Project modules are imported dynamically, by the extension this file
// runs with, so it runs from the TypeScript sources (tests) as well as from the build.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type * as SequencerModule from '../../log/sequencer.js';
import type * as StatsBlocks from './sqlite-stats-blocks.js';

interface ContentRows {
  /** Position in the batch of the record each item belongs to. */
  at: number[];
  ts: string[];
  mode: string[];
  subject: string[];
  /** Every item's bytes, one after another; item j ends at ends[j]. */
  bytes: Uint8Array;
  ends: number[];
}

interface AppendMessage {
  op: 'append';
  /** The log's signer key and origin, for the Sequencer that numbers the batch and signs the head. */
  log: { signerKey: string; origin: string };
  ids: string[];
  envelopes: string[];
  leaves: Uint8Array;
  /** A tree to extend instead of the stored head's (see Sequencer.adopt). */
  adopt?: string;
  /** Keep the new head as a checkpoint too. */
  checkpoint: boolean;
  raiseHorizon?: number;
  /** Leave out records already stored (by id), answered with index -1 (see AppendRequest.replayed). */
  replayed?: boolean;
  content?: ContentRows;
}

/** What an append answers (the Store's `Appended`). */
interface Appended {
  indexes: number[];
  head: { size: number; note: string };
  checkpoint?: { size: number; note: string };
}

type WriteMessage =
  | AppendMessage
  | { op: 'deleteContent'; subject?: string; before?: string; limit: number }
  | { op: 'addKey' | 'replaceKey'; subject: string; version: number; kekId: string; wrapped: Uint8Array }
  | { op: 'destroyKeys'; subject: string }
  | { op: 'prune'; below: number; limit: number };

const { file, statsBlockCalls, walProgress, restartFrames, restartWithinMs } = workerData as {
  file: string;
  statsBlockCalls: number;
  walProgress: SharedArrayBuffer;
  restartFrames: number;
  restartWithinMs: number;
};
// The layout sqlite-writer.ts gives `walProgress`: the checkpointer's passes, and of the last, the
// WAL's length in frames and when it started (Date.now()); and this thread's commits so far.
const WAL_PASSES = 0;
const WAL_FRAMES = 1;
const PASS_STARTED = 2;
const COMMITS = 3;
const checkpointer = new BigInt64Array(walProgress);
const port = parentPort!;
const db = new DatabaseSync(file);
// The checkpointer thread (sqlite-checkpointer-worker.ts) copies the WAL back, not the commits.
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;');
// Erased content and destroyed keys are overwritten with zeros, not left in free pages.
db.exec('PRAGMA secure_delete = ON;');
// Statement journals (an insert that fires triggers may have to undo itself) stay in memory: on
// disk, every few commits created and deleted a file in /var/tmp.
db.exec('PRAGMA temp_store = MEMORY;');
const insertRecord = db.prepare('INSERT INTO records (idx, id, envelope) VALUES (?, ?, ?)');
const insertLeaf = db.prepare('INSERT INTO leaves (idx, hash) VALUES (?, ?)');
const insertCheckpoint = db.prepare('INSERT INTO checkpoints (size, note) VALUES (?, ?)');
const readHead = db.prepare('SELECT size, note, frontier FROM head');
const replaceHead = db.prepare(
  'INSERT INTO head (one, size, note, frontier) VALUES (1, ?, ?, ?) ON CONFLICT (one) DO UPDATE SET size = excluded.size, note = excluded.note, frontier = excluded.frontier',
);
const isStored = db.prepare('SELECT 1 FROM records WHERE id = ?');
const leavesBelow = db.prepare('SELECT hash FROM leaves WHERE idx < ? ORDER BY idx');
const insertContent = db.prepare('INSERT INTO content (idx, mode, record_id, subject, ts, data) VALUES (?, ?, ?, ?, ?, ?)');
const deleteBySubject = db.prepare('DELETE FROM content WHERE rowid IN (SELECT rowid FROM content WHERE subject = ? ORDER BY idx LIMIT ?)');
const deleteBefore = db.prepare('DELETE FROM content WHERE rowid IN (SELECT rowid FROM content WHERE ts < ? ORDER BY ts LIMIT ?)');
const erasedThrough = db.prepare('SELECT erased_through AS v FROM erased_subjects WHERE subject = ?');
const insertKey = db.prepare('INSERT OR IGNORE INTO data_keys (subject, version, kek_id, wrapped) VALUES (?, ?, ?, ?)');
const updateKey = db.prepare('UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE subject = ? AND version = ?');
const highestKey = db.prepare('SELECT count(*) AS n, max(version) AS v FROM data_keys WHERE subject = ?');
const markErased = db.prepare(
  'INSERT INTO erased_subjects (subject, erased_through) VALUES (?, ?) ON CONFLICT(subject) DO UPDATE SET erased_through = max(erased_through, excluded.erased_through)',
);
const deleteKeys = db.prepare('DELETE FROM data_keys WHERE subject = ?');
const horizon = db.prepare('SELECT coalesce(max(below), 0) AS below FROM pruned');
const raiseHorizon = db.prepare('INSERT INTO pruned (below) VALUES (?)');
const pruneRecords = db.prepare('DELETE FROM records WHERE idx IN (SELECT idx FROM records WHERE idx < ? ORDER BY idx LIMIT ?)');
const statsBlocks = await statsBlockWriter();
const { Sequencer } = await projectModule<typeof SequencerModule>('../../log/sequencer');
/** One per log key (in practice one): each keeps the tree of the head it signed last. */
const sequencers = new Map<string, SequencerModule.Sequencer>();
let catchingUp = false;
let closed = false;

/**
 * A project module, from the build or, in tests, from the TypeScript sources beside this file:
 * there Node strips the types, and the hook maps the modules' own `./x.js` imports to `./x.ts`.
 */
async function projectModule<T>(path: string): Promise<T> {
  const fromSources = import.meta.url.endsWith('.ts');
  if (fromSources) await import(new URL('../../ledger/test-support/ts-hooks.ts', import.meta.url).href);
  return (await import(new URL(`${path}${fromSources ? '.ts' : '.js'}`, import.meta.url).href)) as T;
}

/** Packs the stats blocks of calls as they are appended; absent in a file without call_stats. */
async function statsBlockWriter(): Promise<StatsBlocks.StatsBlockWriter | undefined> {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'call_stats_blocks'").get()) return undefined;
  const { StatsBlockWriter } = await projectModule<typeof StatsBlocks>('./sqlite-stats-blocks');
  return new StatsBlockWriter(db, statsBlockCalls);
}

function sequencerOf(log: AppendMessage['log']): SequencerModule.Sequencer {
  const key = `${log.origin}\n${log.signerKey}`;
  let sequencer = sequencers.get(key);
  if (!sequencer) sequencers.set(key, (sequencer = new Sequencer(log.signerKey, log.origin)));
  return sequencer;
}

/**
 * Packs the blocks of calls that are due (see StatsBlockWriter), one step a turn, so an append
 * that arrives meanwhile waits for one step at most; also those of a file from before blocks, or
 * after retention removed some.
 */
function catchUpStatsBlocks(): void {
  if (catchingUp || !statsBlocks?.due) return;
  catchingUp = true;
  setImmediate(() => {
    catchingUp = false;
    try {
      if (!closed && statsBlocks.step(transaction)) catchUpStatsBlocks();
    } catch {
      // The write lock stayed busy (another process writing): the next append tries again.
    }
  });
}
catchUpStatsBlocks();

function transaction<T>(work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    // Wakes the checkpointer, which sleeps while nothing is committed.
    Atomics.add(checkpointer, COMMITS, 1n);
    Atomics.notify(checkpointer, COMMITS);
    return result;
  } catch (err) {
    // On a full disk or an I/O error SQLite may have rolled the transaction back itself; the
    // ROLLBACK's own complaint ("no transaction is active") would then hide the cause.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Batches in one transaction: those that queued up while the last commit was slow share its
 * successor, and one signed head, sequenced where the log ends inside the transaction, which
 * holds SQLite's write lock: after the batches of every other process that wrote before. (One
 * signature for all: a head signed for each would lengthen exactly the slow commits.)
 */
function append(batches: readonly AppendMessage[]): Appended[] {
  const answers = transaction(() => {
    const stored = readHead.get() as { size: number; note: string; frontier: string | null } | undefined;
    // The positions of a replayed batch's records not stored yet; undefined: every record (the common case, with no copying).
    const fresh = batches.map((m) => (m.replayed ? m.ids.flatMap((id, i) => (isStored.get(id) ? [] : [i])) : undefined));
    const leaves = batches.length === 1 && !fresh[0] ? batches[0]!.leaves : freshLeaves(batches, fresh);
    const sequencer = sequencerOf(batches[0]!.log);
    for (const m of batches) if (m.adopt) sequencer.adoptJSON(m.adopt);
    const raiseHorizon = Math.max(0, ...batches.map((m) => m.raiseHorizon ?? 0));
    // A head from before frontiers were kept (or none, in a file from before heads): the tree is rebuilt once.
    const { first, head } = sequencer.sequence(stored, leaves, { raiseHorizon, storedLeaves: storedLeafHashes(stored?.size) });
    let next = first;
    const signed = { size: head.size, note: head.note };
    const answers = batches.map((m, b): Appended => {
      const positions = fresh[b];
      const count = positions?.length ?? m.ids.length;
      const indexes = new Array<number>(m.ids.length).fill(-1);
      for (let k = 0; k < count; k++) {
        const i = positions ? positions[k]! : k;
        indexes[i] = next;
        insertRecord.run(next, m.ids[i]!, m.envelopes[i]!);
        insertLeaf.run(next++, m.leaves.subarray(i * 32, i * 32 + 32));
      }
      const c = m.content;
      if (c) {
        for (let j = 0, start = 0; j < c.at.length; start = c.ends[j++]!) {
          const record = indexes[c.at[j]!]!;
          if (record !== -1) insertContent.run(record, c.mode[j]!, m.ids[c.at[j]!]!, c.subject[j]!, c.ts[j]!, c.bytes.subarray(start, c.ends[j]!));
        }
      }
      if (count > 0) statsBlocks?.appended(next - count);
      return m.checkpoint ? { indexes, head: signed, checkpoint: signed } : { indexes, head: signed };
    });
    if (batches.some((m) => m.checkpoint)) insertCheckpoint.run(signed.size, signed.note);
    replaceHead.run(head.size, head.note, head.frontier);
    return answers;
  });
  catchUpStatsBlocks();
  return answers;
}

/** The leaf hashes of the records to store, one after another (`fresh`: see append). */
function freshLeaves(batches: readonly AppendMessage[], fresh: readonly (number[] | undefined)[]): Uint8Array {
  const leaves = new Uint8Array(batches.reduce((n, m, b) => n + (fresh[b]?.length ?? m.ids.length), 0) * 32);
  let at = 0;
  batches.forEach((m, b) => {
    const positions = fresh[b];
    if (!positions) {
      leaves.set(m.leaves, at);
      at += m.leaves.length;
    } else for (const i of positions) leaves.set(m.leaves.subarray(i * 32, i * 32 + 32), (at += 32) - 32);
  });
  return leaves;
}

/** The stored leaf hashes below `size` (all of them without a head), in index order. */
function storedLeafHashes(size = Number.MAX_SAFE_INTEGER): () => Iterable<Uint8Array> {
  return function* () {
    for (const row of leavesBelow.iterate(size)) yield (row as { hash: Uint8Array }).hash;
  };
}

const copyRest = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let passesSeen = 0n;

/**
 * SQLite starts the WAL over only once every frame in it is copied back, which the checkpointer
 * never achieves while commits go on. So when its last pass left a long WAL, the writer, between
 * two transactions, copies the frames written since that pass began: only this thread writes, so
 * that copies every frame, and the next commit starts the WAL from the beginning. Only right after
 * a pass, while that is a few hundred frames (a millisecond or two); a pass that took longer (the
 * checkpointer starved of CPU) leaves it to the next. A FULL checkpoint from the checkpointer's
 * connection did this job before and held commits back for 20 ms while the two connections' locks
 * took turns.
 */
function restartLongWal(): void {
  const passes = Atomics.load(checkpointer, WAL_PASSES);
  if (passes === passesSeen) return;
  passesSeen = passes;
  if (Atomics.load(checkpointer, WAL_FRAMES) < restartFrames || Date.now() - Number(Atomics.load(checkpointer, PASS_STARTED)) > restartWithinMs) return;
  copyRest.get();
}

function write(m: Exclude<WriteMessage, AppendMessage>): unknown {
  switch (m.op) {
    case 'deleteContent':
      return Number(transaction(() => (m.subject !== undefined ? deleteBySubject.run(m.subject, m.limit) : deleteBefore.run(m.before!, m.limit))).changes);
    case 'addKey':
      return transaction(() => {
        const erased = (erasedThrough.get(m.subject) as { v: number } | undefined)?.v ?? 0;
        return m.version > erased && Number(insertKey.run(m.subject, m.version, m.kekId, m.wrapped).changes) === 1;
      });
    case 'replaceKey':
      return Number(transaction(() => updateKey.run(m.kekId, m.wrapped, m.subject, m.version)).changes) === 1;
    case 'prune': {
      const pruned = transaction(() => {
        if (m.below > (horizon.get() as { below: number }).below) raiseHorizon.run(m.below);
        const deleted = Number(pruneRecords.run(m.below, m.limit).changes);
        statsBlocks?.recount();
        return deleted;
      });
      catchUpStatsBlocks();
      return pruned;
    }
    case 'destroyKeys':
      return transaction(() => {
        const { n, v } = highestKey.get(m.subject) as { n: number; v: number | null };
        if (v !== null) markErased.run(m.subject, v);
        deleteKeys.run(m.subject);
        return n;
      });
  }
}

type Incoming = (WriteMessage & { seq: number }) | 'close';

function close(): void {
  closed = true;
  db.close();
  port.close();
}

/** Answers each message of a step: its own value (`run` gives one per message), or the error that failed them all. */
function answer(messages: readonly { seq: number }[], run: () => readonly unknown[]): void {
  try {
    const values = run();
    messages.forEach((m, i) => port.postMessage({ seq: m.seq, ok: true, value: values[i] }));
  } catch (err) {
    for (const m of messages) port.postMessage({ seq: m.seq, ok: false, message: (err as Error).message });
  }
}

/**
 * Appends waiting behind this one (sent while a commit was slow) are taken now, so they share one
 * transaction and one fsync instead of queueing for a commit each; the first other message
 * after them is handled after them, in order.
 */
function takeQueuedAppends(first: AppendMessage & { seq: number }): { appends: (AppendMessage & { seq: number })[]; next?: Incoming } {
  const appends = [first];
  for (let queued = receiveMessageOnPort(port); queued; queued = receiveMessageOnPort(port)) {
    const m = queued.message as Incoming;
    // One signed head a transaction: an append of another log (key, origin) starts the next one.
    if (m === 'close' || m.op !== 'append' || m.log.signerKey !== first.log.signerKey || m.log.origin !== first.log.origin) return { appends, next: m };
    appends.push(m);
  }
  return { appends };
}

function handle(m: Incoming): void {
  if (m === 'close') return close();
  if (m.op !== 'append') return answer([m], () => [write(m)]);
  const { appends, next } = takeQueuedAppends(m);
  answer(appends, () => append(appends));
  if (next !== undefined) handle(next);
}

port.on('message', (m: Incoming) => {
  handle(m);
  if (closed) return;
  try {
    restartLongWal();
  } catch {
    // Not this time (the file going away, a checkpoint that failed): the checkpointer's next pass gives another chance.
  }
});
