import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLedger } from '../../ledger/open-ledger.js';
import { tempDir } from '../../ledger/test-support/fixtures.js';
import { startFakeUpstream, type FakeUpstream } from '../../providers/simulated/fake-upstream.js';
import { TEST_DATABASE_URL, TestSchemas, withClient } from '../test-support/postgres.js';
import { builtBinaryMissing, CallLoad, logContents, startServe, writeSharedConfig, type GatewayProcess } from '../test-support/postgres-gateways.js';

const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());
const missing = builtBinaryMissing();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** For a failure message: leaves whose record row is missing, the newest checkpoints and the pruning horizon. */
async function unmatchedLeaves(schema: string): Promise<string> {
  return withClient(async (c) => {
    const missing = await c.query(
      `SELECT l.idx, l.ts FROM "${schema}".leaves l WHERE NOT EXISTS (SELECT 1 FROM "${schema}".records r WHERE r.idx = l.idx) ORDER BY l.idx LIMIT 20`,
    );
    const checkpoints = await c.query(`SELECT seq, size FROM "${schema}".checkpoints ORDER BY seq DESC LIMIT 5`);
    const pruned = await c.query(`SELECT max(below) AS below FROM "${schema}".pruned`);
    return `leaves without records: ${JSON.stringify(missing.rows)}; newest checkpoints: ${JSON.stringify(checkpoints.rows)}; pruned below: ${pruned.rows[0].below ?? 0}`;
  });
}

describe.skipIf(missing !== undefined)(`four gateway processes on one PostgreSQL log${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let fake: FakeUpstream;
  let gateways: GatewayProcess[] = [];
  beforeEach(async () => {
    fake = await startFakeUpstream();
  });
  afterEach(async () => {
    for (const g of gateways) if (g.child.exitCode === null) g.child.kill('SIGKILL');
    gateways = [];
    await fake.close();
  });

  /** Four `llm-ledger serve` processes sharing one schema and keys; the schema and keys are made first, once. */
  async function startFour(): Promise<{ dir: string; config: string; schema: string }> {
    const dir = tempDir();
    const schema = schemas.next();
    const config = writeSharedConfig(dir, TEST_DATABASE_URL, schema, fake.url);
    await (await openLedger(config, { onWarning: () => undefined })).close();
    gateways = await Promise.all([0, 1, 2, 3].map(() => startServe(dir)));
    return { dir, config, schema };
  }

  /** SIGTERM to every gateway still running: each finishes its requests, flushes and exits 0. */
  async function stopAll(): Promise<void> {
    const running = gateways.filter((g) => g.child.exitCode === null && g.child.signalCode === null);
    for (const g of running) g.child.kill('SIGTERM');
    for (const g of running) expect(await g.exited, g.output()).toBe(0);
  }

  /** Gap-free indexes, every acknowledged call exactly once, and a full verify against the final checkpoint. */
  async function checkLog(config: string, schema: string, acknowledged: Set<string>): Promise<number> {
    const log = await logContents(TEST_DATABASE_URL, schema);
    const detail = `${JSON.stringify({ ...log, requestIds: log.requestIds.size })}; ${await unmatchedLeaves(schema)}`;
    expect(log.lastIndex + 1, `highest index + 1 = number of leaves: ${detail}`).toBe(log.leaves);
    expect(log.records, `records = leaves: ${detail}`).toBe(log.leaves);
    expect(log.headSize, `log head = leaves: ${detail}`).toBe(log.leaves);
    expect(log.checkpointSize, `newest checkpoint covers every leaf: ${detail}`).toBe(log.leaves);
    for (const id of acknowledged) expect(log.requestIds.get(id), id).toBe(1);
    expect([...log.requestIds.values()].every((n) => n === 1)).toBe(true);
    const reader = await openLedger(config, { readOnly: true, onWarning: () => undefined });
    try {
      expect(await reader.verify()).toMatchObject({ ok: true, size: log.leaves, verifiedSize: log.leaves });
    } finally {
      await reader.close();
    }
    return log.leaves;
  }

  it('take concurrent load: indexes are gap-free, every acknowledged call is stored once, verify passes', { timeout: 40_000 }, async () => {
    const { config, schema } = await startFour();
    const load = new CallLoad(
      gateways.map((g) => g.url),
      24,
    );
    await sleep(3000);
    await load.stop();
    await stopAll();
    expect(load.failed).toBe(0);
    expect(load.acknowledged.size).toBeGreaterThan(50);
    await checkLog(config, schema, load.acknowledged);
  });

  it(
    'survive one of them being killed mid-load (SIGKILL): the others go on where the log ends, nothing acknowledged is lost',
    { timeout: 40_000 },
    async () => {
      const { config, schema } = await startFour();
      const load = new CallLoad(
        gateways.map((g) => g.url),
        24,
      );
      await sleep(1000);
      const victim = gateways[1]!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const atKill = (await logContents(TEST_DATABASE_URL, schema)).headSize;
      // The others go on appending (and checkpointing) after whatever batch the killed one committed last.
      await sleep(1000);
      const after = await logContents(TEST_DATABASE_URL, schema);
      expect(after.headSize).toBeGreaterThan(atKill);
      expect(after.checkpointSize).toBeGreaterThan(0);
      const acknowledgedBeforeStop = load.acknowledged.size;
      await load.stop();
      await stopAll();
      expect(acknowledgedBeforeStop).toBeGreaterThan(50);
      await checkLog(config, schema, load.acknowledged);
    },
  );
});
