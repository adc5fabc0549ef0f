import type pg from 'pg';
import type { Anchor } from '../log/anchor.js';
import { openCheckpoint, type Checkpoint, type NoteSigner } from '../log/checkpoint.js';
import { sealedPrefix } from '../log/batch-seal.js';
import { MerkleFrontier } from '../log/merkle.js';
import { readSeals } from './postgres-seals.js';
import { failureReason, openSessionClient, type PostgresOptions, type PostgresSession } from './postgres-connection.js';
import { StoreError } from './store.js';

export interface IntegratorOptions {
  signer: NoteSigner;
  origin: string;
  anchor?: Anchor;
  /** How often the integrator extends the tree and, when it grew, signs a checkpoint (floored at 20 ms). */
  intervalMs: number;
  onWarning: (message: string) => void;
  /** How often a process that is not the integrator tries to become it (default 500 ms): the takeover delay. */
  electionIntervalMs?: number;
  /** How long `covered` waits for a checkpoint before giving up (default 30 s, or three intervals if longer). */
  coverTimeoutMs?: number;
}

/** Leaf hashes read per query while the tree is rebuilt or extended (and by `prove`, see PostgresStore). */
export const LEAF_BATCH = 50_000;
const MIN_INTERVAL_MS = 20;

/**
 * The integrator of a log that many processes append to. Writers number and store their records
 * themselves (see `numberedInsertQuery`); exactly one process at a time, the holder of a session
 * advisory lock on the schema, extends the Merkle tree over the stored leaf hashes in index order
 * and signs checkpoints of it. Every writable process runs one of these and tries for the lock
 * every `electionIntervalMs`; when the integrator's process or connection dies, PostgreSQL drops
 * the lock with the session and the next try elsewhere takes over. The new integrator rebuilds
 * the tree from the leaves and checks it against the newest checkpoint before it signs anything,
 * exactly as a single-writer ledger does at open. Its checkpoints go over the same connection as
 * its lock, so an integrator that lost the lock cannot store one.
 */
export class PostgresIntegrator {
  private client: pg.Client | undefined;
  /** The tree while this process is the integrator. */
  private frontier: MerkleFrontier | undefined;
  /** Size of the newest checkpoint this process knows of. */
  private checkpointed = 0;
  /** The pruning horizon the integrator signs: from the newest checkpoint, raised by the retention records it integrates. */
  private prunedBelow = 0;
  /** Why this integrator signs nothing: the stored log contradicts its own newest checkpoint. */
  private refusal: string | undefined;
  private step_: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private anchoring: Promise<void> = Promise.resolve();
  private closed = false;
  private lastWarning = '';
  /** The lock is (hashtext('llm-ledger:integrator'), hashtext(schema)): in pg_locks, classid and objid with objsubid 2. */
  private readonly lockKey: string;

  constructor(
    private readonly connection: PostgresOptions,
    private readonly db: PostgresSession,
    private readonly options: IntegratorOptions,
  ) {
    this.lockKey = connection.schema;
    this.schedule(0);
  }

  /** Whether this process is the integrator now. */
  get integrating(): boolean {
    return this.frontier !== undefined;
  }

  /** Size covered by the newest checkpoint this process has seen or signed. */
  get coveredSize(): number {
    return this.checkpointed;
  }

  /**
   * Resolves once a checkpoint covers the first `size` records. The integrator signs one at once;
   * any other process waits for the integrator's next round (at most `intervalMs`, plus a takeover).
   */
  async covered(size: number): Promise<void> {
    const limit = this.options.coverTimeoutMs ?? Math.max(30_000, 3 * this.options.intervalMs);
    const deadline = Date.now() + limit;
    for (;;) {
      if (this.checkpointed >= size) return;
      if (this.refusal) throw new StoreError(this.refusal);
      if (this.integrating) await this.step();
      else await this.readCovered();
      if (this.checkpointed >= size) return;
      if (this.closed) throw new StoreError(`the ledger closed before a checkpoint covered ${size} records`);
      if (Date.now() > deadline) {
        throw new StoreError(`no checkpoint of ${this.db.location} covers its first ${size} records after ${limit / 1000} s: no process is integrating the log (every writable ledger takes part in the election; see its warnings)`);
      }
      await new Promise((resolve) => setTimeout(resolve, MIN_INTERVAL_MS));
    }
  }

  /**
   * Signs a last checkpoint, then gives the lock up for another process to take. A process that is
   * not the integrator takes the lock for that last round when records lie beyond the newest
   * checkpoint and the lock is free, so the last process of a fleet to stop leaves none uncovered.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.step_?.catch(() => undefined);
    try {
      if (!this.integrating && !this.refusal && (await this.uncovered())) await this.elect(true);
      if (this.integrating) await this.round();
    } catch (err) {
      this.warn(`the integrator's last round failed: ${failureReason(err, this.connection)}`);
    }
    await this.anchoring;
    await this.drop();
  }

  private async uncovered(): Promise<boolean> {
    const s = this.db.s;
    const { rows } = await this.db.pool.query<{ behind: boolean }>(`SELECT (SELECT size FROM ${s}.log_head) > (SELECT coalesce(max(size), 0) FROM ${s}.checkpoints) AS behind`);
    return rows[0]?.behind === true;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.step().finally(() => this.schedule(this.integrating ? Math.max(MIN_INTERVAL_MS, this.options.intervalMs) : (this.options.electionIntervalMs ?? 500)));
    }, delayMs);
    this.timer.unref();
  }

  /** One election attempt or one round; never two at once. */
  private step(): Promise<void> {
    this.step_ ??= (async () => {
      try {
        if (!this.integrating) await this.elect();
        if (this.integrating) await this.round();
      } catch (err) {
        this.warn(`the log integrator stopped (another process, or this one, takes over): ${failureReason(err, this.connection)}`);
        await this.drop();
      } finally {
        this.step_ = undefined;
      }
    })();
    return this.step_;
  }

  private async elect(closing = false): Promise<void> {
    if ((this.closed && !closing) || this.refusal) return;
    await this.db.ready();
    if (!this.client) {
      const client = openSessionClient(this.connection, this.db.roles.writer);
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      this.client = client;
    }
    const { rows } = await this.client.query<{ won: boolean }>(`SELECT pg_try_advisory_lock(hashtext('llm-ledger:integrator'), hashtext($1)) AS won`, [this.lockKey]);
    if (rows[0]?.won !== true) return;
    this.lastWarning = '';
    this.frontier = await this.restore(this.client);
    // Refused: the lock goes back, to a process that may see the log otherwise (one with the right
    // key), and this one stops trying; its flush and close fail with the reason.
    if (!this.frontier) await this.drop();
  }

  /**
   * The tree over every stored leaf, held against the newest checkpoint. A log that contradicts
   * it is never signed again, which would bury the damage under a fresh signature.
   */
  private async restore(client: pg.Client): Promise<MerkleFrontier | undefined> {
    const newest = await client.query<{ size: number; note: string }>(`SELECT size, note FROM ${this.db.s}.checkpoints ORDER BY seq DESC LIMIT 1`);
    const anchored = this.options.anchor?.read().reduce<{ size: number; note: string } | undefined>((a, b) => (a && a.size >= b.size ? a : b), undefined);
    // The newest stored checkpoint, and the anchor's: the tree is rebuilt to the larger and held against both.
    const signed: { what: string; checkpoint: Checkpoint }[] = [];
    for (const [what, cp] of [['its newest checkpoint', newest.rows[0]], [`its anchor's newest checkpoint (${this.options.anchor?.location})`, anchored]] as const) {
      if (!cp) continue;
      try {
        signed.push({ what, checkpoint: openCheckpoint(cp.note, this.options.signer.verifierKey, this.options.origin) });
      } catch (err) {
        return this.refuse(`${what} of ${this.db.location} does not verify: ${(err as Error).message}`);
      }
    }
    const target = Math.max(0, ...signed.map((s) => s.checkpoint.size));
    const frontier = new MerkleFrontier();
    const roots = new Map<number, Buffer>([[0, frontier.root()]]);
    // Up to the newest signed size; what lies beyond is integrated by rounds, batch seal by batch seal.
    while (frontier.size < target) {
      const leaves = await this.readLeaves(client, frontier.size, target - frontier.size);
      if (leaves.length === 0) break;
      for (const leaf of leaves) {
        frontier.append(leaf);
        if (signed.some((s) => s.checkpoint.size === frontier.size)) roots.set(frontier.size, frontier.root());
      }
    }
    for (const { what, checkpoint } of signed) {
      if (frontier.size < checkpoint.size) {
        return this.refuse(
          `${this.db.location} holds ${frontier.size} records but ${what} covers ${checkpoint.size}: the records from index ${frontier.size} are gone (rolled back, or restored from an older backup); no checkpoint is signed over a fork of it (see "Recovery" in docs/threat-model.md)`,
        );
      }
      if (!roots.get(checkpoint.size)!.equals(checkpoint.root)) {
        return this.refuse(`${this.db.location} does not match ${what} (size ${checkpoint.size}); appends go on but no checkpoint is signed until this is investigated (run 'llm-ledger verify')`);
      }
      this.prunedBelow = Math.max(this.prunedBelow, checkpoint.prunedBelow ?? 0);
    }
    this.checkpointed = Math.max(this.checkpointed, newest.rows[0]?.size ?? 0);
    return frontier;
  }

  /** The leaf hashes stored from `from` on, in index order, up to `max` (and `limit`). */
  private async readLeaves(client: pg.Client, from: number, max: number, limit = LEAF_BATCH): Promise<Buffer[]> {
    const { rows } = await client.query<[number, Buffer]>({
      text: `SELECT idx, hash FROM ${this.db.s}.leaves WHERE idx >= $1 ORDER BY idx LIMIT $2`,
      values: [from, Math.min(max, limit)],
      rowMode: 'array',
    });
    rows.forEach(([idx], i) => {
      // Writers commit in index order (the log head's lock), so what is visible is a contiguous prefix.
      if (idx !== from + i) throw new StoreError(`the leaves of ${this.db.location} skip from index ${from + i} to ${idx}`);
    });
    return rows.map(([, hash]) => hash);
  }

  /**
   * Appends the leaves stored after the tree's end, as far as batch seals cover them; returns
   * how many. A row that no valid seal covers was not stored by a writer of this ledger: nothing
   * from it on is integrated or signed, and the integrator refuses from then on.
   */
  private async extend(client: pg.Client, frontier: MerkleFrontier): Promise<number> {
    const from = frontier.size;
    const key = { verifierKey: this.options.signer.verifierKey, origin: this.options.origin };
    let leaves = await this.readLeaves(client, from, LEAF_BATCH);
    if (leaves.length === 0) return 0;
    const seals = await readSeals(client, this.db.s, from, from + leaves.length);
    let sealed = sealedPrefix(seals, from, leaves, key);
    // A batch larger than one read of leaves: read it whole (writer.max_batch bounds it).
    if (sealed.end === from && sealed.needsLeavesTo !== undefined) {
      leaves = await this.readLeaves(client, from, sealed.needsLeavesTo - from, sealed.needsLeavesTo - from);
      sealed = sealedPrefix(seals, from, leaves, key);
    }
    const { end, problem } = sealed;
    for (const leaf of leaves.slice(0, end - from)) frontier.append(leaf);
    if (problem) {
      this.refuse(
        `${this.db.location}: ${problem}, so it was not stored by a writer of this ledger (inserted into the database, or by a version before batch seals): no checkpoint is signed over it or anything after it; run 'llm-ledger verify', then 'llm-ledger repair' (see "Recovery" in docs/threat-model.md)`,
      );
    }
    return end - from;
  }

  /** Adds what writers stored since the last round and, when the tree grew, signs and stores a checkpoint. */
  private async round(): Promise<void> {
    const client = this.client!;
    const frontier = this.frontier!;
    const from = frontier.size;
    while (!this.refusal && (await this.extend(client, frontier)) > 0);
    if (frontier.size > this.checkpointed) await this.sign(client, frontier, from);
    // Refused: the lock goes back, so a process that repairs the log (`llm-ledger repair`) can integrate it.
    if (this.refusal) await this.drop();
  }

  /** Signs and stores a checkpoint of the tree, with the horizon the retention records since `from` raise. */
  private async sign(client: pg.Client, frontier: MerkleFrontier, from: number): Promise<void> {
    const size = frontier.size;
    this.prunedBelow = Math.max(this.prunedBelow, await this.statedHorizon(client, from, size));
    const note = this.options.signer.sign({ origin: this.options.origin, size, root: frontier.root(), prunedBelow: this.prunedBelow });
    await client.query(`INSERT INTO ${this.db.s}.checkpoints (size, note) SELECT $1::bigint, $2::text WHERE $1::bigint > (SELECT coalesce(max(size), 0) FROM ${this.db.s}.checkpoints)`, [size, note]);
    this.checkpointed = size;
    const anchor = this.options.anchor;
    if (anchor) {
      this.anchoring = this.anchoring.then(() =>
        anchor.publish({ size, note }).catch((err: Error) => this.warn(`checkpoint of size ${size} was stored but not anchored: ${err.message}`)),
      );
    }
  }

  /**
   * The highest horizon the `retention` records among [from, to) state: the process that pruned
   * wrote one before deleting anything and waits for a checkpoint over it, which then says so.
   */
  private async statedHorizon(client: pg.Client, from: number, to: number): Promise<number> {
    const { rows } = await client.query<{ below: string | null }>(
      `SELECT max((envelope #>> '{metadata,envelopes,below}')::bigint) AS below FROM ${this.db.s}.records WHERE idx >= $1 AND idx < $2 AND envelope ->> 'kind' = 'retention'`,
      [from, to],
    );
    return Math.min(Number(rows[0]?.below ?? 0), to);
  }

  private async readCovered(): Promise<void> {
    try {
      await this.db.ready();
      const { rows } = await this.db.pool.query<{ size: number }>(`SELECT coalesce(max(size), 0) AS size FROM ${this.db.s}.checkpoints`);
      this.checkpointed = Math.max(this.checkpointed, rows[0]!.size);
    } catch {
      // The store is failing: the writer's own failure handling reports it.
    }
  }

  private refuse(reason: string): undefined {
    this.refusal = reason;
    this.warn(reason);
    return undefined;
  }

  /** Ends the session, and with it the lock, if it holds one. */
  private async drop(): Promise<void> {
    this.frontier = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The same failure every round is said once, until something else happens. */
  private warn(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.options.onWarning(message);
  }
}
