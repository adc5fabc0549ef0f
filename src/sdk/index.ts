export { auditOpenAI } from './openai.js';
export { auditAnthropic } from './anthropic.js';
export { flushAudit } from './flush.js';
export type { AuditOptions, AuditedRequest, LedgerErrorInfo, PerRequest } from './options.js';
