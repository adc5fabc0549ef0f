import { commitLatency, rawCommitLatency } from './ingest.js';
import type { LatencyKind } from './latency-process.js';

// The child of latencyInOwnProcess: node latency-child.js <ledger|raw> <records per second> <seconds>
const [kind, offered, seconds] = process.argv.slice(2) as [LatencyKind, string, string];
const measure = kind === 'ledger' ? commitLatency : rawCommitLatency;
const result = await measure(Number(offered), Number(seconds));
process.send!(result, () => process.exit(0));
