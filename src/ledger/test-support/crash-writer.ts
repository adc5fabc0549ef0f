/**
 * The child of the crash tests (see crash.ts): opens the ledger configured in argv[2] for writing
 * and records calls from argv[3] concurrent loops until it is killed. Prints `opening` once loaded,
 * `ready` once open (recovery included), then
 * `ack <id>` for each record as soon as `record()` resolves, so every id the parent reads was
 * acknowledged. Writes to a pipe are synchronous on Linux: a printed id reaches the parent even when
 * the kill follows at once.
 */
import { openLedger } from '../open-ledger.js';
import { sampleCall } from './fixtures.js';

const [configPath, loops = '8'] = process.argv.slice(2);
if (!configPath) throw new Error('usage: crash-writer <llm-ledger.yaml> [loops]');

const out = (line: string) => process.stdout.write(`${line}\n`);
out('opening');
const ledger = await openLedger(configPath, { onWarning: (message) => process.stderr.write(`warning: ${message}\n`) });
out('ready');

let next = 0;
async function loop(): Promise<never> {
  for (;;) {
    const i = next++;
    const { id } = await ledger.record(sampleCall(i, { requestId: `crash-${process.pid}-${i}` }));
    out(`ack ${id}`);
  }
}

try {
  await Promise.all(Array.from({ length: Number(loops) }, loop));
} catch (err) {
  process.stderr.write(`record failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
