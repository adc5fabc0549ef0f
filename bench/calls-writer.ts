import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RecordInput } from '../src/record/types.js';
import { callRecordsV1, callRecordV2, type RecordFormat } from './call-shapes.js';
import { answerParent } from './writer-child.js';

/**
 * One writer process of the per-call benchmarks (calls-postgres.ts, calls-verify.ts): opens a
 * ledger through a build's own library (`<dist>/index.js`, this build's or a baseline's), says
 * `ready`, on `go` records calls [from, to) in the form that build's gateway writes them
 * (call-shapes.ts), keeping `outstanding` calls in flight, and says `done` with the CPU
 * microseconds that took; closes on `close`. Started as
 * `node calls-writer.js <dist folder> <config file> <format 1|2> <policies 0|3> <salt> <from> <to> [outstanding]`.
 */

interface MinimalLedger {
  record(input: RecordInput): Promise<unknown>;
  recordAll(inputs: readonly RecordInput[]): Promise<unknown>;
  close(): Promise<void>;
}

const [dist, configPath, formatArg, policiesArg, salt, from, to, outstandingArg] = process.argv.slice(2);
if (!dist || !configPath || !formatArg || !policiesArg || !salt || from === undefined || to === undefined) {
  process.stderr.write('usage: calls-writer.js <dist folder> <config file> <format 1|2> <policies 0|3> <salt> <from> <to> [outstanding]\n');
  process.exit(2);
}
const format = Number(formatArg) as RecordFormat;
const options = { policies: (Number(policiesArg) === 3 ? 3 : 0) as 0 | 3, salt };
const outstanding = Number(outstandingArg ?? 1024);
const library = (await import(pathToFileURL(join(dist, 'index.js')).href)) as {
  openLedger(config: string, options: { onWarning: (message: string) => void }): Promise<MinimalLedger>;
};
const ledger = await library.openLedger(configPath, { onWarning: (message) => process.stderr.write(`warning: ${message}\n`) });

/** As the gateway hands a finished call over: one record (`record`), or the call's list (`recordAll`). */
const recordCall = (i: number): Promise<unknown> => (format === 2 ? ledger.record(callRecordV2(i, options)) : ledger.recordAll(callRecordsV1(i, options)));

function recordCalls(first: number, end: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = first;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < outstanding && next < end) {
        inFlight++;
        recordCall(next++).then(() => {
          inFlight--;
          if (next < end) pump();
          else if (inFlight === 0) resolve();
        }, reject);
      }
    };
    if (first >= end) resolve();
    else pump();
  });
}

await answerParent(ledger, () => recordCalls(Number(from), Number(to)));
