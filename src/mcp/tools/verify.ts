import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { verifiedSummary } from '../../ledger/report-text.js';
import { printable } from '../../ledger/printable.js';
import type { LedgerReader } from '../../ledger/ledger.js';
import type { VerifyReport } from '../../ledger/verify.js';
import { guarded, toolResult } from '../results.js';
import { verifyInput, verifyOutput } from '../schemas.js';
import { READ_ONLY } from './read-only.js';

export function registerVerifyTool(server: McpServer, ledger: LedgerReader): void {
  server.registerTool(
    'audit_verify',
    {
      title: 'Verify the audit log',
      description:
        'Recompute the Merkle tree from every stored record and check it against every signed checkpoint, in the database and at the anchor. ' +
        'Reports ok, the first bad index and the problems found (changed, missing, inserted or reordered records, truncation). Takes seconds on a large ledger.',
      inputSchema: verifyInput,
      outputSchema: verifyOutput,
      annotations: READ_ONLY,
    },
    () =>
      guarded(async () => {
        const report = await ledger.verify();
        return toolResult(summarise(report), { ...report });
      }),
  );
}

function summarise(report: VerifyReport): string {
  const lines = report.ok
    ? [verifiedSummary(report)]
    : [
        `FAILED: the log was altered${report.firstBadIndex === null ? '' : `; first bad index ${report.firstBadIndex}`}.`,
        ...report.problems.map((p) => `- [${p.kind}]${p.index === undefined ? '' : ` index ${p.index}:`} ${printable(p.message)}`),
      ];
  return [...lines, ...report.warnings.map((w) => `warning: ${printable(w)}`)].join('\n');
}
