import { auditorOf } from './instrument.js';

/**
 * Resolves once every call made so far through an audited client (or its `withOptions` clones)
 * is recorded and committed, or its failure reported to `onLedgerError`. A stream counts once it
 * has ended or was cut off. Call it before closing the ledger or exiting.
 */
export async function flushAudit(client: object): Promise<void> {
  const auditor = auditorOf(client);
  if (!auditor) throw new TypeError('llm-ledger: flushAudit needs a client returned by auditOpenAI or auditAnthropic');
  await auditor.flush();
}
