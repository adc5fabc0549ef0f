import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Ingest from './ingest.js';
import type { LatencyKind } from './latency-process.js';

// The child of latencyInOwnProcess: node latency-child.js <ledger|raw> <records per second> <seconds> [dist folder of another build]
const [kind, offered, seconds, build] = process.argv.slice(2) as [LatencyKind, string, string, string | undefined];
const ingest = (await import(build === undefined ? './ingest.js' : pathToFileURL(join(build, 'bench', 'ingest.js')).href)) as typeof Ingest;
const measure = kind === 'ledger' ? ingest.commitLatency : ingest.rawCommitLatency;
const result = await measure(Number(offered), Number(seconds));
process.send!(result, () => process.exit(0));
