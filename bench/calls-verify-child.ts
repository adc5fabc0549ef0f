import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Verifies a ledger with a build's own library, in a fresh process (as `llm-ledger verify` runs):
 * `node calls-verify-child.js <dist folder> <config file>`. Opens it read-only, times a full
 * `verify`, then counts its `llm.call` records (stats, outside the timing) and prints one JSON
 * line: `{ seconds, ok, size, verifiedSize, calls, problems }`.
 */

interface MinimalReader {
  verify(): Promise<{ ok: boolean; size: number; verifiedSize: number; problems: unknown[] }>;
  stats(): Promise<{ totals: { requests: number } }>;
  close(): Promise<void>;
}

const [dist, configPath] = process.argv.slice(2);
if (!dist || !configPath) {
  process.stderr.write('usage: calls-verify-child.js <dist folder> <config file>\n');
  process.exit(2);
}
const library = (await import(pathToFileURL(join(dist, 'index.js')).href)) as {
  openLedger(config: string, options: { readOnly: boolean; onWarning: (message: string) => void }): Promise<MinimalReader>;
};
const ledger = await library.openLedger(configPath, { readOnly: true, onWarning: () => undefined });
try {
  const start = performance.now();
  const report = await ledger.verify();
  const seconds = (performance.now() - start) / 1000;
  const calls = (await ledger.stats()).totals.requests;
  const problems = report.problems.slice(0, 3).map((p) => JSON.stringify(p));
  process.stdout.write(`${JSON.stringify({ seconds, ok: report.ok, size: report.size, verifiedSize: report.verifiedSize, calls, problems })}\n`);
} finally {
  await ledger.close();
}
