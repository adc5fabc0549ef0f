import type { ProviderName } from '../providers/types.js';

/**
 * An error the gateway itself answers with (bad request, unknown key, timeout, ledger down), in
 * the wire format of the endpoint called, so the client's SDK reads it as it reads the provider's.
 */
export interface GatewayError {
  status: number;
  /** OpenAI's `error.type` / Anthropic's `error.type`. */
  type: string;
  message: string;
}

export function gatewayErrorBody(format: ProviderName, error: GatewayError): string {
  if (format === 'anthropic') return JSON.stringify({ type: 'error', error: { type: error.type, message: error.message } });
  return JSON.stringify({ error: { message: error.message, type: error.type, param: null, code: error.type } });
}

export const badRequest = (message: string): GatewayError => ({ status: 400, type: 'invalid_request_error', message });
export const unauthorized = (message: string): GatewayError => ({ status: 401, type: 'authentication_error', message });
