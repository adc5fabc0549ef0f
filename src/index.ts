export { openLedger, type OpenLedgerOptions } from './ledger/open-ledger.js';
export {
  Ledger,
  type LedgerReader,
  LedgerError,
  LedgerIntegrityError,
  type LedgerParts,
  type RecordReceipt,
  type SearchOptions,
  type SearchResult,
} from './ledger/ledger.js';
export type { VerifyReport, VerifyProblem } from './ledger/verify.js';
export type { StatsReport, StatsRow, StatsGroup } from './ledger/stats.js';
export type { AnomalyOptions, AnomalyReport, TokenAnomaly, NewKey, ErrorSpike, AnomalyGroup } from './ledger/anomalies.js';
export { verifyProof, serializeProof, PROOF_FORMAT, type ProofBundle, type ProofVerification } from './log/proof.js';
export { RecordValidationError, type RecordIssue } from './record/errors.js';
export type { CallEvent, Envelope, LoggedRecord, RecordInput, RecordKind, RecordStatus, TimelineEntry } from './record/types.js';
export { eventEnvelope, timelineOf } from './record/call-events.js';
export type { Store, SearchFilter } from './store/store.js';
export { StoreError } from './store/store.js';
export { loadConfig } from './config/load.js';
export { ConfigError } from './config/errors.js';
export type { LedgerConfig } from './config/schema.js';
export { auditOpenAI, auditAnthropic, flushAudit, type AuditOptions, type AuditedRequest, type LedgerErrorInfo, type PerRequest } from './sdk/index.js';
