import { describe, expect, it } from 'vitest';
import { crashSeed, runCrashes, writeCrashConfig } from './test-support/crash.js';
import { tempDir } from './test-support/fixtures.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const seed = crashSeed();

describe('kill -9 under load: JSONL', () => {
  it(`${KILLS} kills of a writer, one growing ledger, day files rotated every 64 KB (seed ${seed}): every acknowledged record is there, verify passes, the next open appends`, async () => {
    const dir = tempDir('llm-ledger-crash-jsonl-');
    // Small day files, so that batches also go to new files and a torn batch may be a file of its own.
    const configPath = writeCrashConfig(dir, { type: 'jsonl', path: 'jsonl', max_file_bytes: 65_536 });
    const summary = await runCrashes({ configPath, kills: KILLS, seed, log: (line) => console.log(`[crash jsonl] ${line}`) });
    expect(summary.failures).toEqual([]);
    expect(summary.kills).toHaveLength(KILLS);
    expect(summary.acknowledged).toBeGreaterThan(0);
  }, 600_000);
});
