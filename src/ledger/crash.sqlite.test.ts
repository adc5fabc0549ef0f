import { describe, expect, it } from 'vitest';
import { crashSeed, runCrashes, writeCrashConfig } from './test-support/crash.js';
import { tempDir } from './test-support/fixtures.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const seed = crashSeed();

describe('kill -9 under load: SQLite', () => {
  it(`${KILLS} kills of a writer, one growing ledger (seed ${seed}): every acknowledged record is there, verify passes, the next open appends`, async () => {
    const dir = tempDir('llm-ledger-crash-sqlite-');
    const configPath = writeCrashConfig(dir, { type: 'sqlite', path: 'ledger.db' });
    const summary = await runCrashes({ configPath, kills: KILLS, seed, log: (line) => console.log(`[crash sqlite] ${line}`) });
    expect(summary.failures).toEqual([]);
    expect(summary.kills).toHaveLength(KILLS);
    expect(summary.acknowledged).toBeGreaterThan(0);
  }, 600_000);

  it(`${KILLS} kills of two writer processes appending to one file at once (seed ${seed}): neither wedges, every acknowledged record is there once, verify passes`, async () => {
    const dir = tempDir('llm-ledger-crash-sqlite-two-');
    const configPath = writeCrashConfig(dir, { type: 'sqlite', path: 'ledger.db' });
    const summary = await runCrashes({
      configPath,
      kills: KILLS,
      seed,
      writers: 2,
      loops: 4,
      killAfterReadyMs: [300, 1800],
      log: (line) => console.log(`[crash sqlite, two writers] ${line}`),
    });
    expect(summary.failures).toEqual([]);
    expect(summary.acknowledged).toBeGreaterThan(0);
  }, 600_000);
});
