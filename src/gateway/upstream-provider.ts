import type { ProviderName } from '../providers/types.js';

/** One upstream as the gateway uses it. The key is only ever put into an outgoing request header. */
export interface UpstreamProvider {
  name: string;
  format: ProviderName;
  /** Origin and path prefix that `/v1/...` is appended to, without a trailing slash. */
  baseUrl: string;
  apiKey?: string;
}
