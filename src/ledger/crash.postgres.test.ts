import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, TestSchemas } from '../store/test-support/postgres.js';
import { crashSeed, runCrashes, writeCrashConfig } from './test-support/crash.js';
import { tempDir } from './test-support/fixtures.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const seed = crashSeed();
const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

describe('kill -9 under load: PostgreSQL', () => {
  it(`${KILLS} kills of a writer, one growing log (seed ${seed}): every acknowledged record is there, verify passes, the next open appends`, async () => {
    const dir = tempDir('llm-ledger-crash-postgres-');
    const configPath = writeCrashConfig(dir, { type: 'postgres', url: TEST_DATABASE_URL, schema: schemas.next() });
    const summary = await runCrashes({ configPath, kills: KILLS, seed, log: (line) => console.log(`[crash postgres] ${line}`) });
    expect(summary.failures).toEqual([]);
    expect(summary.kills).toHaveLength(KILLS);
    expect(summary.acknowledged).toBeGreaterThan(0);
  }, 600_000);
});
