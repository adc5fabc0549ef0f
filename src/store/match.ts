import { hasEventType } from '../record/call-events.js';
import type { Envelope } from '../record/types.js';
import type { SearchFilter } from './store.js';

/** The filter semantics every store must share; stores without a query engine use it directly. */
export function matchesFilter(e: Envelope, f: SearchFilter): boolean {
  return (
    (f.since === undefined || e.ts >= f.since) &&
    (f.until === undefined || e.ts < f.until) &&
    (f.model === undefined || e.model === f.model) &&
    (f.provider === undefined || e.provider === f.provider) &&
    (f.user === undefined || e.user === f.user) &&
    (f.session === undefined || e.session === f.session) &&
    (f.conversation === undefined || e.conversation === f.conversation) &&
    (f.keyPrefix === undefined || (e.apiKeyPrefix !== undefined && e.apiKeyPrefix.startsWith(f.keyPrefix))) &&
    (f.status === undefined || e.status === f.status) &&
    (f.kind === undefined || e.kind === f.kind) &&
    (f.eventType === undefined || hasEventType(e, f.eventType)) &&
    (f.traceId === undefined || e.traceId === f.traceId) &&
    (f.requestId === undefined || e.requestId === f.requestId)
  );
}
