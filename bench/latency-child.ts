import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Ingest from './ingest.js';
import type { LatencyKind } from './latency-process.js';

// The child of latencyInOwnProcess and ingestInOwnProcess:
//   node latency-child.js <ledger|raw> <records per second> <seconds> [the compiled benchmarks of another build]
//   node latency-child.js ingest <records> 0 [the compiled benchmarks of another build]
const [kind, amount, seconds, build] = process.argv.slice(2) as [LatencyKind | 'ingest', string, string, string | undefined];
const ingest = (await import(build === undefined ? './ingest.js' : pathToFileURL(join(build, 'ingest.js')).href)) as typeof Ingest;
const result =
  kind === 'ingest'
    ? { recordsPerSecond: await ingest.ledgerIngestRate(Number(amount)) }
    : await (kind === 'ledger' ? ingest.commitLatency : ingest.rawCommitLatency)(Number(amount), Number(seconds));
process.send!(result, () => process.exit(0));
