/** Verify reports and proof checks as text, for the CLI and the MCP server. */
import type { VerifyReport } from './verify.js';
import type { ProofVerification } from '../log/proof.js';
import { printable } from './printable.js';

export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(verifiedSummary(report));
  } else {
    lines.push(`FAILED: the log was altered${report.firstBadIndex === null ? '' : `; first bad index ${report.firstBadIndex}`}.`);
    for (const p of report.problems) lines.push(`  - [${p.kind}]${p.index === undefined ? '' : ` index ${p.index}:`} ${printable(p.message)}`);
  }
  for (const w of report.warnings) lines.push(`warning: ${printable(w)}`);
  return lines.join('\n');
}

/**
 * What was checked, in one line: every record is covered by a signed checkpoint or head when the
 * report is OK, and how many also by the anchor, which only a writer cut off from it could not reach.
 */
export function verifiedSummary(report: VerifyReport): string {
  const anchor = report.anchor === null ? 'no anchor is configured' : `${report.coveredByAnchor} by the anchor's checkpoints`;
  const pruned =
    report.prunedBelow > 0 ? `; records below index ${report.prunedBelow} were pruned by retention, as signed, and checked by their leaf hashes` : '';
  return `OK: ${report.size} records verified: ${report.coveredBySignature} covered by signed checkpoints, ${anchor} (${report.checkpointsChecked} stored and ${report.anchoredCheckpointsChecked} anchored checkpoint(s) checked)${pruned}.`;
}

export function formatProofVerification(result: ProofVerification): string {
  if (!result.ok) return `INVALID: ${printable(result.reason)}`;
  const trust = result.trustedKey ? 'signed by the trusted key' : `signed by ${printable(result.verifierKey)} (pass --key to require a trusted key)`;
  return `VALID: record ${printable(result.id)} is at index ${result.index} of the ${printable(result.origin)} log of size ${result.treeSize}, ${trust}.`;
}
