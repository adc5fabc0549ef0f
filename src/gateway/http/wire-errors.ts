import type { EndpointName, ProviderName } from '../../providers/types.js';

/**
 * An error the gateway itself answers with (bad request, unknown key, timeout, ledger down), in
 * the wire format of the endpoint called, so the client's SDK reads it as it reads the provider's.
 */
export interface GatewayError {
  status: number;
  /** OpenAI's `error.type` / Anthropic's `error.type`. */
  type: string;
  message: string;
  /** More fields of the error object, e.g. the policy that blocked and the trace id. */
  details?: Record<string, string>;
}

export function gatewayErrorBody(format: ProviderName, error: GatewayError): string {
  if (format === 'anthropic') return JSON.stringify({ type: 'error', error: { type: error.type, message: error.message, ...error.details } });
  return JSON.stringify({ error: { message: error.message, type: error.type, param: null, code: error.type, ...error.details } });
}

/**
 * The same error as an SSE event that ends a stream already under way, as each API sends its own
 * mid-stream errors (the official SDKs raise them as errors): chat and legacy completions a data
 * event with `error`, the Responses API an `error` event, Anthropic an `error` event.
 */
export function streamErrorEvent(format: ProviderName, endpoint: EndpointName, error: GatewayError): string {
  if (endpoint === 'responses') {
    return `event: error\ndata: ${JSON.stringify({ type: 'error', code: error.type, message: error.message, param: null, ...error.details })}\n\n`;
  }
  return `${format === 'anthropic' ? 'event: error\n' : ''}data: ${gatewayErrorBody(format, error)}\n\n`;
}

export const badRequest = (message: string): GatewayError => ({ status: 400, type: 'invalid_request_error', message });
export const unauthorized = (message: string): GatewayError => ({ status: 401, type: 'authentication_error', message });
