import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import type { Ledger } from '../../ledger/ledger.js';
import { openLedger } from '../../ledger/open-ledger.js';
import { sampleCall, tempDir } from '../../ledger/test-support/fixtures.js';
import { PrivateCluster, privateClusterUnavailable } from '../test-support/private-cluster.js';

const unavailable = privateClusterUnavailable();

/** Calls recorded by `workers` concurrent loops until stopped; every outcome is kept by request id. */
class Load {
  readonly acknowledged = new Set<string>();
  readonly spooled = new Set<string>();
  readonly rejected = new Set<string>();
  private running = true;
  private next = 0;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly ledger: Ledger,
    workers: number,
  ) {
    this.loops = Array.from({ length: workers }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const i = this.next++;
      const requestId = `req-${i}`;
      try {
        const receipt = await this.ledger.record(sampleCall(i, { requestId }));
        this.acknowledged.add(requestId);
        if (receipt.spooled) this.spooled.add(requestId);
      } catch {
        this.rejected.add(requestId);
        // Failing closed answers at once; a real client would back off before trying again.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** Waits until `done` holds, checking every 10 ms, for at most `ms`. */
  async until(done: () => boolean, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(
          `load: condition not met within ${ms} ms (acknowledged ${this.acknowledged.size}, spooled ${this.spooled.size}, rejected ${this.rejected.size})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** The request ids of every call in the log, duplicates included. */
async function storedRequestIds(ledger: Ledger): Promise<string[]> {
  const ids: string[] = [];
  for await (const batch of ledger.records({ kind: 'llm.call' })) ids.push(...batch.map((r) => r.envelope.requestId));
  return ids;
}

describe.skipIf(unavailable !== undefined)(`outages of a private PostgreSQL cluster${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await PrivateCluster.create();
  }, 60_000);
  afterAll(() => cluster?.destroy());

  function open(schema: string, options: { spoolFile?: string } = {}): Promise<Ledger> {
    const config = configSchema(tempDir()).parse({
      store: { type: 'postgres', url: cluster.url, schema },
      log: { signing_key_file: 'signing.key', checkpoint_interval_ms: 200, anchor: { path: 'anchor' } },
      digest: { key_file: 'digest.key' },
    });
    return openLedger(config, { ...options, retryIntervalMs: 100, onWarning: () => undefined });
  }

  it('spooling: the cluster stops and restarts mid-load; nothing acknowledged is lost, the log verifies, the spool ends empty', async () => {
    const spoolFile = join(tempDir(), 'ledger.spool');
    const ledger = await open('spooled', { spoolFile });
    const load = new Load(ledger, 8);
    await load.until(() => load.acknowledged.size >= 300);
    await cluster.stop('fast');
    // While it is down, calls are acknowledged from the spool.
    await load.until(() => load.spooled.size >= 200);
    expect(ledger.storeHealth().available).toBe(false);
    await cluster.start();
    const before = load.acknowledged.size;
    await load.until(() => load.acknowledged.size >= before + 300 && ledger.storeHealth().available);
    // The load's closed loop is acknowledged as fast as the spool file takes records, so on a busy
    // machine it can outpace the replay into the cluster: the spool is drained once the load stops.
    await load.stop();
    await load.until(() => ledger.storeHealth().spooled === 0);
    await ledger.flush();

    const stored = await storedRequestIds(ledger);
    expect(new Set(stored).size).toBe(stored.length);
    expect(new Set(stored)).toEqual(load.acknowledged);
    expect(load.rejected.size).toBe(0);
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(ledger.storeHealth()).toMatchObject({ available: true, spooled: 0 });
    await ledger.close();
    expect(statSync(spoolFile).size).toBe(0);
  }, 120_000);

  it('failing closed: calls are refused while the cluster is down and taken again after it restarts; nothing acknowledged is lost', async () => {
    const ledger = await open('closed');
    const load = new Load(ledger, 8);
    await load.until(() => load.acknowledged.size >= 300);
    await cluster.stop('fast');
    await load.until(() => load.rejected.size >= 20);
    expect(ledger.storeHealth().available).toBe(false);
    await cluster.start();
    const before = load.acknowledged.size;
    await load.until(() => load.acknowledged.size >= before + 300);
    await load.stop();
    await ledger.flush();

    const stored = await storedRequestIds(ledger);
    expect(new Set(stored).size).toBe(stored.length);
    for (const id of load.acknowledged) expect(stored).toContain(id);
    // A refused call is not in the log, unless its commit went through and only the answer was lost.
    for (const id of stored) expect(load.acknowledged.has(id) || load.rejected.has(id)).toBe(true);
    expect(load.spooled.size).toBe(0);
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    // The outage itself is on record once the store is back.
    await load.until(() => ledger.storeHealth().available);
    await ledger.close();
  }, 120_000);
});
