import { openLedger } from '../src/ledger/open-ledger.js';
import { recordAll } from './ingest.js';
import { answerParent } from './writer-child.js';

/**
 * One writer process of the PostgreSQL bench (see postgres.ts): opens the shared ledger, says
 * `ready`, records calls [from, to) on `go`, says `done` with the CPU microseconds that took, and
 * closes on `close`. Started as `node postgres-writer.js <config file> <from> <to>`.
 */
const [configPath, from, to] = process.argv.slice(2);
if (!configPath || from === undefined || to === undefined) {
  process.stderr.write('usage: postgres-writer.js <config file> <from> <to>\n');
  process.exit(2);
}
const ledger = await openLedger(configPath, { onWarning: (message) => process.stderr.write(`warning: ${message}\n`) });
await answerParent(ledger, () => recordAll(ledger, Number(from), Number(to)));
