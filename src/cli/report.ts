import type { VerifyReport } from '../ledger/verify.js';
import type { ProofVerification } from '../log/proof.js';
import { printable } from './text.js';

export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(
      `OK: ${report.size} records verified against ${report.checkpointsChecked} stored and ${report.anchoredCheckpointsChecked} anchored checkpoint(s); the tree of size ${report.verifiedSize} matches.`,
    );
  } else {
    lines.push(`FAILED: the log was altered${report.firstBadIndex === null ? '' : `; first bad index ${report.firstBadIndex}`}.`);
    for (const p of report.problems) lines.push(`  - [${p.kind}]${p.index === undefined ? '' : ` index ${p.index}:`} ${printable(p.message)}`);
  }
  for (const w of report.warnings) lines.push(`warning: ${printable(w)}`);
  return lines.join('\n');
}

export function formatProofVerification(result: ProofVerification): string {
  if (!result.ok) return `INVALID: ${printable(result.reason)}`;
  const trust = result.trustedKey ? 'signed by the trusted key' : `signed by ${printable(result.verifierKey)} (pass --key to require a trusted key)`;
  return `VALID: record ${printable(result.id)} is at index ${result.index} of the ${printable(result.origin)} log of size ${result.treeSize}, ${trust}.`;
}
