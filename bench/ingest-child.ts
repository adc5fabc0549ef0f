/**
 * One writer process of the multi-process ingest scenario (see ingest-processes.ts): opens the
 * bench ledger in argv[2] with the run's key (BENCH_SIGNER_KEY), prints `ready`, waits for a line
 * on stdin, records calls [from, from + count) and prints `seconds <s>`.
 */
import { once } from 'node:events';
import { openBenchLedger, recordAll } from './ingest.js';

const [dir, from, count] = process.argv.slice(2);
const signerKey = process.env.BENCH_SIGNER_KEY;
if (!dir || !from || !count || !signerKey) throw new Error('usage: BENCH_SIGNER_KEY=<key> ingest-child <dir> <from> <count>');
const ledger = await openBenchLedger(dir, 'hash-only', signerKey);
process.stdout.write('ready\n');
await once(process.stdin, 'data');
const start = performance.now();
await recordAll(ledger, Number(from), Number(from) + Number(count));
const seconds = (performance.now() - start) / 1000;
await ledger.close();
process.stdout.write(`seconds ${seconds}\n`);
